"""The one-step engines agree with each other and sample the right distribution."""

import numpy as np
import pytest

from conftest import LEGACY_DATASET_4D, LEGACY_MODEL_2D_XS, LEGACY_WEIGHTS_4D_S
from imps.engine import KerasMDRNN, Mixture, NumpyMDRNN, Predictor, make_network, sample
from imps.model import DEFAULT_SAMPLING, SCALE, SIZES
from imps.weights import MDRNNWeights, load_weights


def performance_like(n, dimension, seed=0):
    """Events as a musician makes them: short positive gaps, values in [0, 1]."""
    rng = np.random.default_rng(seed)
    values = np.clip(np.cumsum(rng.normal(0, 0.05, (n, dimension - 1)), axis=0) % 1.0, 0, 1)
    return np.column_stack([rng.exponential(0.05, n), values])


def max_difference(a: Mixture, b: Mixture) -> float:
    return max(np.abs(a.mus - b.mus).max(), np.abs(a.sigmas - b.sigmas).max(),
               np.abs(a.pi_logits - b.pi_logits).max())


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


FIXED = Mixture(mus=np.array([[0.0, 1.0], [10.0, -4.0], [3.0, 3.0]]),
                sigmas=np.array([[1.0, 0.5], [2.0, 1.0], [0.1, 0.1]]),
                pi_logits=np.log(np.array([0.5, 0.3, 0.2])))


def mixture_moments(mixture, pi_temp, sigma_temp):
    pis = np.exp(mixture.pi_logits / pi_temp)
    pis /= pis.sum()
    mean = pis @ mixture.mus
    second = pis @ (mixture.sigmas ** 2 * sigma_temp + mixture.mus ** 2)
    return mean, second - mean ** 2


@pytest.mark.parametrize("pi_temp,sigma_temp", [(1.0, 1.0), (0.5, 0.01), (2.0, 4.0)])
def test_sampling_matches_the_mixture_mean_and_variance(pi_temp, sigma_temp):
    rng = np.random.default_rng(1234)
    draws = np.array([sample(FIXED, pi_temp, sigma_temp, rng) for _ in range(40000)])
    mean, variance = mixture_moments(FIXED, pi_temp, sigma_temp)
    assert (np.abs(draws.mean(0) - mean) <= 4 * np.sqrt(variance / len(draws))).all()
    np.testing.assert_allclose(draws.var(0), variance, rtol=0.05)


def test_zero_temperatures_give_the_most_likely_mean():
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(sample(FIXED, 0.0, 0.0, rng), FIXED.mus[0])


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


def test_make_network_names_the_engines():
    weights = MDRNNWeights.random(2, SIZES["xxs"])
    assert isinstance(make_network(weights, "numpy"), NumpyMDRNN)
    assert isinstance(make_network(weights, "keras"), KerasMDRNN)
    with pytest.raises(ValueError, match="numpy, keras"):
        make_network(weights, "torch")


def test_numpy_engine_equals_keras_with_a_mixture_for_each_value():
    weights = MDRNNWeights.random(9, SIZES["xs"], seed=5, per_value=True)
    numpy_net, keras_net = NumpyMDRNN(weights), KerasMDRNN(weights)
    worst = 0.0
    for event in performance_like(300, 9) * SCALE:
        a, b = numpy_net.step(event), keras_net.step(event)
        assert a.pi_logits.shape == b.pi_logits.shape == (5, 9)
        worst = max(worst, max_difference(a, b))
    assert worst <= 1e-5


# Each value's own mixture: the first value's components are 0 and 10, the second's 1 and -4,
# with different weights, so that a draw shows which component each value took.
PER_VALUE = Mixture(mus=np.array([[0.0, 1.0], [10.0, -4.0]]), sigmas=np.array([[1.0, 0.5], [2.0, 1.0]]),
                    pi_logits=np.log(np.array([[0.8, 0.3], [0.2, 0.7]])))


def test_each_value_draws_its_own_component():
    rng = np.random.default_rng(7)
    draws = np.array([sample(PER_VALUE, 1.0, 1e-6, rng) for _ in range(20000)])
    # With a mixture over the whole event the two would go together; here they are independent.
    first_high, second_low = draws[:, 0] > 5, draws[:, 1] < -1.5
    assert first_high.mean() == pytest.approx(0.2, abs=0.015) and second_low.mean() == pytest.approx(0.7, abs=0.015)
    assert (first_high & second_low).mean() == pytest.approx(0.2 * 0.7, abs=0.015)
    for pi_temp, sigma_temp in ((1.0, 1.0), (0.5, 0.25)):
        draws = np.array([sample(PER_VALUE, pi_temp, sigma_temp, rng) for _ in range(40000)])
        for value in range(2):
            column = Mixture(PER_VALUE.mus[:, value:value + 1], PER_VALUE.sigmas[:, value:value + 1],
                             PER_VALUE.pi_logits[:, value])
            mean, variance = mixture_moments(column, pi_temp, sigma_temp)
            assert abs(draws[:, value].mean() - mean[0]) <= 4 * np.sqrt(variance[0] / len(draws))
            assert draws[:, value].var() == pytest.approx(variance[0], rel=0.05)


def test_zero_temperatures_give_each_values_most_likely_mean():
    np.testing.assert_array_equal(sample(PER_VALUE, 0.0, 0.0, np.random.default_rng(0)), [0.0, -4.0])
