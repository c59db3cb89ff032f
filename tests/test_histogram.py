"""Durations in fixed memory: percentiles within half a percent of numpy's, whatever the count."""

import numpy as np
import pytest

from imps.perform.histogram import LARGEST, SecondsHistogram


def test_percentiles_agree_with_the_exact_ones_within_half_a_percent():
    rng = np.random.default_rng(0)
    durations = rng.lognormal(np.log(0.0003), 1.0, 20_000)  # lateness-like: a fraction of a millisecond
    histogram = SecondsHistogram()
    for seconds in durations:
        histogram.add(seconds)
    assert histogram.count == len(durations)
    assert histogram.longest == durations.max()
    for q in (1, 50, 90, 99, 99.9):
        exact = np.percentile(durations, q, method="inverted_cdf")
        assert histogram.percentile(q) == pytest.approx(exact, rel=0.005)
    assert histogram.percentile(100) == durations.max()


def test_memory_stays_the_same_however_many_are_counted():
    histogram = SecondsHistogram()
    size = histogram._bins.nbytes
    for seconds in np.linspace(0, 2 * LARGEST, 100_000):
        histogram.add(seconds)
    assert histogram._bins.nbytes == size < 20_000
    assert histogram.count == 100_000
    assert histogram.percentile(100) == 2 * LARGEST  # beyond the last bin: the longest, exactly


def test_below_a_microsecond_and_negative_read_back_as_zero():
    histogram = SecondsHistogram()
    for seconds in (-0.001, 0.0, 5e-7):
        histogram.add(seconds)
    histogram.add(0.002)
    assert histogram.percentile(75) == 0.0
    assert histogram.percentile(99) == pytest.approx(0.002, rel=0.005)


def test_an_empty_histogram_has_no_percentiles():
    with pytest.raises(ValueError, match="no durations"):
        SecondsHistogram().percentile(50)
