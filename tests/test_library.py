"""The web page's library: listings with the reports' figures, names resolved only by
exact match, deleting, collating, uploads, and playing a model now."""

import os
import pickle
import re
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from harness import free_udp_port
from imps.core.model import Sampling
from imps.core.names import report_path
from imps.core.report import ModelReport
from imps.core.weights import DEFAULT_MODELS_DIR, load_weights, store_sampling
from imps.learn.dataset import load_dataset
from imps.perform.config import ServerConfig
from imps.perform.model_choice import model_to_play
from imps.perform.server import PerformanceServer
from imps.web.library import (MAX_UPLOAD_BYTES, Kind, LibraryError, accept_upload, collate, delete, list_datasets,
                              list_logs, list_models, listed, play, resolve)

DEFAULT_3D = DEFAULT_MODELS_DIR / "musicMDRNN-dim3-layers2-units32-mixtures5-scale10.weights.h5"
LEGACY_2D = Path(__file__).parent / "fixtures" / "musicMDRNN-dim2-layers2-units32-mixtures5-scale10.h5"
LOG_3D = "2026-01-01T10-00-00-3d-mdrnn.log"
TRAVERSALS = ["../x", "/etc/passwd", "logs/../../x", "../outside.log", "", ".", "..", "outside.log/"]


def write_log(path: Path, events: int, source: str = "interface", start: float = 0.0) -> None:
    lines = [f"2026-01-01T10:00:{start + i * 0.1:09.6f},{source},{i / events},{1 - i / events}\n"
             for i in range(events)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines))


@pytest.fixture
def root(tmp_path) -> Path:
    """A project folder with a log, a dataset, a model with a report picture, and a file
    outside every folder, linked into each, that no name may reach."""
    project = tmp_path / "project"
    write_log(project / "logs" / LOG_3D, 40)
    (project / "datasets").mkdir()
    (project / "datasets" / "training-dataset-3d.npz").write_bytes(b"not read by a listing")
    (project / "models").mkdir()
    shutil.copy(DEFAULT_3D, project / "models" / DEFAULT_3D.name)
    (project / "models" / "musicMDRNN-dim3-layers2-units32-mixtures5-scale10-report.png").write_bytes(b"png")
    secret = tmp_path / "outside.log"
    secret.write_text("2026-01-01T10:00:00,interface,0.5,0.5\n")
    for folder, name in [("logs", "outside.log"), ("datasets", "outside.npz"), ("models", "outside.h5"),
                         ("models", "outside.png")]:
        os.symlink(secret, project / folder / name)
    return project


def test_listings_give_names_sizes_events_and_what_loading_says(root):
    log_path = root / "logs" / LOG_3D
    (log_path.parent / "notes.txt").write_text("not a log")
    with open(log_path, "a") as f:
        f.write("2026-01-01T10:00:09,command,mode,battle\n2026-01-01T10:00:09,rnn,0.1,0.2\n")
    [log] = list_logs(root)
    assert (log.name, log.size, log.events, log.dimension) == (LOG_3D, log_path.stat().st_size, 41, 3)
    assert [(d.name, d.size) for d in list_datasets(root)] == [("training-dataset-3d.npz", 21)]
    [model] = list_models(root)
    assert (model.name, model.dimension, model.shape) == (DEFAULT_3D.name, 3, "2 layers of 32 units, 5 mixtures")
    assert model.sampling == load_weights(DEFAULT_3D).sampling
    assert model.report_picture == "musicMDRNN-dim3-layers2-units32-mixtures5-scale10-report.png"
    assert model.loss_picture is None and model.problem is None
    assert model.report is None and not model.checkpoint


def test_a_model_is_listed_with_its_report_figures_when_they_are_of_it(root):
    weights = root / "models" / DEFAULT_3D.name
    written = ModelReport.of(weights, "training-dataset-3d.npz", 1.5, 0.25, 0.5, Sampling(1.0, 0.5))
    written.write(report_path(weights))
    assert list_models(root)[0].report == written
    store_sampling(weights, Sampling(1.5, 0.05))  # the file changed since: its figures are not shown as its
    assert list_models(root)[0].report is None
    report_path(weights).write_text("{not json")
    [model] = list_models(root)
    assert model.report is None and model.dimension == 3 and "is not a report IMPS can read" in model.problem


def test_the_trainer_checkpoint_is_listed_as_one(root):
    shutil.copy(DEFAULT_3D, root / "models" / DEFAULT_3D.name.replace(".weights.h5", "-checkpoint.weights.h5"))
    assert [m.checkpoint for m in list_models(root)] == [True, False]


