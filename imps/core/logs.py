"""Performance logs: written through as events happen, read back line by line.

A log line is `ISO-timestamp,source,x1,...,xN` with source `interface` (the musician)
or `rnn` (the model), the format the original IMPS wrote. A command given while playing
(/mode, /reset, /pause) is a line `ISO-timestamp,command,name[,argument]`: the reader
passes over it without counting it as a bad line, and the original IMPS's reader, which
keeps only `interface` lines, does too.
"""

from __future__ import annotations

import datetime as dt_module
import itertools
import math
import os
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from .errors import reason_of
from .names import TIMESTAMP_FORMAT, log_dimension, log_name
from .notices import LogContinued, LogWriteFailed, Notice, say

SOURCES = ("interface", "rnn")
COMMAND = "command"  # the source of a command's line, which is not an event


class PerformanceLog:
    """The log of a performance: one file, or with `max_bytes` a series of files, each a
    log of its own named after the time of its first line. Each line reaches the
    operating system whole, in one unbuffered write, as soon as it is written, so a crash
    loses at most the line being written. The OSC (or MIDI) thread and the player thread
    both write, hence the lock.

    When a write fails (a full disk, a limit on file size), the file is cut back to its
    last whole line and nothing more is written to it: a retry would append after a torn
    line. The log tells `notify` once, and counts the lines it does not write; the
    performance plays on."""

    def __init__(self, path: Path | str, max_bytes: int | None = None, notify: Callable[[Notice], None] = say):
        self.path = self.first_path = Path(path)
        self.dimension = log_dimension(self.path.name)
        if max_bytes is not None and self.dimension is None:
            raise ValueError(f"a log split at a size needs a name that gives its dimension, not {self.path.name}")
        self.max_bytes = max_bytes
        self.notify = notify
        self._file = open(self.path, "xb", buffering=0)
        self._size = 0  # bytes in the file now, all of them whole lines
        self._lock = threading.Lock()
        self._closed = False
        self.lines = 0  # written, in every file
        self.files = 1
        self.failure: str | None = None  # why writing stopped, once it has
        self.unwritten = 0  # lines not written since

    @classmethod
    def start(cls, logs_dir: Path | str, dimension: int, now: dt_module.datetime | None = None,
              max_bytes: int | None = None, notify: Callable[[Notice], None] = say) -> "PerformanceLog":
        """A new log in `logs_dir` named after the time, never overwriting another."""
        logs_dir = Path(logs_dir)
        logs_dir.mkdir(parents=True, exist_ok=True)
        for candidate in _names(logs_dir, dimension, now or dt_module.datetime.now()):
            try:
                return cls(candidate, max_bytes, notify)
            except FileExistsError:
                continue

    def write(self, source: str, values: Sequence[float], when: dt_module.datetime | None = None) -> None:
        # The shortest text that reads back as the same 32-bit float OSC carried.
        self._write_text(",".join([source, *(str(np.float32(v)) for v in values)]), when)

    def command(self, *words: str) -> None:
        """A command given while playing, such as `mode battle`, in time order with the events."""
        self._write_text(",".join([COMMAND, *words]), None)

    def _write_text(self, text: str, when: dt_module.datetime | None) -> None:
        notices = []
        with self._lock:
            if self._closed:
                return
            if self.failure is not None:
                self.unwritten += 1
                return
            when = when or dt_module.datetime.now()  # taken in turn, so a file's lines are in time order
            line = f"{when.isoformat()},{text}\n".encode()
            try:
                if self.max_bytes is not None and self._size and self._size + len(line) > self.max_bytes:
                    notices.append(self._next_file(when))
                self._write_whole(line)
                self.lines += 1
            except OSError as error:
                self.unwritten += 1
                notices.append(self._failed(error))
        for notice in notices:
            self.notify(notice)

    def _write_whole(self, line: bytes) -> None:
        """The line, or (cutting back whatever part of it went) OSError."""
        done = 0
        try:
            while done < len(line):
                done += self._file.write(line[done:])
        except OSError:
            if done:
                try:
                    os.ftruncate(self._file.fileno(), self._size)
                except OSError:
                    pass  # the torn line stays last, where a reader skips an unfinished line
            raise
        self._size += len(line)

    def _next_file(self, when: dt_module.datetime) -> LogContinued:
        """Close this file and go on in a new one named after `when`; tell which."""
        full = self.path
        self._file.close()  # unbuffered: nothing is left to write
        for candidate in _names(self.path.parent, self.dimension, when):
            try:
                self._file = open(candidate, "xb", buffering=0)
                break
            except FileExistsError:
                continue
        self.path, self._size = candidate, 0
        self.files += 1
        return LogContinued(full, self.max_bytes, self.path)

    def close(self) -> None:
        notice = None
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._file.close()
            except OSError as error:
                notice = self._failed(error)
        if notice is not None:
            self.notify(notice)

    def _failed(self, error: OSError) -> LogWriteFailed | None:
        """Stop writing, for the reason `error` gives; what to tell the first time."""
        if self.failure is not None:
            return None
        self.failure = reason_of(error)
        path = error.filename or self.path  # a new file that could not be made names itself
        return LogWriteFailed(Path(path), self.failure)

    def summary(self) -> str:
        """How many lines went where, and how many did not."""
        where = self.path if self.files == 1 else f"{self.files} files, {self.first_path} to {self.path}"
        text = f"{self.lines} lines logged to {where}"
        if self.failure is not None:
            text += f"; {self.unwritten} lines NOT logged after writing failed ({self.failure})"
        return text


def _names(logs_dir: Path, dimension: int, when: dt_module.datetime) -> Iterator[Path]:
    """Where a log begun at `when` may go: named after the time, then -2, -3, ... after
    it for others begun in the same second."""
    stamp = when.strftime(TIMESTAMP_FORMAT)
    yield logs_dir / log_name(stamp, dimension)
    for n in itertools.count(2):
        yield logs_dir / log_name(f"{stamp}-{n}", dimension)


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
    a truncated last line, stray text or another dimension's lines never stop a read.
    Commands' lines are neither events nor bad lines: passed over."""
    contents = LogContents()
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if is_command(line):
                continue
            try:
                contents.events.append(parse_line(line, n_values))
            except BadLine as bad:
                contents.skipped[bad.reason] += 1
    return contents


def is_command(line: str) -> bool:
    """Whether `line` is a whole command's line (a cut-off one is a bad line, as any is)."""
    fields = line.split(",", 2)
    return line.endswith("\n") and len(fields) > 2 and fields[1] == COMMAND


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
