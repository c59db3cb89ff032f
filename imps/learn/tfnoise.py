"""TensorFlow's notices that a musician cannot act on, kept off the terminal.

Importing TensorFlow prints, from its C++ core straight to file descriptor 2, that
oneDNN is on, that no CUDA driver was found, which CPU instructions it could use, and
that cuInit failed on a machine without a GPU; every tf.data epoch can add a notice
that its input ended. None of these asks anything of the musician. Two obvious cures
do harm: a higher TF_CPP_MIN_LOG_LEVEL would hide real errors as well (and TensorFlow
2.21 prints these before it reads it), and turning oneDNN off would change the
arithmetic and so the training figures. So stderr is passed through a pipe, and a
thread forwards every line except those matching KNOWN_NOISE, in order.
"""

from __future__ import annotations

import atexit
import os
import re
import sys
import threading

# The glog header TensorFlow puts before a message: severity, date, time, thread, file:line.
_HEADER = r"(?:[IWEF]\d{4} [\d:.]+\s+\d+ [\w.]+:\d+\] )?"
KNOWN_NOISE = [re.compile(_HEADER + message) for message in (
    r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$",
    r"oneDNN custom operations are on\.",
    r"Could not find cuda drivers on your machine, GPU will not be used\.",
    r"failed call to cuInit: ",
    r"This TensorFlow binary is optimized to use available CPU instructions",
    r"To enable the following instructions: .*rebuild TensorFlow with the appropriate compiler flags\.$",
    r"Unable to register cu(DNN|FFT|BLAS) factory",
    r"computation placer already registered",
    r"TF-TRT Warning: Could not find TensorRT",
    r"Local rendezvous is aborting with status: OUT_OF_RANGE: End of sequence",
)]


def is_noise(line: str) -> bool:
    return any(pattern.match(line) for pattern in KNOWN_NOISE)


class StderrFilter:
    """File descriptor 2 replaced by a pipe whose lines, less the noise, reach the real
    stderr. `close` (run at exit) puts the real stderr back and forwards what is left."""

    def __init__(self):
        self._real = os.dup(2)
        read, write = os.pipe()
        sys.stderr.flush()
        os.dup2(write, 2)
        os.close(write)
        self._thread = threading.Thread(target=self._forward, args=(read,), name="stderr-filter", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def _forward(self, read: int) -> None:
        with os.fdopen(read, "rb") as pipe:
            for line in pipe:
                if not is_noise(line.decode("utf-8", "replace").rstrip("\n")):
                    os.write(self._real, line)

    def close(self) -> None:
        if self._real < 0:
            return
        sys.stderr.flush()
        os.dup2(self._real, 2)  # the pipe's last writer is gone: the thread reads to its end
        self._thread.join(timeout=5)
        os.close(self._real)
        self._real = -1


_installed: StderrFilter | None = None


def filter_tensorflow_noise() -> None:
    """Install the filter, once per process, before TensorFlow is imported."""
    global _installed
    if _installed is None:
        _installed = StderrFilter()
