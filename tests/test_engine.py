"""imps.perform.engine: the numpy engine agrees with Keras (imps.learn.keras_model), and
the Predictor works in the musician's units."""

import numpy as np
import pytest

from conftest import LEGACY_DATASET_4D, LEGACY_MODEL_2D_XS, LEGACY_WEIGHTS_4D_S
from imps.core.model import DEFAULT_SAMPLING, SCALE, SIZES, Mixture
from imps.core.weights import MDRNNWeights, load_weights
from imps.learn.keras_model import KerasMDRNN
from imps.perform.engine import NumpyMDRNN, Predictor


def performance_like(n, dimension, seed=0):
    """Events as a musician makes them: short positive gaps, values in [0, 1]."""
    rng = np.random.default_rng(seed)
    values = np.clip(np.cumsum(rng.normal(0, 0.05, (n, dimension - 1)), axis=0) % 1.0, 0, 1)
    return np.column_stack([rng.exponential(0.05, n), values])


def max_difference(a: Mixture, b: Mixture) -> float:
    return max(np.abs(a.mus - b.mus).max(), np.abs(a.sigmas - b.sigmas).max(),
               np.abs(a.pi_logits - b.pi_logits).max())


@pytest.mark.slow
@pytest.mark.parametrize("size", list(SIZES))
def test_numpy_engine_equals_keras_over_1000_steps(size):
    weights = MDRNNWeights.random(9, SIZES[size], seed=11)
    numpy_net, keras_net = NumpyMDRNN(weights), KerasMDRNN(weights)
    worst = 0.0
    for event in performance_like(1000, 9) * SCALE:
        worst = max(worst, max_difference(numpy_net.step(event), keras_net.step(event)))
    assert worst <= 1e-5


@pytest.mark.parametrize("path", [LEGACY_WEIGHTS_4D_S, LEGACY_MODEL_2D_XS])
def test_numpy_engine_equals_keras_on_original_weights(path):
    """Original IMPS weights saturate their cells (|c| reaches hundreds), so Keras's
    float32 arithmetic carries a relative, not absolute, error of about 1e-6."""
    weights = load_weights(path)
    numpy_net, keras_net = NumpyMDRNN(weights), KerasMDRNN(weights)
    events = np.load(LEGACY_DATASET_4D, allow_pickle=True)["perfs"][0][:300, :weights.dimension] * SCALE
    for event in events:
        a, b = numpy_net.step(event), keras_net.step(event)
        for x, y in ((a.mus, b.mus), (a.sigmas, b.sigmas), (a.pi_logits, b.pi_logits)):
            np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-5)


def test_reset_forgets_state():
    net = NumpyMDRNN(MDRNNWeights.random(3, SIZES["xs"], seed=1))
    first = net.step(np.ones(3))
    net.step(np.zeros(3))
    net.reset()
    again = net.step(np.ones(3))
    np.testing.assert_array_equal(first.mus, again.mus)


def test_sigmas_are_positive_and_shapes_right():
    m = NumpyMDRNN(MDRNNWeights.random(4, SIZES["xxs"])).step(np.full(4, 5.0))
    assert m.mus.shape == (5, 4) and m.sigmas.shape == (5, 4) and m.pi_logits.shape == (5,)
    assert (m.sigmas > 0).all()


def test_predictor_works_in_musicians_units():
    weights = MDRNNWeights.random(3, SIZES["xxs"], seed=2)
    predictor = Predictor(NumpyMDRNN(weights), pi_temp=0.0, sigma_temp=0.0, seed=0)
    reference = NumpyMDRNN(weights)
    event = np.array([0.1, 0.5, 0.25])
    expected = reference.step(event * SCALE)
    np.testing.assert_allclose(predictor.predict(event),
                               expected.mus[np.argmax(expected.pi_logits)] / SCALE)
    assert predictor.dimension == 3


def test_seeded_predictors_repeat_themselves():
    weights = MDRNNWeights.random(3, SIZES["xxs"], seed=2)
    runs = []
    for _ in range(2):
        p = Predictor(NumpyMDRNN(weights), DEFAULT_SAMPLING.pi_temp, DEFAULT_SAMPLING.sigma_temp, seed=99)
        runs.append([p.predict(e) for e in performance_like(20, 3)])
    np.testing.assert_array_equal(runs[0], runs[1])


def test_numpy_engine_equals_keras_with_a_mixture_for_each_value():
    weights = MDRNNWeights.random(9, SIZES["xs"], seed=5, per_value=True)
    numpy_net, keras_net = NumpyMDRNN(weights), KerasMDRNN(weights)
    worst = 0.0
    for event in performance_like(300, 9) * SCALE:
        a, b = numpy_net.step(event), keras_net.step(event)
        assert a.pi_logits.shape == b.pi_logits.shape == (5, 9)
        worst = max(worst, max_difference(a, b))
    assert worst <= 1e-5
