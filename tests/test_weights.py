"""Reading MDRNN weights from every kind of file IMPS users have."""

import h5py
import numpy as np
import pytest

from conftest import LEGACY_DATASET_4D, LEGACY_MODEL_2D_XS, LEGACY_WEIGHTS_4D_S
from imps.engine import NumpyMDRNN
from imps.sizes import SIZES, weights_path
from imps.weights import (KERAS2_HARD_SIGMOID, SIGMOID, MDRNNWeights, WeightsError, choose_weights,
                          load_weights)


def test_original_weights_only_file_loads_as_size_s():
    w = load_weights(LEGACY_WEIGHTS_4D_S)
    assert (w.dimension, w.layers, w.units, w.n_mixtures) == (4, 2, 64, 5)
    assert w.mus.kernel.shape == (64, 20) and w.sigmas.kernel.shape == (64, 20) and w.pis.kernel.shape == (64, 5)
    assert w.gate_activation == KERAS2_HARD_SIGMOID
    with h5py.File(LEGACY_WEIGHTS_4D_S) as f:
        np.testing.assert_array_equal(w.lstms[1].recurrent_kernel, f["lstm1/lstm1/recurrent_kernel:0"][()])
        np.testing.assert_array_equal(w.pis.bias, f["td_mdn/td_mdn/pis/bias:0"][()])


def test_original_whole_model_file_loads_as_size_xs():
    w = load_weights(LEGACY_MODEL_2D_XS)
    assert (w.dimension, w.layers, w.units, w.n_mixtures) == (2, 2, 32, 5)
    assert w.gate_activation == KERAS2_HARD_SIGMOID  # its model_config says hard_sigmoid
    with h5py.File(LEGACY_MODEL_2D_XS) as f:
        np.testing.assert_array_equal(w.sigmas.kernel, f["model_weights/td_mdn/td_mdn/kernel_1:0"][()])


def _mean_nll(weights, performance):
    """Mean negative log-likelihood of each next event under the model, in scaled units."""
    net = NumpyMDRNN(weights)
    events = performance * 10.0
    total = 0.0
    for t in range(len(events) - 1):
        m = net.step(events[t])
        y = events[t + 1]
        log_components = (-0.5 * len(y) * np.log(2 * np.pi) - np.log(m.sigmas).sum(1)
                          - 0.5 * (((y - m.mus) / m.sigmas) ** 2).sum(1))
        log_pi = m.pi_logits - np.logaddexp.reduce(m.pi_logits)
        total -= np.logaddexp.reduce(log_pi + log_components)
    return total / (len(events) - 1)


def test_original_weights_fit_real_performances_only_with_keras2_gates():
    """The original IMPS trained under Keras 2, whose LSTM gates were hard_sigmoid
    (0.2 x + 0.5). With those gates its weights explain real performances far better
    than with the logistic sigmoid: evidence that the gate is read right."""
    performance = np.load(LEGACY_DATASET_4D, allow_pickle=True)["perfs"][0][:400]
    w = load_weights(LEGACY_WEIGHTS_4D_S)
    hard = _mean_nll(w, performance)
    w.gate_activation = SIGMOID
    logistic = _mean_nll(w, performance)
    assert hard < logistic - 1.0


@pytest.mark.parametrize("size", list(SIZES))
def test_random_weights_have_the_size_asked_for(size):
    w = MDRNNWeights.random(5, SIZES[size], seed=3)
    assert (w.dimension, w.layers, w.units, w.n_mixtures) == (5, SIZES[size].layers, SIZES[size].units, 5)
    w.check_matches(5, SIZES[size], "x")
    np.testing.assert_array_equal(w.lstms[0].bias[SIZES[size].units:2 * SIZES[size].units], 1.0)


def test_mismatched_weights_name_both_shapes():
    w = load_weights(LEGACY_WEIGHTS_4D_S)
    with pytest.raises(WeightsError, match=r"dimension 4, 2 layers of 64 units.*dimension 9 size xs needs 2 layers of 32"):
        w.check_matches(9, SIZES["xs"], LEGACY_WEIGHTS_4D_S)
    with pytest.raises(WeightsError, match="--dimension=4"):
        w.check_matches(3, None, LEGACY_WEIGHTS_4D_S)


def test_missing_corrupt_and_foreign_files_give_clear_errors(tmp_path):
    with pytest.raises(WeightsError, match="does not exist"):
        load_weights(tmp_path / "nothing.h5")
    corrupt = tmp_path / "corrupt.h5"
    corrupt.write_bytes(LEGACY_WEIGHTS_4D_S.read_bytes()[:5000])
    with pytest.raises(WeightsError, match="not a readable HDF5"):
        load_weights(corrupt)
    text = tmp_path / "notes.h5"
    text.write_text("not weights at all")
    with pytest.raises(WeightsError, match="not a readable HDF5"):
        load_weights(text)
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["data"] = np.zeros(3)
    with pytest.raises(WeightsError, match="no Keras model weights"):
        load_weights(foreign)


def test_inconsistent_shapes_are_refused(tmp_path):
    bad = tmp_path / "bad.h5"
    with h5py.File(LEGACY_WEIGHTS_4D_S) as src, h5py.File(bad, "w") as dst:
        for key, value in src.attrs.items():
            dst.attrs[key] = value
        for name in ("inputs", "lstm0", "lstm1", "td_mdn"):
            src.copy(src[name], dst, name)
        del dst["lstm1/lstm1/kernel:0"]
        dst["lstm1/lstm1/kernel:0"] = np.zeros((10, 256), np.float32)
    with pytest.raises(WeightsError, match="inconsistent layer shapes"):
        load_weights(bad)


def test_choose_weights_prefers_trained_files_and_says_when_untrained(tmp_path):
    size = SIZES["s"]
    weights, message, trained = choose_weights(4, size, models_dir=tmp_path)
    assert not trained and "UNTRAINED" in message
    assert str(weights_path(tmp_path, 4, size)) in message
    assert weights.dimension == 4 and weights.units == 64

    legacy_name = tmp_path / "musicMDRNN-dim4-layers2-units64-mixtures5-scale10.h5"
    legacy_name.symlink_to(LEGACY_WEIGHTS_4D_S)
    weights, message, trained = choose_weights(4, size, models_dir=tmp_path)
    assert trained and str(legacy_name) in message
    assert weights.gate_activation == KERAS2_HARD_SIGMOID

    weights, message, trained = choose_weights(2, SIZES["s"], models_dir=tmp_path, model_file=LEGACY_MODEL_2D_XS)
    assert trained and weights.units == 32  # a named file may be any size
    with pytest.raises(WeightsError, match="--dimension"):
        choose_weights(9, size, models_dir=tmp_path, model_file=LEGACY_MODEL_2D_XS)