def test_a_model_that_does_not_load_is_listed_with_why(root):
    (root / "models" / "broken.h5").write_bytes(b"not hdf5")
    broken = next(m for m in list_models(root) if m.name == "broken.h5")
    assert broken.dimension is None and "is not a readable HDF5 weights file" in broken.problem


def test_stored_sampling_is_listed(root):
    store_sampling(root / "models" / DEFAULT_3D.name, Sampling(1.5, 0.05))
    assert list_models(root)[0].sampling == Sampling(1.5, 0.05)


def test_links_out_of_a_folder_and_hidden_files_are_never_listed(root):
    (root / "models" / ".upload-x.weights.h5").write_bytes(DEFAULT_3D.read_bytes())
    os.symlink(root / "models" / DEFAULT_3D.name, root / "models" / "inside.h5")  # stays inside: listed
    assert [p.name for p in listed(root, Kind.MODELS)] == ["inside.h5", DEFAULT_3D.name]
    for kind in Kind:
        assert not any(p.name.startswith("outside") for p in listed(root, kind))


@pytest.mark.parametrize("kind", list(Kind))
@pytest.mark.parametrize("name", TRAVERSALS + ["outside.log", "outside.npz", "outside.h5", "outside.png"])
def test_no_name_outside_the_listing_resolves(root, kind, name):
    with pytest.raises(LibraryError, match=f"^there is no {kind.name.lower().rstrip('s')} called "
                                           f"{re.escape(repr(name))} in {kind.folder}/$"):
        resolve(root, kind, name)


@pytest.mark.parametrize("name", TRAVERSALS + ["outside.log", "absent.log"])
def test_delete_refuses_every_name_but_a_listed_one_and_leaves_the_target(root, tmp_path, name):
    with pytest.raises(LibraryError):
        delete(root, Kind.LOGS, name)
    assert (tmp_path / "outside.log").is_file() and (root / "logs" / LOG_3D).is_file()


def test_delete_removes_the_listed_file_and_only_the_link_of_a_link(root, tmp_path):
    os.symlink(root / "logs" / LOG_3D, root / "logs" / "alias-3d-mdrnn.log")
    delete(root, Kind.LOGS, "alias-3d-mdrnn.log")
    assert (root / "logs" / LOG_3D).is_file()
    delete(root, Kind.DATASETS, "training-dataset-3d.npz")
    delete(root, Kind.MODELS, DEFAULT_3D.name)
    assert list_datasets(root) == [] and list_models(root) == []


def test_the_log_a_performance_is_writing_is_not_deleted(root):
    with pytest.raises(LibraryError, match=f"^logs/{LOG_3D} is being written by the performance: stop it first$"):
        delete(root, Kind.LOGS, LOG_3D, in_use=[root / "logs" / LOG_3D])
    assert (root / "logs" / LOG_3D).is_file()


def test_a_valid_upload_is_kept_under_imps_own_name(root):
    (root / "models" / DEFAULT_3D.name).unlink()
    kept = accept_upload(root, LEGACY_2D.read_bytes(), dimension=2)
    assert kept == root / "models" / "musicMDRNN-dim2-layers2-units32-mixtures5-scale10.weights.h5"
    assert load_weights(kept).gate_activation == load_weights(LEGACY_2D).gate_activation
    assert sorted(p.name for p in (root / "models").iterdir() if not p.is_symlink()) == \
        sorted([kept.name, "musicMDRNN-dim3-layers2-units32-mixtures5-scale10-report.png"])


def test_an_upload_never_replaces_a_model(root):
    before = (root / "models" / DEFAULT_3D.name).read_bytes()
    with pytest.raises(LibraryError, match="^models/musicMDRNN-dim3-.*weights.h5 already exists: delete it first"):
        accept_upload(root, DEFAULT_3D.read_bytes())
    assert (root / "models" / DEFAULT_3D.name).read_bytes() == before


def uploads_left(root: Path) -> list[str]:
    return [p.name for p in (root / "models").iterdir() if p.name.startswith(".")]


def test_an_oversized_upload_is_refused_before_anything_is_written(root):
    with pytest.raises(LibraryError, match="^the upload is 52,428,801 bytes; weights files may be at most 52,428,800$"):
        accept_upload(root, b"\0" * (MAX_UPLOAD_BYTES + 1))
    assert uploads_left(root) == []


