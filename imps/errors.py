"""What can go wrong that a musician can put right.

Each error carries what happened in fields, and says it in a sentence that names no
flag and no script: the package does not know the command line. imps/cli.py adds how
to put it right in the scripts' own terms (cli.explain).
"""

from __future__ import annotations

from pathlib import Path


class IMPSError(Exception):
    """The base of the errors a musician can put right."""


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


class OSCError(IMPSError):
    """A server that cannot listen where it was asked to."""

    def __init__(self, ip: str, port: int, in_use: bool, reason: str = ""):
        self.ip, self.port, self.in_use = ip, port, in_use
        super().__init__(f"port {port} on {ip} is already in use" if in_use
                         else f"cannot listen on {ip}:{port} ({reason})")


class FilesExist(IMPSError):
    """Files would be overwritten that the musician did not say could be."""

    def __init__(self, first: Path, count: int):
        self.first, self.count = first, count
        super().__init__(f"{first} already exists ({count} of these files do)")
