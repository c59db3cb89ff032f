"""Durations counted in fixed memory: a histogram whose bins are each 1% wider than the
one before, so a server that plays for days keeps its lateness figures in the same few
kilobytes as one that played for a minute, and reads back any percentile within 0.5%."""

from __future__ import annotations

import math

import numpy as np

SMALLEST = 1e-6  # seconds: anything shorter (or negative) shares the first bin, read back as 0
LARGEST = 1e4  # seconds: anything longer shares the last bin
RATIO = 1.01  # each bin's upper edge over its lower
_LOG_RATIO = math.log(RATIO)
BINS = math.ceil(math.log(LARGEST / SMALLEST) / _LOG_RATIO)


class SecondsHistogram:
    """Durations in seconds: how many, the longest, and percentiles from the bins."""

    def __init__(self):
        # [shorter than SMALLEST, BINS bins from SMALLEST to LARGEST, longer than LARGEST]
        self._bins = np.zeros(BINS + 2, np.int64)
        self.count = 0
        self.longest = 0.0

    def add(self, seconds: float) -> None:
        self.count += 1
        self.longest = max(self.longest, seconds)
        if seconds < SMALLEST:
            index = 0
        else:
            index = min(int(math.log(seconds / SMALLEST) / _LOG_RATIO) + 1, BINS + 1)
        self._bins[index] += 1

    def percentile(self, q: float) -> float:
        """The duration at or below which `q`% (0-100) of them fall (nearest rank): the
        geometric middle of its bin, never more than the longest; 0 below SMALLEST; at 100,
        the longest exactly."""
        if not self.count:
            raise ValueError("no durations counted")
        rank = max(1, math.ceil(q / 100 * self.count))
        if rank >= self.count:
            return self.longest
        index = int(np.searchsorted(np.cumsum(self._bins), rank))
        if index == 0:
            return 0.0
        return min(SMALLEST * RATIO ** (index - 0.5), self.longest)
