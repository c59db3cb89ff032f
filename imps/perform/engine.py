"""One-step MDRNN inference for performance.

A network takes one event and returns the mixture for the next, carrying LSTM state
from call to call. `NumpyMDRNN` is the LSTM stack and MDN head of imps/core/model.py's
equations written out in numpy. A step is about 60,000 multiply-adds for the `s`
model: a Keras call spends milliseconds on dispatch around microseconds of arithmetic,
and importing TensorFlow takes seconds. (`KerasMDRNN`, in imps/learn/keras_model.py,
runs the same weights through Keras, for comparison and tests: `--engine keras`.)

`Predictor` scales an event, steps a network and samples the next event.
"""

from __future__ import annotations

import numpy as np

from ..core.model import SIGMA_EPSILON, Mixture, sample
from ..core.weights import KERAS2_HARD_SIGMOID, MDRNNWeights


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
        self.scale = weights.config.scale
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
        scale = self.network.scale
        mixture = self.network.step(np.asarray(event, np.float64) * scale)
        return sample(mixture, self.pi_temp, self.sigma_temp, self.rng) / scale
