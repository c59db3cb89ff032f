"""imps.core.names: every file name IMPS makes, and reading them back."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import LEGACY_MODEL_2D_XS, LEGACY_WEIGHTS_4D_S
from imps.core.model import model_size
from imps.core.names import (WeightsName, checkpoint_path, dataset_path, log_dimension, log_glob, log_name,
                             loss_plot_path, model_name, parse_weights_name, weights_candidates, weights_path)


@pytest.mark.parametrize("dimension, size, expected", [
    (9, "s", "musicMDRNN-dim9-layers2-units64-mixtures5-scale10"),
    (2, "xs", "musicMDRNN-dim2-layers2-units32-mixtures5-scale10"),
    (4, "xxs", "musicMDRNN-dim4-layers2-units16-mixtures5-scale10"),
    (3, "xl", "musicMDRNN-dim3-layers3-units512-mixtures5-scale10"),
    (12, "l", "musicMDRNN-dim12-layers2-units256-mixtures5-scale10"),
])
def test_model_name(dimension, size, expected):
    assert model_name(model_size(size).config(dimension)) == expected


def test_model_names_match_the_original_imps_files():
    assert model_name(model_size("s").config(4)) + ".h5" == LEGACY_WEIGHTS_4D_S.name
    assert model_name(model_size("xs").config(2)) + ".h5" == LEGACY_MODEL_2D_XS.name


def test_the_trainers_files():
    config = model_size("s").config(9)
    stem = "musicMDRNN-dim9-layers2-units64-mixtures5-scale10"
    assert weights_path(Path("models"), config) == Path(f"models/{stem}.weights.h5")
    assert weights_path("some/dir", config) == Path(f"some/dir/{stem}.weights.h5")
    assert checkpoint_path("models", config) == Path(f"models/{stem}-checkpoint.weights.h5")
    assert loss_plot_path("models", config) == Path(f"models/{stem}-loss.png")


def test_weights_candidates_are_this_projects_file_then_the_original_one(tmp_path):
    config = model_size("s").config(4)
    assert weights_candidates(tmp_path / "nested", config) == [
        tmp_path / "nested" / "musicMDRNN-dim4-layers2-units64-mixtures5-scale10.weights.h5",
        tmp_path / "nested" / "musicMDRNN-dim4-layers2-units64-mixtures5-scale10.h5",
    ]


def test_weights_names_read_back_and_nothing_else_does():
    config = model_size("xl").config(3)
    assert parse_weights_name(weights_path(".", config).name) == WeightsName(3, 3, 512, 5, 10)
    for other in [checkpoint_path(".", config).name, LEGACY_WEIGHTS_4D_S.name, loss_plot_path(".", config).name,
                  "musicMDRNN-dimX-layers2-units64-mixtures5-scale10.weights.h5", "notes.weights.h5"]:
        assert parse_weights_name(other) is None, other


def test_dataset_path():
    assert dataset_path(Path("datasets"), 4) == Path("datasets/training-dataset-4d.npz")
    assert dataset_path("elsewhere", 12) == Path("elsewhere/training-dataset-12d.npz")


def test_log_names_read_back():
    assert log_name("2024-03-05T07-08-09", 4) == "2024-03-05T07-08-09-4d-mdrnn.log"
    assert log_dimension(log_name("2024-03-05T07-08-09-2", 12)) == 12
    assert log_dimension("notes.log") is None
    assert log_dimension("2024-03-05T07-08-09-2d-mdrnn.log.bak") is None


def test_log_glob_finds_only_its_own_dimension(tmp_path):
    names = [
        log_name("2024-03-05T07-08-09", 2),
        log_name("2024-03-05T07-08-09-2", 2),  # a second log in the same second
        log_name("2024-03-05T07-08-09", 12),
        log_name("2024-03-05T07-08-09-2", 4),
        log_name("2024-03-05T07-08-10", 4),
        "notes.txt",
        "2024-03-05T07-08-09-2d-mdrnn.log.bak",
    ]
    for name in names:
        (tmp_path / name).write_text("")
    found_2d = sorted(p.name for p in tmp_path.glob(log_glob(2)))
    found_4d = sorted(p.name for p in tmp_path.glob(log_glob(4)))
    found_12d = sorted(p.name for p in tmp_path.glob(log_glob(12)))
    assert found_2d == ["2024-03-05T07-08-09-2-2d-mdrnn.log", "2024-03-05T07-08-09-2d-mdrnn.log"]
    assert found_4d == ["2024-03-05T07-08-09-2-4d-mdrnn.log", "2024-03-05T07-08-10-4d-mdrnn.log"]
    assert found_12d == ["2024-03-05T07-08-09-12d-mdrnn.log"]
