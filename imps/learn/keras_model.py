"""The MDRNN in Keras (imps/core/model.py states it): stacked LSTMs feeding a
keras-mdn-layer MDN head, built from a ModelConfig.

One builder serves training (windows of events) and performance (one event at a time,
LSTM state passed in and out), so both have the same layers and names and take the
same weights.
"""

from __future__ import annotations

import math
from pathlib import Path

import h5py
import keras
import keras_mdn_layer as mdn
import numpy as np
from keras import ops
from keras.src.saving import saving_lib

from ..core.errors import WeightsError
from ..core.model import Mixture, ModelConfig
from ..core.weights import GATE_ATTRIBUTE, KERAS2_HARD_SIGMOID, SIGMOID, MDRNNWeights, describe, hdf5_written_whole


def keras2_hard_sigmoid(x):
    """The gate Keras 2 LSTMs used by default (Keras 3's hard_sigmoid has another slope)."""
    return ops.clip(0.2 * x + 0.5, 0.0, 1.0)


GATES = {SIGMOID: "sigmoid", KERAS2_HARD_SIGMOID: keras2_hard_sigmoid}


class PerValueMDN(mdn.MDN):
    """keras-mdn-layer's head with K logits for each value (imps/core/model.py): the same
    sub-layers and names, so its weights are read and written as the MDN's are."""

    def __init__(self, output_dimension, num_mixtures, **kwargs):
        super().__init__(output_dimension, num_mixtures, **kwargs)
        self.mdn_pi = keras.layers.Dense(num_mixtures * output_dimension, name="mdn_pi")

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 3 * self.output_dim * self.num_mix)


def per_value_mixture_loss(dimension: int, mixtures: int):
    """The negative log-likelihood of imps/core/model.py's mixture for each value, averaged
    over the steps of a batch: -sum_d log sum_k softmax_k(pi_{.d}) N(y_d; mu_kd, sigma_kd^2)."""
    def loss(y_true, y_pred):
        params = ops.reshape(y_pred, (-1, 3, mixtures, dimension))  # mu, sigma, pi: each K x D
        mu, sigma, pi_logits = params[:, 0], params[:, 1], params[:, 2]
        y = ops.reshape(y_true, (-1, 1, dimension))
        log_normal = -0.5 * math.log(2 * math.pi) - ops.log(sigma) - 0.5 * ops.square((y - mu) / sigma)
        log_each = ops.logsumexp(ops.log_softmax(pi_logits, axis=1) + log_normal, axis=1)
        return -ops.mean(ops.sum(log_each, axis=-1))
    return loss


def build_mdrnn(config: ModelConfig, stateful_io: bool = False, gate_activation: str = SIGMOID,
                dropout: float = 0.0) -> keras.Model:
    """The MDRNN, for windows of any length. With `stateful_io` the model takes
    `[event, h0, c0, h1, c1, ...]` for a single event (batch 1, time 1) and returns
    `[mixture_params, h0', c0', ...]`. `dropout` drops that share of each LSTM's inputs
    and recurrent state while training; it changes no weight, so it never reaches a file."""
    seq_len = 1 if stateful_io else None
    inputs = keras.Input(shape=(seq_len, config.dimension), name="inputs", batch_size=1 if stateful_io else None)
    state_inputs = []
    new_states = []
    x = inputs
    for i in range(config.layers):
        lstm = keras.layers.LSTM(config.units, return_sequences=True, return_state=stateful_io,
                                 recurrent_activation=GATES[gate_activation], dropout=dropout,
                                 recurrent_dropout=dropout, name=f"lstm{i}")
        if stateful_io:
            h = keras.Input(shape=(config.units,), batch_size=1, name=f"h{i}")
            c = keras.Input(shape=(config.units,), batch_size=1, name=f"c{i}")
            state_inputs += [h, c]
            x, h_out, c_out = lstm(x, initial_state=[h, c])
            new_states += [h_out, c_out]
        else:
            x = lstm(x)
    head = PerValueMDN if config.per_value else mdn.MDN
    params = keras.layers.TimeDistributed(head(config.dimension, config.mixtures, name="mdn_outputs"),
                                          name="td_mdn")(x)
    if stateful_io:
        return keras.Model([inputs, *state_inputs], [params, *new_states], name="mdrnn_step")
    return keras.Model(inputs, params, name="mdrnn")


def compile_for_training(model: keras.Model, config: ModelConfig, learning_rate: float,
                         clipnorm: float | None = None) -> None:
    """The mixture's negative log-likelihood as the loss, Adam as the optimiser;
    `clipnorm` caps the norm of each weight's gradient."""
    model.compile(loss=mixture_loss(config), optimizer=keras.optimizers.Adam(learning_rate=learning_rate,
                                                                             clipnorm=clipnorm))


def mixture_loss(config: ModelConfig):
    """The loss of the model's head: keras-mdn-layer's, or a mixture's for each value."""
    if config.per_value:
        return per_value_mixture_loss(config.dimension, config.mixtures)
    return mdn.get_mixture_loss_func(config.dimension, config.mixtures)


def set_weights(model: keras.Model, weights: MDRNNWeights) -> None:
    """Put plain weights into a model built by build_mdrnn with the same size."""
    try:
        for i, lstm in enumerate(weights.lstms):
            model.get_layer(f"lstm{i}").set_weights([lstm.kernel, lstm.recurrent_kernel, lstm.bias])
        model.get_layer("td_mdn").set_weights([weights.mus.kernel, weights.mus.bias, weights.sigmas.kernel,
                                               weights.sigmas.bias, weights.pis.kernel, weights.pis.bias])
    except ValueError as error:
        raise WeightsError(f"weights of {describe(weights.config)} do not fit this model ({error})") from None


def save_weights(model: keras.Model, path: Path | str, gate_activation: str = SIGMOID) -> Path:
    """Write the model's weights to `path` (Keras 3's .weights.h5) completely or not at
    all (hdf5_written_whole). A model with Keras 2's gates (one fine-tuned from original
    IMPS weights) says so in the file, so that it performs with the gates it was trained
    with."""
    with hdf5_written_whole(path) as buffer:
        # What model.save_weights does, into memory: it only takes a path, and HDF5
        # writing to a disk that refuses a write brings the process down.
        store = saving_lib.H5IOStore(buffer, mode="w")
        saving_lib._save_state(model, weights_store=store, assets_store=None, inner_path="", visited_saveables=set())
        store.close()
        if gate_activation != SIGMOID:
            with h5py.File(buffer, "a") as f:
                f.attrs[GATE_ATTRIBUTE] = gate_activation
    return Path(path)


class KerasMDRNN:
    """imps/perform/engine.py's NumpyMDRNN step through this Keras model instead: the
reference the numpy engine is tested against, and the server's --engine keras."""

    def __init__(self, weights: MDRNNWeights):
        self.dimension = weights.dimension
        self.scale = weights.config.scale
        self.n_mixtures = weights.n_mixtures
        self.units = weights.units
        self._pi_shape = (self.n_mixtures, self.dimension) if weights.per_value else (self.n_mixtures,)
        self.model = build_mdrnn(weights.config, stateful_io=True, gate_activation=weights.gate_activation)
        set_weights(self.model, weights)
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
