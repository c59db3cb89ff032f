"""One-step MDRNN inference and sampling for performance.

Two interchangeable networks take one event and return the mixture for the next,
carrying LSTM state from call to call:

- `NumpyMDRNN` (default) is the LSTM stack and MDN head of imps/model.py's equations
  written out in numpy. A step is
  about 60,000 multiply-adds for the `s` model: a Keras call spends milliseconds on
  dispatch around microseconds of arithmetic, and importing TensorFlow takes seconds.
- `KerasMDRNN` runs the same weights through the Keras model, for comparison and tests.

`Predictor` scales an event, steps the network and samples the next event.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import SCALE, SIGMA_EPSILON
from .weights import KERAS2_HARD_SIGMOID, MDRNNWeights

NUMPY_ENGINE = "numpy"
KERAS_ENGINE = "keras"
ENGINES = (NUMPY_ENGINE, KERAS_ENGINE)


@dataclass
class Mixture:
    mus: np.ndarray  # (n_mixtures, dimension)
    sigmas: np.ndarray  # (n_mixtures, dimension)
    pi_logits: np.ndarray  # (n_mixtures,), or (n_mixtures, dimension) with a mixture for each value


class NumpyMDRNN:
    """The MDRNN's one-step forward pass in numpy, state carried between calls.

    Written for the fewest numpy calls per step, since at these sizes each call's
    overhead outweighs its arithmetic: the input and recurrent kernels are stacked so
    one product serves both; the gate columns are reordered to i, f, o, g so that one
    activation covers the three gates; and the logistic gates use
    sigmoid(z) = (tanh(z / 2) + 1) / 2 with the halving folded into the weights, so a
    single tanh serves gates and cell input alike. Keras 2's hard-sigmoid gates
    (0.2 z + 0.5, clipped) likewise have their 0.2 folded in.
    """

    def __init__(self, weights: MDRNNWeights, dtype=np.float32):
        self.dimension = weights.dimension
        self.n_mixtures = weights.n_mixtures
        self.units = u = weights.units
        self.dtype = dtype
        self._pi_shape = (self.n_mixtures, self.dimension) if weights.per_value else (self.n_mixtures,)
        self._hard_gates = weights.gate_activation == KERAS2_HARD_SIGMOID
        gate_scale = 0.2 if self._hard_gates else 0.5
        order = np.r_[0:2 * u, 3 * u:4 * u, 2 * u:3 * u]  # Keras's i, f, c, o becomes i, f, o, c
        scale = np.ones(4 * u, dtype)
        scale[:3 * u] = gate_scale
        self._layers = []
        n_in = self.dimension
        for lstm in weights.lstms:
            kernel = np.vstack([lstm.kernel, lstm.recurrent_kernel]).astype(dtype)[:, order] * scale
            bias = lstm.bias.astype(dtype)[order] * scale
            self._layers.append((n_in, kernel, bias, np.empty(n_in + u, dtype), np.empty(4 * u, dtype),
                                 np.empty(u, dtype)))
            n_in = u
        self._head = np.hstack([weights.mus.kernel, weights.sigmas.kernel, weights.pis.kernel]).astype(dtype)
        self._head_bias = np.concatenate([weights.mus.bias, weights.sigmas.bias, weights.pis.bias]).astype(dtype)
        self.reset()

    def reset(self) -> None:
        self._h = [np.zeros(self.units, self.dtype) for _ in self._layers]
        self._c = [np.zeros(self.units, self.dtype) for _ in self._layers]

    def step(self, x: np.ndarray) -> Mixture:
        u = self.units
        out = x
        for layer, (n_in, kernel, bias, xh, z, scratch) in enumerate(self._layers):
            h, c = self._h[layer], self._c[layer]
            xh[:n_in] = out
            xh[n_in:] = h
            np.dot(xh, kernel, out=z)
            z += bias
            gates = z[:3 * u]
            if self._hard_gates:
                np.tanh(z[3 * u:], out=z[3 * u:])
                gates += 0.5
                np.clip(gates, 0.0, 1.0, out=gates)
            else:
                np.tanh(z, out=z)
                gates *= 0.5
                gates += 0.5
            c *= z[u:2 * u]  # forget
            np.multiply(z[:u], z[3 * u:], out=scratch)  # input gate times cell input
            c += scratch
            np.tanh(c, out=h)
            h *= z[2 * u:3 * u]  # output gate
            out = h
        params = np.dot(out, self._head)
        params += self._head_bias
        k, d = self.n_mixtures, self.dimension
        sig = params[k * d:2 * k * d]
        # keras-mdn-layer's sigma activation: ELU + 1 + epsilon.
        sigmas = np.where(sig > 0, sig, np.expm1(np.minimum(sig, 0.0))).astype(np.float64)
        sigmas += 1.0 + SIGMA_EPSILON
        return Mixture(params[:k * d].reshape(k, d).astype(np.float64), sigmas.reshape(k, d),
                       params[2 * k * d:].reshape(self._pi_shape).astype(np.float64))


class KerasMDRNN:
    """The same step through a Keras model (imports TensorFlow: seconds to start)."""

    def __init__(self, weights: MDRNNWeights):
        from . import keras_model

        self.dimension = weights.dimension
        self.n_mixtures = weights.n_mixtures
        self.units = weights.units
        self._pi_shape = (self.n_mixtures, self.dimension) if weights.per_value else (self.n_mixtures,)
        self.model = keras_model.build_mdrnn(weights.config, stateful_io=True, gate_activation=weights.gate_activation)
        keras_model.set_weights(self.model, weights)
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
        return Mixture(params[:k * d].reshape(k, d), params[k * d:2 * k * d].reshape(k, d),
                       params[2 * k * d:].reshape(self._pi_shape))


def make_network(weights: MDRNNWeights, engine: str):
    if engine == NUMPY_ENGINE:
        return NumpyMDRNN(weights)
    if engine == KERAS_ENGINE:
        return KerasMDRNN(weights)
    raise ValueError(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}")


def sample(mixture: Mixture, pi_temp: float, sigma_temp: float, rng: np.random.Generator) -> np.ndarray:
    """Draw one event: a component from softmax(pi_logits / pi_temp), then a normal
    around its means whose variance is scaled by sigma_temp (as IMPS and
    keras-mdn-layer define the temperatures). Zero temperatures give the most likely
    component and its mean. With a mixture for each value, each value draws its own."""
    logits = mixture.pi_logits
    if logits.ndim == 2:
        return _sample_each_value(mixture, pi_temp, sigma_temp, rng)
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


def _sample_each_value(mixture: Mixture, pi_temp: float, sigma_temp: float, rng: np.random.Generator) -> np.ndarray:
    logits = mixture.pi_logits  # (n_mixtures, dimension)
    columns = np.arange(logits.shape[1])
    if pi_temp > 0:
        cumulative = np.cumsum(np.exp((logits - logits.max(axis=0)) / pi_temp), axis=0)
        draws = rng.random(logits.shape[1]) * cumulative[-1]
        components = np.minimum((cumulative <= draws).sum(axis=0), logits.shape[0] - 1)
    else:
        components = np.argmax(logits, axis=0)
    mean = mixture.mus[components, columns]
    if sigma_temp <= 0:
        return mean.copy()
    return mean + mixture.sigmas[components, columns] * np.sqrt(sigma_temp) * rng.standard_normal(mean.shape[0])


class Predictor:
    """Event in, next event out, in the musician's units: [dt seconds, x1, ..., xN]."""

    def __init__(self, network, pi_temp: float, sigma_temp: float, seed: int | None = None):
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
