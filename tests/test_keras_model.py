"""imps.keras_model: the Keras MDRNN built from a ModelConfig, weights in and out, saving."""

import numpy as np
import pytest

from conftest import LEGACY_WEIGHTS_4D_S
from imps import keras_model as model
from imps.errors import WeightsError
from imps.model import SEQ_LEN, SIZES
from imps.weights import MDRNNWeights, load_weights


@pytest.mark.parametrize("size", list(SIZES))
def test_training_model_shapes(size):
    config = SIZES[size].config(9)
    m = model.build_mdrnn(config)
    assert m.input_shape == (None, None, 9)  # windows of any length
    assert m.output_shape == (None, None, 2 * 9 * config.mixtures + config.mixtures)
    assert [layer.name for layer in m.layers if layer.name.startswith("lstm")] == \
        [f"lstm{i}" for i in range(SIZES[size].layers)]


def test_step_model_carries_state_in_and_out():
    size = SIZES["xs"]
    m = model.build_mdrnn(size.config(3), stateful_io=True)
    states = [np.zeros((1, size.units), np.float32)] * 4
    outputs = m([np.ones((1, 1, 3), np.float32), *states], training=False)
    assert len(outputs) == 5
    assert tuple(outputs[0].shape) == (1, 1, 2 * 3 * 5 + 5)
    assert all(tuple(s.shape) == (1, size.units) for s in outputs[1:])
    assert np.abs(np.asarray(outputs[1])).sum() > 0


def test_weights_round_trip_through_keras_file(tmp_path):
    size = SIZES["xxs"]
    original = MDRNNWeights.random(4, size, seed=7)
    m = model.build_mdrnn(size.config(4))
    model.set_weights(m, original)
    path = model.save_weights(m, tmp_path / "sub" / "w.weights.h5")
    assert sorted(p.name for p in path.parent.iterdir()) == ["w.weights.h5"]  # no temporary file left
    loaded = load_weights(path)
    for a, b in zip(original.lstms + [original.mus, original.sigmas, original.pis],
                    loaded.lstms + [loaded.mus, loaded.sigmas, loaded.pis]):
        for name in vars(a):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    np.testing.assert_array_equal(m.get_layer("lstm1").get_weights()[2], original.lstms[1].bias)
    np.testing.assert_array_equal(m.get_layer("td_mdn").get_weights()[4], original.pis.kernel)


def test_keras_loads_its_own_weights_file_as_our_reader_does(tmp_path):
    """Our h5py reader and Keras's load_weights agree on the same file."""
    size = SIZES["xxs"]
    m = model.build_mdrnn(size.config(3))
    path = model.save_weights(m, tmp_path / "w.weights.h5")
    other = model.build_mdrnn(size.config(3))
    other.load_weights(path)
    ours = model.build_mdrnn(size.config(3))
    model.set_weights(ours, load_weights(path))
    windows = np.random.default_rng(0).random((2, SEQ_LEN, 3)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(other(windows)), np.asarray(ours(windows)), atol=1e-6)


def test_original_weights_go_into_a_keras3_model():
    weights = load_weights(LEGACY_WEIGHTS_4D_S)
    m = model.build_mdrnn(SIZES["s"].config(4), gate_activation=weights.gate_activation)
    model.set_weights(m, weights)
    np.testing.assert_array_equal(m.get_layer("lstm0").get_weights()[0], weights.lstms[0].kernel)


def test_weights_of_another_size_do_not_fit():
    m = model.build_mdrnn(SIZES["xs"].config(4))
    with pytest.raises(WeightsError, match="do not fit"):
        model.set_weights(m, load_weights(LEGACY_WEIGHTS_4D_S))


def test_keras2_hard_sigmoid_is_the_keras2_slope():
    x = np.array([-5.0, -2.5, 0.0, 1.0, 2.5, 5.0], np.float32)
    np.testing.assert_allclose(np.asarray(model.keras2_hard_sigmoid(x)), [0.0, 0.0, 0.5, 0.7, 1.0, 1.0], atol=1e-7)
