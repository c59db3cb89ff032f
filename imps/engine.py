"""One-step MDRNN inference and sampling for performance.

Two interchangeable networks take one event and return the mixture for the next,
carrying LSTM state from call to call:

- `NumpyMDRNN` (default) is the LSTM stack and MDN head written out in numpy. A step is
  about 60,000 multiply-adds for the `s` model: a Keras call spends milliseconds on
  dispatch around microseconds of arithmetic, and importing TensorFlow takes seconds.
- `KerasMDRNN` runs the same weights through the Keras model, for comparison and tests.

`Predictor` scales an event, steps the network and samples the next event.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .sizes import SCALE
from .weights import KERAS2_HARD_SIGMOID, MDRNNWeights

ENGINES = ("numpy", "keras")
MDN_SIGMA_EPSILON = 1e-7  # keras-mdn-layer adds keras.backend.epsilon() to ELU + 1


@dataclass
class Mixture:
    mus: np.ndarray  # (n_mixtures, dimension)
    sigmas: np.ndarray  # (n_mixtures, dimension)
    pi_logits: np.ndarray  # (n_mixtures,)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _keras2_hard_sigmoid(x: np.ndarray) -> np.ndarray:
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)


class NumpyMDRNN:
    """The MDRNN's one-step forward pass in numpy, state carried between calls."""

    def __init__(self, weights: MDRNNWeights):
        self.dimension = weights.dimension
        self.n_mixtures = weights.n_mixtures
        self.units = weights.units
        self._gate = _keras2_hard_sigmoid if weights.gate_activation == KERAS2_HARD_SIGMOID else _sigmoid
        # [x, h] @ [kernel; recurrent_kernel] is one matrix product per layer instead of two.
        self._lstms = [(np.vstack([l.kernel, l.recurrent_kernel]).astype(np.float64), l.bias.astype(np.float64))
                       for l in weights.lstms]
        # The three MDN heads as one product: columns are mus, sigmas, pi logits.
        self._head = np.hstack([weights.mus.kernel, weights.sigmas.kernel, weights.pis.kernel]).astype(np.float64)
        self._head_bias = np.concatenate([weights.mus.bias, weights.sigmas.bias, weights.pis.bias]).astype(np.float64)
        self.reset()

    def reset(self) -> None:
        self._h = [np.zeros(self.units) for _ in self._lstms]
        self._c = [np.zeros(self.units) for _ in self._lstms]

    def step(self, x: np.ndarray) -> Mixture:
        u = self.units
        out = np.asarray(x, dtype=np.float64).reshape(-1)
        for layer, (kernel, bias) in enumerate(self._lstms):
            z = np.concatenate([out, self._h[layer]]) @ kernel + bias
            i = self._gate(z[:u])
            f = self._gate(z[u:2 * u])
            o = self._gate(z[3 * u:])
            c = f * self._c[layer] + i * np.tanh(z[2 * u:3 * u])
            out = o * np.tanh(c)
            self._c[layer] = c
            self._h[layer] = out
        params = out @ self._head + self._head_bias
        k, d = self.n_mixtures, self.dimension
        sig = params[k * d:2 * k * d]
        sigmas = np.where(sig > 0, sig, np.expm1(np.minimum(sig, 0))) + 1.0 + MDN_SIGMA_EPSILON
        return Mixture(params[:k * d].reshape(k, d), sigmas.reshape(k, d), params[2 * k * d:])


class KerasMDRNN:
    """The same step through a Keras model (imports TensorFlow: seconds to start)."""

    def __init__(self, weights: MDRNNWeights):
        import keras

        from . import model
        from .sizes import ModelSize

        self._keras = keras
        self.dimension = weights.dimension
        self.n_mixtures = weights.n_mixtures
        self.units = weights.units
        size = ModelSize("custom", weights.units, weights.layers)
        self.model = model.build_mdrnn(weights.dimension, size, stateful_io=True,
                                       gate_activation=weights.gate_activation)
        model.set_weights(self.model, weights)
        self._n_states = 2 * weights.layers
        self.reset()

    def reset(self) -> None:
        self._states = [np.zeros((1, self.units), np.float32) for _ in range(self._n_states)]

    def step(self, x: np.ndarray) -> Mixture:
        event = np.asarray(x, np.float32).reshape(1, 1, self.dimension)
        outputs = self.model([event, *self._states], training=False)
        self._states = [np.asarray(s) for s in outputs[1:]]
        params = np.asarray(outputs[0], np.float64).reshape(-1)
        k, d = self.n_mixtures, self.dimension
        return Mixture(params[:k * d].reshape(k, d), params[k * d:2 * k * d].reshape(k, d), params[2 * k * d:])


def make_network(weights: MDRNNWeights, engine: str = "numpy"):
    if engine == "numpy":
        return NumpyMDRNN(weights)
    if engine == "keras":
        return KerasMDRNN(weights)
    raise ValueError(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}")


def sample(mixture: Mixture, pi_temp: float, sigma_temp: float, rng: np.random.Generator) -> np.ndarray:
    """Draw one event: a component from softmax(pi_logits / pi_temp), then a normal
    around its means whose variance is scaled by sigma_temp (as IMPS and
    keras-mdn-layer define the temperatures). Zero temperatures give the most likely
    component and its mean."""
    logits = mixture.pi_logits
    if pi_temp > 0:
        weights = np.exp((logits - logits.max()) / pi_temp)
        cumulative = np.cumsum(weights)
        component = min(int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right")),
                        len(logits) - 1)
    else:
        component = int(np.argmax(logits))
    mean = mixture.mus[component]
    if sigma_temp <= 0:
        return mean.copy()
    return mean + mixture.sigmas[component] * np.sqrt(sigma_temp) * rng.standard_normal(mean.shape[0])


class Predictor:
    """Event in, next event out, in the musician's units: [dt seconds, x1, ..., xN]."""

    def __init__(self, network, pi_temp: float = 1.0, sigma_temp: float = 0.01, seed: int | None = None):
        self.network = network
        self.pi_temp = pi_temp
        self.sigma_temp = sigma_temp
        self.rng = np.random.default_rng(seed)

    @property
    def dimension(self) -> int:
        return self.network.dimension

    def predict(self, event: np.ndarray) -> np.ndarray:
        mixture = self.network.step(np.asarray(event, np.float64) * SCALE)
        return sample(mixture, self.pi_temp, self.sigma_temp, self.rng) / SCALE
