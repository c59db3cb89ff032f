"""The web page's library: the logs, datasets and models in a project folder, listed,
fetched, deleted, collated and uploaded, with no web framework in sight.

A name from a client reaches the file system only through `resolve`, which accepts
exactly a name in the folder's current listing. The listing holds plain files only,
never a hidden one, and no symlink whose target leaves the folder; so `../x`, an
absolute path, `logs/../../x` or a link out of `logs/` is never listed and never
matches, and nothing a client sends is ever joined to a path.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Iterable

from ..core.errors import IMPSError, ModelRefused, WeightsError, WriteFailed
from ..core.model import Sampling
from ..core.names import (DATASETS_DIR, LEGACY_WEIGHTS_SUFFIX, LOGS_DIR, MODELS_DIR, WEIGHTS_SUFFIX, dataset_path,
                          is_checkpoint, log_dimension, report_plot_path, weights_path)
from ..core.notices import ModelChanged, words
from ..core.report import ModelReport, ReportError
from ..core.weights import describe, load_weights
from ..learn.dataset import collate_logs, save_dataset
from ..perform.server import PerformanceServer

MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # the limit: ten times the largest size's weights
SERVER_SCRIPT = "predictive_music_model.py"


class LibraryError(IMPSError):
    """A request the library refuses; the message says why in one line."""


class NotListed(LibraryError):
    """A name that is not exactly a listed file's: the page answers 404."""


class Kind(Enum):
    """A folder of the library, and the endings of the files it lists."""
    LOGS = (LOGS_DIR, (".log",))
    DATASETS = (DATASETS_DIR, (".npz",))
    MODELS = (MODELS_DIR, (LEGACY_WEIGHTS_SUFFIX,))  # ".h5" covers ".weights.h5" too
    PICTURES = (MODELS_DIR, (".png",))  # the loss curves and report pictures beside the weights

    @property
    def folder(self) -> str:
        return self.value[0]

    @property
    def endings(self) -> tuple[str, ...]:
        return self.value[1]


def _inside(path: Path, folder: Path) -> bool:
    """Whether `path`, its links followed, is a file directly in `folder`."""
    try:
        return path.resolve(strict=True).parent == folder.resolve(strict=True)
    except (OSError, RuntimeError):  # a dangling link or a loop of them
        return False


def listed(root: Path | str, kind: Kind) -> list[Path]:
    """The files of `kind` in its folder under `root`, sorted by name: plain files with
    one of the kind's endings, not hidden (temporary files start with a dot), and only
    links that stay in the folder."""
    folder = Path(root) / kind.folder
    if not folder.is_dir():
        return []
    return sorted((path for path in folder.iterdir()
                   if not path.name.startswith(".") and path.name.endswith(kind.endings)
                   and path.is_file() and _inside(path, folder)), key=lambda path: path.name)


def resolve(root: Path | str, kind: Kind, name: str) -> Path:
    """The listed file whose name is exactly `name`; LibraryError for any other name."""
    for path in listed(root, kind):
        if path.name == name:
            return path
    raise NotListed(f"there is no {kind.name.lower().rstrip('s')} called {name!r} in {kind.folder}/")


@dataclass(frozen=True)
class LogEntry:
    name: str
    size: int  # bytes
    events: int  # lines of the musician's or the model's events (see count_events)
    dimension: int | None  # from the name


def count_events(path: Path) -> int:
    """The event lines in a log, counted cheaply by their source field, without parsing
    their numbers: a listing reads every log, and a long performance's log is megabytes.
    A damaged line is counted here; collating reports the exact count it used."""
    with open(path, "rb") as f:
        return sum(1 for line in f if b",interface," in line or b",rnn," in line)


def list_logs(root: Path | str) -> list[LogEntry]:
    return [LogEntry(path.name, path.stat().st_size, count_events(path), log_dimension(path.name))
            for path in listed(root, Kind.LOGS)]


@dataclass(frozen=True)
class FileEntry:
    name: str
    size: int


def list_datasets(root: Path | str) -> list[FileEntry]:
    return [FileEntry(path.name, path.stat().st_size) for path in listed(root, Kind.DATASETS)]


@dataclass(frozen=True)
class ModelEntry:
    name: str
    size: int
    dimension: int | None  # None when the file does not load (`problem` says why)
    shape: str | None  # "2 layers of 32 units, 5 mixtures"
    sampling: Sampling | None  # stored with the weights
    report_picture: str | None  # the quality report's picture beside it, by its listed name
    loss_picture: str | None  # the trainer's loss curves, by its listed name
    report: ModelReport | None = None  # the report's figures, when they are of this very file
    checkpoint: bool = False  # the trainer's best weights so far, kept beside its final ones
    problem: str | None = None


def _picture_names(root: Path | str) -> set[str]:
    return {path.name for path in listed(root, Kind.PICTURES)}


