"""What can go wrong that a musician can put right.

Each error carries what happened in fields, and says it in a sentence that names no
flag and no script: the package does not know the command line. imps/core/cli.py adds how
to put it right in the scripts' own terms (cli.explain).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path


def reason_of(error: OSError) -> str:
    """Why the operating system refused, in its own few words ("No space left on device",
    "File too large"), rather than a library's wrapping of them."""
    return os.strerror(error.errno) if error.errno else str(error).splitlines()[0]


class IMPSError(Exception):
    """The base of the errors a musician can put right."""


class WriteFailed(IMPSError):
    """A file that could not be written: whatever was at `path` before is still there,
    and nothing half-written is (`room` is True when more room on the disk, or a larger
    limit on file size, would put it right)."""

    def __init__(self, path: Path | str, error: OSError):
        self.path, self.reason = Path(path), reason_of(error)
        self.room = error.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
        super().__init__(f"could not write {path} ({self.reason}); "
                         + ("the file there before is unchanged" if self.path.exists() else "nothing was written"))


class WeightsError(IMPSError):
    """A weights file that cannot be used; the message says why."""


class WeightsMismatch(WeightsError):
    """Weights of another shape than the model asked for. `wanted_size` is None when any
    size of `wanted_dimension` would do."""

    def __init__(self, path: Path | str, found: str, found_dimension: int, wanted_dimension: int,
                 wanted_size: str | None = None, wanted_shape: str | None = None):
        self.path, self.found, self.found_dimension = Path(path), found, found_dimension
        self.wanted_dimension, self.wanted_size, self.wanted_shape = wanted_dimension, wanted_size, wanted_shape
        wanted = f"dimension {wanted_dimension}" + \
            (f" size {wanted_size}, which needs {wanted_shape}" if wanted_size else "")
        super().__init__(f"{path} holds a model of {found}, but {wanted} was asked for")


class DatasetError(IMPSError):
    """A dataset that cannot be made or used; the message says why."""


class DatasetDimensionMismatch(DatasetError):
    def __init__(self, path: Path | str, found: int, wanted: int):
        self.path, self.found, self.wanted = Path(path), found, wanted
        super().__init__(f"{path} holds {found}-d events but --dimension is {wanted}")


class NoDataset(DatasetError):
    def __init__(self, path: Path | str):
        self.path = Path(path)
        super().__init__(f"no dataset at {path}")


class DatasetNeedsPickle(DatasetError):
    """An original IMPS dataset: its object array loads only through pickle, which can run code."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        super().__init__(f"{path} is an original IMPS dataset, which only loads with pickle, and pickle can run code")


class DatasetTooShort(DatasetError):
    def __init__(self, seq_len: int):
        self.seq_len = seq_len
        super().__init__(f"the dataset has no performance longer than {seq_len} events, so not one "
                         f"{seq_len}-step training window")


class NoLogs(DatasetError):
    """No logs to collate: no folder at all (`folder_exists` False), or none of the dimension."""

    def __init__(self, source: Path | str, dimension: int, folder_exists: bool, pattern: str):
        self.source, self.dimension, self.folder_exists = Path(source), dimension, folder_exists
        super().__init__(f"no {pattern} logs in {source}" if folder_exists else f"no logs folder at {source}")


class TrainingDiverged(IMPSError):
    """Training ended without one epoch whose loss was a number: nothing worth keeping."""

    def __init__(self):
        super().__init__("training diverged: the loss was not a number from the first epoch, so no weights were "
                         "written (weights there before are unchanged); train again with a lower learning rate")


class OSCError(IMPSError):
    """A server that cannot listen where it was asked to."""

    def __init__(self, ip: str, port: int, in_use: bool, reason: str = ""):
        self.ip, self.port, self.in_use = ip, port, in_use
        super().__init__(f"port {port} on {ip} is already in use" if in_use
                         else f"cannot listen on {ip}:{port} ({reason})")


class WebError(IMPSError):
    """The web page's server cannot listen where it was asked to."""

    def __init__(self, host: str, port: int, in_use: bool, reason: str = ""):
        self.host, self.port, self.in_use = host, port, in_use
        super().__init__(f"the web page cannot listen on {host}:{port}: "
                         + ("the port is already in use" if in_use else reason))


class ModelRefused(IMPSError):
    """A model the running performance cannot play (another dimension, or no model at all)."""


class FilesExist(IMPSError):
    """Files would be overwritten that the musician did not say could be."""

    def __init__(self, first: Path, count: int):
        self.first, self.count = first, count
        super().__init__(f"{first} already exists ({count} of these files do)")


class MidiError(IMPSError):
    """MIDI that cannot be played as asked; the message says why."""


class MidiMappingError(MidiError):
    """A mapping that cannot be used: names the entry. `count` is True when the number of
    entries does not fit the number of controls (so the dimension may be what is wrong)."""

    def __init__(self, message: str, count: bool = False):
        self.count = count
        super().__init__(message)


class MidiUnavailable(MidiError):
    """No MIDI library (`library_missing`), or no MIDI system behind the API asked for."""

    def __init__(self, api: str, reason: str, library_missing: bool = False):
        self.api, self.library_missing = api, library_missing
        super().__init__(reason)


class MidiPortNotFound(MidiError):
    """No port of the direction ('input' or 'output') whose name contains `wanted`."""

    def __init__(self, direction: str, wanted: str, ports: list[str]):
        self.direction, self.wanted, self.ports = direction, wanted, ports
        there = "; ".join(repr(p) for p in ports) if ports else "none"
        super().__init__(f"no MIDI {direction} port has {wanted!r} in its name (the {direction} ports there are: "
                         f"{there})")


class SerialError(IMPSError):
    """A serial port that cannot be played as asked; the message says why."""


class SerialUnavailable(SerialError):
    """pyserial is not installed."""


class SerialPortNotFound(SerialError):
    """No path `wanted`, and no serial port whose device or description contains it."""

    def __init__(self, wanted: str, ports: list[str]):
        self.wanted, self.ports = wanted, ports
        there = "; ".join(ports) if ports else "none"
        super().__init__(f"no serial port is {wanted!r} or has it in its name (the serial ports there are: {there})")


class SerialOpenFailed(SerialError):
    """A serial port that is there but would not open (`reason`: the system's words)."""

    def __init__(self, device: str, reason: str):
        self.device, self.reason = device, reason
        super().__init__(f"the serial port {device} would not open ({reason})")
