"""Datasets: performances collated from logs, stored as plain numeric arrays.

A dataset file (`training-dataset-{D}d.npz`) holds `events`, every event of every
performance one after another as rows `[dt, x1, ..., xN]` (float32), and `lengths`,
how many events each performance has. Nothing in it needs pickle to load. The
original IMPS stored an object array `perfs` instead, which only pickle can read;
those files load when the user says so, since unpickling can run code.
"""

from __future__ import annotations

import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from ..core.errors import DatasetError, DatasetNeedsPickle, DatasetTooShort, NoDataset, NoLogs
from ..core.files import written_whole
from ..core.logs import read_log
from ..core.model import SEQ_LEN
from ..core.names import log_glob

# Two of the musician's events further apart than this (seconds) in a log are taken as
# two performances in a dataset, as is a clock that steps back between them.
PERFORMANCE_GAP = 600.0


@dataclass
class Dataset:
    events: np.ndarray  # (n_events, dimension) float32: dt then values
    lengths: np.ndarray  # (n_performances,) int64

    @classmethod
    def from_performances(cls, performances: Iterable[np.ndarray]) -> "Dataset":
        performances = [np.asarray(p, np.float32) for p in performances if len(p)]
        if not performances:
            raise DatasetError("no events to make a dataset from")
        return cls(np.concatenate(performances), np.array([len(p) for p in performances], np.int64))

    @property
    def dimension(self) -> int:
        return self.events.shape[1]

    def performances(self) -> list[np.ndarray]:
        return np.split(self.events, np.cumsum(self.lengths)[:-1])

    def window_starts(self, seq_len: int = SEQ_LEN) -> np.ndarray:
        """Index of the first event of every window of seq_len + 1 events lying wholly
        inside one performance; DatasetError when there is not one."""
        ends = np.cumsum(self.lengths)
        starts = [np.arange(end - n, end - seq_len) for n, end in zip(self.lengths, ends) if n > seq_len]
        if not starts:
            raise DatasetTooShort(seq_len)
        return np.concatenate(starts)

    def summary(self) -> str:
        seconds = float(self.events[:, 0].sum())
        return (f"{len(self.lengths)} performances, {len(self.events)} events, {self.events.size} values, "
                f"{seconds:.1f} seconds of playing")


def save_dataset(dataset: Dataset, path: Path | str) -> Path:
    """Write the dataset completely or not at all."""
    with written_whole(path, ".npz") as tmp:
        np.savez_compressed(tmp, events=dataset.events, lengths=dataset.lengths)
    return Path(path)


# What a damaged or foreign file raises while being read (zlib.error: corrupt compressed data).
_UNREADABLE = (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error)


def load_dataset(path: Path | str, allow_pickle: bool = False) -> Dataset:
    path = Path(path)
    if not path.is_file():
        raise NoDataset(path)
    if not zipfile.is_zipfile(path):  # np.load would return a bare array for an .npy, or try pickle
        raise DatasetError(f"{path} is not a readable dataset file (not an .npz archive)")
    try:
        with np.load(path, allow_pickle=False) as data:
            if "events" in data.files and "lengths" in data.files:
                return _checked(Dataset(np.asarray(data["events"], np.float32),
                                        np.asarray(data["lengths"], np.int64)), path)
            if "perfs" not in data.files:
                raise DatasetError(f"{path} holds neither an IMPS dataset (events, lengths) nor an original one (perfs)")
    except _UNREADABLE as error:
        raise DatasetError(f"{path} is not a readable dataset file ({error})") from None
    if not allow_pickle:
        raise DatasetNeedsPickle(path)
    try:
        with np.load(path, allow_pickle=True) as data:
            return _checked(Dataset.from_performances(data["perfs"]), path)
    except _UNREADABLE as error:
        raise DatasetError(f"{path} is not a readable dataset file ({error})") from None


def _checked(dataset: Dataset, path: Path) -> Dataset:
    if dataset.events.ndim != 2 or dataset.lengths.sum() != len(dataset.events) or (dataset.lengths < 0).any():
        raise DatasetError(f"{path} is inconsistent: its performance lengths do not add up to its events")
    return dataset


@dataclass
class FileReport:
    path: Path
    events: int = 0
    skipped: Counter = field(default_factory=Counter)
    clipped: int = 0  # values outside 0-1, clipped into it for the dataset
    performances: int = 0  # with at least one event
    steps_back: int = 0  # times the clock went back between two of the musician's events
    long_gaps: int = 0  # gaps longer than max_gap between two of them
    max_gap: float = PERFORMANCE_GAP

    def line(self) -> str:
        notes = []
        if self.steps_back or self.long_gaps:
            causes = [f"{n} {what}{'' if n == 1 else 's'}{after}" for n, what, after in (
                (self.steps_back, "clock step", " back"), (self.long_gaps, "gap", f" of over {self.max_gap:g} s")) if n]
            notes.append(f"{self.performances} performances: a new one at {' and '.join(causes)}")
        if self.skipped:
            notes.append("skipped " + ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items())))
        if self.clipped:
            notes.append(f"clipped {self.clipped} values outside 0-1: check the interface's range")
        return f"{self.path.name}: {self.events} events" + (f" ({'; '.join(notes)})" if notes else "")


def performances_from_log(path: Path, dimension: int,
                          max_gap: float = PERFORMANCE_GAP) -> tuple[list[np.ndarray], FileReport]:
    """The musician's events in one log as performances of rows [dt, x1, ..., xN], values
    clipped to 0-1 (the report counts them). The first event of a performance has no time
    since a previous one, so it starts the clock and is not a row. A log's times are the
    wall clock's, which can jump (a clock set by the network, daylight saving): an event
    earlier than the one before, or more than `max_gap` seconds after it, starts a new
    performance, and the report counts each."""
    contents = read_log(path, dimension - 1)
    report = FileReport(path, skipped=contents.skipped, max_gap=max_gap)
    parts: list[list] = [[]]
    last_time = None
    for event in contents.events:
        if event.source != "interface":
            continue
        if last_time is not None:
            dt = event.time - last_time
            if 0 <= dt <= max_gap:
                parts[-1].append([dt, *event.values])
            else:
                report.steps_back += dt < 0
                report.long_gaps += dt > max_gap
                parts.append([])
        last_time = event.time
    performances = [np.array(rows, np.float32).reshape(-1, dimension) for rows in parts if rows]
    report.performances = len(performances)
    report.events = sum(len(p) for p in performances)
    for performance in performances:
        values = performance[:, 1:]
        report.clipped += int(np.count_nonzero((values < 0.0) | (values > 1.0)))
        np.clip(values, 0.0, 1.0, out=values)
    return performances, report


def collate_logs(source: Path | str, dimension: int, progress: Callable[[Iterable], Iterable] = lambda files: files,
                 max_gap: float = PERFORMANCE_GAP) -> tuple[Dataset, list[FileReport]]:
    """Every `*-{D}d-mdrnn.log` in `source` as one dataset, with a report per file."""
    source = Path(source)
    files = sorted(source.glob(log_glob(dimension))) if source.is_dir() else []
    if not files:
        raise NoLogs(source, dimension, source.is_dir(), log_glob(dimension))
    performances = []
    reports = []
    for path in progress(files):
        found, report = performances_from_log(path, dimension, max_gap)
        performances.extend(found)
        reports.append(report)
    if not performances:
        raise DatasetError(f"the {len(files)} logs in {source} hold no usable {dimension}-d interface events")
    return Dataset.from_performances(performances), reports
