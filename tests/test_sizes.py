"""The size table and every file name IMPS derives from dimension and size."""

from __future__ import annotations

from pathlib import Path

import pytest

from imps import sizes
from imps.sizes import (DEFAULT_SIZE, N_MIXTURES, SCALE, SEQ_LEN, SIZES, ModelSize, dataset_path, log_glob, log_name,
                        model_name, model_size, weights_candidates, weights_path)


@pytest.mark.parametrize("name, units, layers", [
    ("xxs", 16, 2),
    ("xs", 32, 2),
    ("s", 64, 2),
    ("m", 128, 2),
    ("l", 256, 2),
    ("xl", 512, 3),
])
def test_size_table(name, units, layers):
    size = model_size(name)
    assert size == ModelSize(name, units, layers)
    assert (size.name, size.units, size.layers) == (name, units, layers)


def test_size_table_has_exactly_the_six_sizes_in_order():
    assert list(SIZES) == ["xxs", "xs", "s", "m", "l", "xl"]
    assert all(SIZES[name].name == name for name in SIZES)


def test_defaults_and_constants():
    assert DEFAULT_SIZE == "s"
    assert DEFAULT_SIZE in SIZES
    assert N_MIXTURES == 5
    assert SCALE == 10.0
    assert SEQ_LEN == 50


def test_sizes_are_immutable():
    with pytest.raises(AttributeError):
        model_size("s").units = 1


@pytest.mark.parametrize("bad", ["XS", "huge", "", "small"])
def test_unknown_size_error_lists_the_choices(bad):
    with pytest.raises(ValueError) as caught:
        model_size(bad)
    message = str(caught.value)
    assert repr(bad) in message
    for name in SIZES:
        assert name in message
    assert "xxs, xs, s, m, l, xl" in message


@pytest.mark.parametrize("dimension, size, expected", [
    (9, "s", "musicMDRNN-dim9-layers2-units64-mixtures5-scale10"),
    (2, "xs", "musicMDRNN-dim2-layers2-units32-mixtures5-scale10"),
    (4, "xxs", "musicMDRNN-dim4-layers2-units16-mixtures5-scale10"),
    (3, "xl", "musicMDRNN-dim3-layers3-units512-mixtures5-scale10"),
    (12, "l", "musicMDRNN-dim12-layers2-units256-mixtures5-scale10"),
])
def test_model_name(dimension, size, expected):
    assert model_name(dimension, model_size(size)) == expected


def test_model_names_match_the_original_imps_fixture_files():
    # The shared fixtures carry the names the original IMPS gave its files.
    from conftest import LEGACY_MODEL_2D_XS, LEGACY_WEIGHTS_4D_S
    assert model_name(4, model_size("s")) + ".h5" == LEGACY_WEIGHTS_4D_S.name
    assert model_name(2, model_size("xs")) + ".h5" == LEGACY_MODEL_2D_XS.name


def test_weights_path():
    path = weights_path(Path("models"), 9, model_size("s"))
    assert path == Path("models") / "musicMDRNN-dim9-layers2-units64-mixtures5-scale10.weights.h5"
    # A string folder works as well as a Path.
    assert weights_path("some/dir", 4, model_size("xl")) == \
        Path("some/dir/musicMDRNN-dim4-layers3-units512-mixtures5-scale10.weights.h5")


def test_weights_candidates_are_this_projects_file_then_the_original_one():
    candidates = weights_candidates(Path("models"), 4, model_size("s"))
    assert candidates == [
        Path("models/musicMDRNN-dim4-layers2-units64-mixtures5-scale10.weights.h5"),
        Path("models/musicMDRNN-dim4-layers2-units64-mixtures5-scale10.h5"),
    ]
    assert candidates[0] == weights_path(Path("models"), 4, model_size("s"))
    assert sizes.WEIGHTS_SUFFIX == ".weights.h5"
    assert sizes.LEGACY_WEIGHTS_SUFFIX == ".h5"


def test_weights_candidates_keep_the_folder(tmp_path):
    for path in weights_candidates(tmp_path / "nested", 2, model_size("xxs")):
        assert path.parent == tmp_path / "nested"
        assert path.name.startswith("musicMDRNN-dim2-layers2-units16-mixtures5-scale10.")


def test_dataset_path():
    assert dataset_path(Path("datasets"), 4) == Path("datasets/training-dataset-4d.npz")
    assert dataset_path("elsewhere", 12) == Path("elsewhere/training-dataset-12d.npz")


def test_log_name_and_glob():
    assert log_name("2024-03-05T07-08-09", 4) == "2024-03-05T07-08-09-4d-mdrnn.log"
    assert log_glob(4) == "*-4d-mdrnn.log"


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
