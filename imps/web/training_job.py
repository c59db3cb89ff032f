"""The trainer as a child process, started from the web page: at lower priority, so
the performance beside it keeps its timing, its lines collected for the page, and
stopped as Ctrl-C stops it, with the best weights kept.

The child is train_predictive_music_model.py itself, so the page trains exactly as the
command line does. One job runs at a time: two trainers would compete for the same
cores and write the same files.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from ..core.model import MIN_DIMENSION, SIZES
from ..core.names import DATASETS_DIR
from .library import Kind, LibraryError, resolve

TRAINER = Path(__file__).resolve().parents[2] / "train_predictive_music_model.py"
NICENESS = 10  # as `nice` gives by default: below the performance, above nothing
KEPT_LINES = 2000  # the most recent lines kept for the page; Keras writes one line an epoch
# A Python started while SIGINT is ignored (a server run from a script in the
# background) never raises KeyboardInterrupt, and the trainer keeps its best weights on
# KeyboardInterrupt; so the child sets Python's own handler before running the trainer.
# It also puts the trainer's folder first on the path, as `python trainer.py` would.
_BOOT = ("import os, runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
         "sys.argv = sys.argv[1:]; sys.path[0] = os.path.dirname(sys.argv[0]); "
         "runpy.run_path(sys.argv[0], run_name='__main__')")


class JobError(LibraryError):
    """A training request refused; the message says why in one line."""


@dataclass(frozen=True)
class TrainingRequest:
    """What the page asks for; every field checked before it becomes a flag."""
    dataset: str  # a dataset's listed name
    dimension: int
    size: str | None = None  # None: the trainer's own choice
    epochs: int | None = None
    minutes: float | None = None
    early_stopping: bool = False
    warmup: int | None = None  # epochs on short windows first; 0 skips them

    def arguments(self, root: Path | str) -> list[str]:
        """The trainer's flags, the dataset named by its path under `root` only once listed."""
        dataset = resolve(root, Kind.DATASETS, self.dataset)
        if self.dimension < MIN_DIMENSION:
            raise JobError(f"the dimension must be at least {MIN_DIMENSION}, not {self.dimension}")
        if self.size is not None and self.size not in SIZES:
            raise JobError(f"unknown model size {self.size!r}: choose one of {', '.join(SIZES)}")
        if self.epochs is not None and self.epochs < 1:
            raise JobError(f"the epochs must be at least 1, not {self.epochs}")
        if self.minutes is not None and not 0 < self.minutes < math.inf:
            raise JobError(f"the minutes must be a number above 0, not {self.minutes}")
        if self.warmup is not None and self.warmup < 0:
            raise JobError(f"the warm-up epochs must be 0 or more, not {self.warmup}")
        flags = [f"--dimension={self.dimension}", f"--dataset={DATASETS_DIR}/{dataset.name}"]
        if self.size is not None:
            flags.append(f"--modelsize={self.size}")
        if self.epochs is not None:
            flags.append(f"--numepochs={self.epochs}")
        if self.minutes is not None:
            flags.append(f"--minutes={self.minutes:g}")
        if self.early_stopping:
            flags.append("--earlystopping")
        if self.warmup is not None:
            flags.append(f"--warmup={self.warmup}")
        return flags


class TrainingJob:
    """At most one trainer at a time in `root`, the project folder it writes models/ in."""

    def __init__(self, root: Path | str, trainer: Path = TRAINER):
        self.root = Path(root)
        self.trainer = trainer
        self._process: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None
        self._lines: deque[str] = deque(maxlen=KEPT_LINES)
        self._first = 0  # the number of the oldest line kept: lines are numbered from 0 as they arrive
        self._lock = threading.Lock()
        self.stopping = False

    def start(self, flags: list[str]) -> None:
        """Start the trainer with `flags` (TrainingRequest.arguments makes them); JobError
        while one runs."""
        with self._lock:
            if self.running:
                raise JobError("a model is training already: stop it first")
            nice = shutil.which("nice")
            command = ([nice, "-n", str(NICENESS)] if nice else []) + [sys.executable, "-c", _BOOT,
                                                                         str(self.trainer), *flags]
            self._lines.clear()
            self._first = 0
            self.stopping = False
            # Unbuffered, so each line reaches the page as the trainer says it.
            env = {**os.environ, "PYTHONUNBUFFERED": "1"}
            # A process group of its own: a Ctrl-C in the performance's terminal is the
            # performance's, and only stop() interrupts the trainer, once.
            self._process = subprocess.Popen(command, cwd=self.root, env=env, stdin=subprocess.DEVNULL,
                                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                             encoding="utf-8", errors="replace", process_group=0)
            self._reader = threading.Thread(target=self._read, args=(self._process,), name="trainer output",
                                            daemon=True)
            self._reader.start()

    def _read(self, process: subprocess.Popen) -> None:
        # A blocking read on a thread of its own: the lines arrive when the trainer says them.
        for line in process.stdout:
            with self._lock:
                if len(self._lines) == self._lines.maxlen:
                    self._first += 1
                self._lines.append(line.rstrip("\n"))
        process.stdout.close()
        process.wait()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def exit_code(self) -> int | None:
        """None while it runs or before any; 130 when stopped with its best weights kept."""
        return None if self._process is None else self._process.poll()

    def lines_since(self, number: int) -> tuple[int, list[str]]:
        """The lines numbered `number` onwards that are still kept, and the number of the
        next line to ask for; a page that fell behind gets what is left."""
        with self._lock:
            start = max(number, self._first) - self._first
            return self._first + len(self._lines), list(self._lines)[start:]

    def stop(self) -> bool:
        """Ctrl-C, as a musician would give it: the trainer keeps its best weights, chooses
        their sampling and exits 130. False when nothing was training."""
        with self._lock:
            if not self.running:
                return False
            self.stopping = True
            self._process.send_signal(signal.SIGINT)
            return True

    def wait(self, timeout: float) -> int | None:
        """The exit code once the trainer and its lines have ended, or None after `timeout` seconds."""
        if self._process is None:
            return None
        try:
            code = self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self._reader.join(timeout)
        return code