class Boom:
    """Unpickling this would run code; the upload must never get that far."""

    def __reduce__(self):
        return (os.system, ("touch PWNED",))


@pytest.mark.parametrize("data", [pickle.dumps(Boom()), b"plain text, not HDF5", b""], ids=["pickle", "text", "empty"])
def test_a_file_that_is_not_hdf5_is_refused_in_one_line(root, tmp_path, monkeypatch, data):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(LibraryError) as refused:
        accept_upload(root, data)
    message = str(refused.value)
    assert message.startswith("the upload is not an IMPS weights file: it is not a readable HDF5 weights file")
    assert "\n" not in message and ".upload-" not in message
    assert uploads_left(root) == [] and not (tmp_path / "PWNED").exists()


def test_an_hdf5_file_without_a_model_and_a_model_of_another_dimension_are_refused(root, tmp_path):
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["data"] = np.zeros(3)
    with pytest.raises(LibraryError, match="^the upload is not an IMPS weights file: it is an HDF5 file but holds no"):
        accept_upload(root, (tmp_path / "other.h5").read_bytes())
    with pytest.raises(LibraryError, match="^the upload holds a model of dimension 2, .* but this IMPS plays "
                                           "dimension 4$"):
        accept_upload(root, LEGACY_2D.read_bytes(), dimension=4)
    assert uploads_left(root) == []


def test_collate_uses_only_the_chosen_logs_and_writes_the_dataset(root):
    write_log(root / "logs" / "2026-01-02T10-00-00-3d-mdrnn.log", 10)
    collated = collate(root, [LOG_3D, LOG_3D])  # named twice, read once
    assert collated.path == root / "datasets" / "training-dataset-3d.npz"
    assert collated.lines[0] == f"{LOG_3D}: 39 events"
    assert collated.lines[-1].startswith("wrote datasets/training-dataset-3d.npz: 1 performances, 39 events")
    assert load_dataset(collated.path).events.shape == (39, 3)


@pytest.mark.parametrize("names", [[], ["../x"], [LOG_3D, "/etc/passwd"], ["outside.log"]])
def test_collate_refuses_names_outside_the_listing(root, names):
    with pytest.raises(LibraryError):
        collate(root, names)
    assert (root / "datasets" / "training-dataset-3d.npz").read_bytes() == b"not read by a listing"


def test_collate_refuses_logs_of_two_dimensions(root):
    write_log(root / "logs" / "2026-01-02T10-00-00-4d-mdrnn.log", 10)
    with pytest.raises(LibraryError, match="must all have one dimension in their names .* these have 3, 4$"):
        collate(root, [LOG_3D, "2026-01-02T10-00-00-4d-mdrnn.log"])


def test_with_nothing_playing_a_model_is_given_as_the_command_line_that_plays_it(root):
    played = play(root, DEFAULT_3D.name, None)
    assert not played.playing and played.said == "this process plays nothing: start IMPS with the command below"
    assert played.command == f"python predictive_music_model.py --dimension=3 --modelfile=models/{DEFAULT_3D.name}"
    for name in TRAVERSALS + ["outside.h5"]:
        with pytest.raises(LibraryError):
            play(root, name, None)


def test_a_model_of_the_performance_dimension_plays_now_and_another_is_refused(root, osc_receiver):
    shutil.copy(LEGACY_2D, root / "models" / LEGACY_2D.name)
    config = ServerConfig(3, "polyphony", server_ip="127.0.0.1", server_port=free_udp_port(), client_ip="127.0.0.1",
                          client_port=osc_receiver.port)
    lines = []
    server = PerformanceServer(config, model_to_play(config).predictor, report=lines.append)
    server.start()
    try:
        before = server.performance.predictor
        played = play(root, DEFAULT_3D.name, server)
        assert played.playing and played.said.startswith(f"now playing models/{DEFAULT_3D.name}, from a fresh start; "
                                                         "sampling: --pitemp")
        refused = play(root, LEGACY_2D.name, server)
        assert not refused.playing and refused.said == (
            f"models/{LEGACY_2D.name} is a 2-d model and this performance plays 3-d events: start IMPS with "
            "--dimension=2 to play it")
        assert refused.command == f"python predictive_music_model.py --dimension=2 --modelfile=models/{LEGACY_2D.name}"
    finally:
        server.stop()
    assert server.performance.predictor is not before  # swapped on the model thread, before it stopped
    assert played.said in lines  # and said on the console, as the page said it
