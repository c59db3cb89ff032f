"""imps.learn.keras_model: the Keras MDRNN built from a ModelConfig, weights in and out, saving."""

import h5py
import numpy as np
import pytest

from conftest import LEGACY_WEIGHTS_4D_S
from imps.core.errors import WeightsError
from imps.core.model import SEQ_LEN, SIZES
from imps.core.weights import MDRNNWeights, load_weights
from imps.learn import keras_model as model


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


def test_a_mixture_for_each_value_has_k_logits_for_each_and_round_trips(tmp_path):
    size = SIZES["xxs"]
    config = size.config(4, per_value=True)
    m = model.build_mdrnn(config)
    assert m.output_shape == (None, None, 3 * 4 * config.mixtures)
    original = MDRNNWeights.random(4, size, seed=3, per_value=True)
    model.set_weights(m, original)
    loaded = load_weights(model.save_weights(m, tmp_path / "w.weights.h5"))
    assert loaded.per_value and loaded.config == config and loaded.n_mixtures == config.mixtures
    np.testing.assert_array_equal(loaded.pis.kernel, original.pis.kernel)
    assert not load_weights(LEGACY_WEIGHTS_4D_S).per_value


def test_the_loss_of_a_mixture_for_each_value_is_its_negative_log_likelihood():
    rng = np.random.default_rng(0)
    k, d = 3, 2
    mu, sigma, logits = rng.normal(size=(k, d)), rng.uniform(0.5, 2, (k, d)), rng.normal(size=(k, d))
    y = rng.normal(size=d)
    params = np.concatenate([mu.ravel(), sigma.ravel(), logits.ravel()]).astype(np.float32)[None, None]
    pis = np.exp(logits) / np.exp(logits).sum(axis=0)
    density = (pis * np.exp(-0.5 * ((y - mu) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))).sum(axis=0)
    loss = model.per_value_mixture_loss(d, k)(y.astype(np.float32)[None, None], params)
    assert float(loss) == pytest.approx(-np.log(density).sum(), rel=1e-5)


def test_weights_whose_logits_fit_neither_head_are_refused(tmp_path):
    path = model.save_weights(model.build_mdrnn(SIZES["xxs"].config(4, per_value=True)), tmp_path / "w.weights.h5")
    with h5py.File(path, "a") as f:
        pi = f["layers/time_distributed/layer/mdn_pi/vars"]
        kernel, bias = np.asarray(pi["0"])[:, :7], np.asarray(pi["1"])[:7]  # 7 logits: neither 5 nor 5 x 4
        del pi["0"], pi["1"]
        pi["0"], pi["1"] = kernel, bias
    with pytest.raises(WeightsError, match=r"inconsistent layer shapes \(\(16, 7\) where \(16, 20\) belongs\)"):
        load_weights(path)
