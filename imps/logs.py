"""Performance logs: written through as events happen, read back line by line.

A log line is `ISO-timestamp,source,x1,...,xN` with source `interface` (the musician)
or `rnn` (the model), the format the original IMPS wrote.
"""

from __future__ import annotations

import datetime as dt_module
import math
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from .names import TIMESTAMP_FORMAT, log_dimension, log_name

SOURCES = ("interface", "rnn")


class PerformanceLog:
    """One log file per performance. Each line reaches the operating system as soon as
    it is written (line buffering), so a crash loses at most the line being written.
    The OSC (or MIDI) thread and the player thread both write, hence the lock."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._file = open(self.path, "x", buffering=1, encoding="utf-8")
        self._lock = threading.Lock()
        self.lines = 0

    @classmethod
    def start(cls, logs_dir: Path | str, dimension: int, now: dt_module.datetime | None = None) -> "PerformanceLog":
        """A new log in `logs_dir` named after the time, never overwriting another."""
        logs_dir = Path(logs_dir)
        logs_dir.mkdir(parents=True, exist_ok=True)
        stamp = (now or dt_module.datetime.now()).strftime(TIMESTAMP_FORMAT)
        candidate = logs_dir / log_name(stamp, dimension)
        n = 1
        while True:
            try:
                return cls(candidate)
            except FileExistsError:
                n += 1
                candidate = logs_dir / log_name(f"{stamp}-{n}", dimension)

    def write(self, source: str, values: Sequence[float], when: dt_module.datetime | None = None) -> None:
        stamp = (when or dt_module.datetime.now()).isoformat()
        # The shortest text that reads back as the same 32-bit float OSC carried.
        line = ",".join([stamp, source, *(str(np.float32(v)) for v in values)]) + "\n"
        with self._lock:
            if not self._file.closed:
                self._file.write(line)
                self.lines += 1

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.close()


@dataclass
class LogEvent:
    time: float  # seconds since the epoch
    source: str
    values: list[float]


@dataclass
class LogContents:
    events: list[LogEvent] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)  # reason -> lines


class BadLine(ValueError):
    """A line that is not a usable log line; `reason` says why, in a few words."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def read_log(path: Path | str, n_values: int) -> LogContents:
    """Every well-formed line with `n_values` values; the rest are counted by reason, so
    a truncated last line, stray text or another dimension's lines never stop a read."""
    contents = LogContents()
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                contents.events.append(parse_line(line, n_values))
            except BadLine as bad:
                contents.skipped[bad.reason] += 1
    return contents


def parse_line(line: str, n_values: int | None) -> LogEvent:
    """One line of a log as a LogEvent, or BadLine. `n_values` None takes any number."""
    if not line.endswith("\n"):
        raise BadLine("unfinished last line")
    fields = line.strip().split(",")
    if len(fields) < 2:
        raise BadLine("not a log line")
    try:
        when = dt_module.datetime.fromisoformat(fields[0]).timestamp()
    except ValueError:
        raise BadLine("bad timestamp") from None
    if fields[1] not in SOURCES:
        raise BadLine("unknown source")
    if n_values is not None and len(fields) - 2 != n_values:
        raise BadLine(f"wrong number of values (not {n_values})")
    try:
        values = [float(v) for v in fields[2:]]
    except ValueError:
        raise BadLine("non-numeric value") from None
    if not all(math.isfinite(v) for v in values):
        raise BadLine("non-finite value")
    return LogEvent(when, fields[1], values)


def values_per_line(path: Path | str) -> int | None:
    """How many values each line of the log at `path` has: from its name
    (`...-{D}d-mdrnn.log`), or else from its first usable line; None if it has none."""
    dimension = log_dimension(Path(path).name)
    if dimension is not None and dimension >= 2:
        return dimension - 1
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                values = parse_line(line, None).values
            except BadLine:
                continue
            if values:
                return len(values)
    return None