def list_models(root: Path | str) -> list[ModelEntry]:
    """Every weights file with what loading it says, and its report's figures (held-out
    loss, style distances) and pictures where they were made of this very file."""
    pictures = _picture_names(root)
    entries = []
    for path in listed(root, Kind.MODELS):
        picture = report_plot_path(path).name
        # The trainer's loss curves are `{model name}-loss.png`, the report's picture's stem.
        loss = picture.removesuffix("-report.png") + "-loss.png"
        found = (picture if picture in pictures else None, loss if loss in pictures else None)
        try:
            weights = load_weights(path)
        except WeightsError as error:
            entries.append(ModelEntry(path.name, path.stat().st_size, None, None, None, *found,
                                      checkpoint=is_checkpoint(path), problem=str(error)))
            continue
        try:
            report, problem = ModelReport.read(path), None
        except ReportError as error:
            report, problem = None, str(error)
        entries.append(ModelEntry(path.name, path.stat().st_size, weights.dimension,
                                  describe(weights.config, with_dimension=False), weights.sampling, *found, report,
                                  is_checkpoint(path), problem))
    return entries


def delete(root: Path | str, kind: Kind, name: str, in_use: Iterable[Path] = ()) -> Path:
    """Delete the listed file called exactly `name` (its link only, if it is a link),
    unless it is `in_use`, as the log a performance is writing is: deleted, its lines
    would go on into a file no one can reach."""
    path = resolve(root, kind, name)
    if any(path.resolve() == Path(used).resolve() for used in in_use):
        raise LibraryError(f"{kind.folder}/{path.name} is being written by the performance: stop it first")
    path.unlink()
    return path


def accept_upload(root: Path | str, data: bytes, dimension: int | None = None) -> Path:
    """Keep an uploaded weights file in models/ under IMPS's own name for the model in
    it, once it has loaded as the performer loads weights (h5py alone: nothing is
    unpickled) and, when `dimension` is given, holds a model of that dimension. The file
    is written whole beside its final place and renamed into it, never over another."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise LibraryError(f"the upload is {len(data):,} bytes; weights files may be at most {MAX_UPLOAD_BYTES:,}")
    models = Path(root) / MODELS_DIR
    models.mkdir(parents=True, exist_ok=True)
    # Hidden, so never listed while it waits; `.weights.h5` only because h5py reads any name.
    fd, tmp_name = tempfile.mkstemp(prefix=".upload-", suffix=WEIGHTS_SUFFIX, dir=models)
    tmp = Path(tmp_name)
    try:
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        except OSError as error:
            raise WriteFailed(tmp, error) from None
        try:
            weights = load_weights(tmp)
        except WeightsError as error:
            # Its message names the temporary file, which the musician never saw.
            raise LibraryError("the upload is not an IMPS weights file: "
                               + str(error).replace(str(tmp), "it")) from None
        if dimension is not None and weights.dimension != dimension:
            raise LibraryError(f"the upload holds a model of {describe(weights.config)}, but this IMPS plays "
                               f"dimension {dimension}")
        final = weights_path(models, weights.config)
        if final.exists():
            raise LibraryError(f"{MODELS_DIR}/{final.name} already exists: delete it first to replace it")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp made it private; give it the usual permissions
        os.replace(tmp, final)
        return final
    finally:
        if tmp.exists():
            tmp.unlink()


@dataclass
class Collated:
    path: Path  # the dataset written
    lines: list[str]  # a line for each log, then the dataset's summary, as generate_dataset.py says


def collate(root: Path | str, names: list[str]) -> Collated:
    """Collate the listed logs called exactly `names` into datasets/training-dataset-{D}d.npz,
    with generate_dataset.py's own code: collate_logs reads a folder, so the chosen logs
    are linked into a temporary one. They must share a dimension, which their names give."""
    if not names:
        raise LibraryError("choose at least one log to collate")
    paths = [resolve(root, Kind.LOGS, name) for name in dict.fromkeys(names)]
    dimensions = {log_dimension(path.name) for path in paths}
    if None in dimensions or len(dimensions) != 1:
        raise LibraryError("the chosen logs must all have one dimension in their names (…-{D}d-mdrnn.log); "
                           f"these have {', '.join(sorted(str(d) for d in dimensions))}")
    dimension = dimensions.pop()
    with tempfile.TemporaryDirectory(prefix="imps-collate-") as chosen:
        for path in paths:
            os.symlink(path.resolve(), Path(chosen) / path.name)
        dataset, reports = collate_logs(chosen, dimension)
    path = save_dataset(dataset, dataset_path(Path(root) / DATASETS_DIR, dimension))
    return Collated(path, [report.line() for report in reports]
                    + [f"wrote {DATASETS_DIR}/{path.name}: {dataset.summary()}"])


@dataclass
class Played:
    playing: bool  # whether the running performance plays it now
    said: str  # that it does, with its temperatures, or why it cannot
    command: str  # the command line that plays it from the start of a performance


def play(root: Path | str, name: str, server: PerformanceServer | None) -> Played:
    """Play the listed weights file `name` from now on in the running performance, from
    a fresh start (PerformanceServer.play_model), where it can: the same dimension, and a
    model playing. And, either way, the command line that starts IMPS with it, as
    --modelfile names it: a performance started afresh plays it too."""
    path = resolve(root, Kind.MODELS, name)
    try:
        weights = load_weights(path)
    except WeightsError as error:
        raise LibraryError(str(error)) from None
    shown = f"{MODELS_DIR}/{path.name}"
    command = f"python {SERVER_SCRIPT} --dimension={weights.dimension} --modelfile={shown}"
    if server is None:
        return Played(False, "this process plays nothing: start IMPS with the command below", command)
    try:
        sampling_line = server.play_model(weights, shown)
    except ModelRefused as refused:
        return Played(False, str(refused), command)
    return Played(True, words(ModelChanged(shown, sampling_line)), command)
