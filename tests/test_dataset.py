"""Datasets: events from logs, collation over a folder, and files that load without pickle."""

from __future__ import annotations

import datetime as dt
import errno
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from conftest import LEGACY_DATASET_4D
from imps.core.cli import explain
from imps.core.errors import DatasetError, DatasetNeedsPickle, NoDataset, NoLogs, WriteFailed
from imps.core.logs import PerformanceLog
from imps.core.names import dataset_path, log_name
from imps.learn.dataset import Dataset, FileReport, collate_logs, load_dataset, performances_from_log, save_dataset

T0 = dt.datetime(2024, 3, 5, 7, 8, 9)


def at(seconds: float) -> str:
    return (T0 + dt.timedelta(seconds=seconds)).isoformat()


def write_log(path: Path, lines: list[str], tail: str = "") -> Path:
    path.write_text("".join(line + "\n" for line in lines) + tail, encoding="utf-8")
    return path


def small_dataset(lengths=(7, 3, 5), dimension=3, seed=0) -> Dataset:
    rng = np.random.default_rng(seed)
    return Dataset.from_performances([rng.random((n, dimension)).astype(np.float32) for n in lengths])


# performances_from_log

def test_dt_between_consecutive_interface_lines(tmp_path):
    path = write_log(tmp_path / "a-3d-mdrnn.log", [
        f"{at(0)},interface,0.1,0.2",  # starts the clock
        f"{at(0.5)},rnn,0.9,0.9",  # the model's lines are not the musician's
        f"{at(1.0)},interface,0.3,0.4",
        f"{at(1.25)},rnn,0.8,0.8",
        f"{at(1.25)},interface,0.5,0.6",
        f"{at(1.25)},interface,0.7,0.8",  # same instant: dt 0
        f"{at(3.0)},interface,1.0,0.0",
    ])
    [events], report = performances_from_log(path, 3)
    assert events.dtype == np.float32
    assert events.shape == (4, 3)
    np.testing.assert_allclose(events, np.float32([
        [1.0, 0.3, 0.4],
        [0.25, 0.5, 0.6],
        [0.0, 0.7, 0.8],
        [1.75, 1.0, 0.0],
    ]), rtol=0, atol=1e-6)
    assert isinstance(report, FileReport)
    assert report.path == path
    assert report.events == 4
    assert report.skipped == Counter()
    assert report.line() == "a-3d-mdrnn.log: 4 events"


def test_a_clock_step_back_or_a_long_gap_starts_a_new_performance(tmp_path):
    path = write_log(tmp_path / "b-2d-mdrnn.log", [
        f"{at(0)},interface,0.0",
        f"{at(2)},interface,0.2",
        f"{at(2 - 3600)},interface,0.1",  # the clock stepped back an hour: daylight saving ended
        f"{at(-3597.5)},rnn,0.9",  # the model's lines never split a performance
        f"{at(-3597)},interface,0.15",
        f"{at(-3596.5)},interface,0.3",
        f"{at(3600)},interface,0.4",  # the clock stepped forward: a gap of two hours
        f"{at(3600.25)},interface,0.5",
    ])
    performances, report = performances_from_log(path, 2)
    # The first event of each performance starts its clock; nothing is skipped.
    expected = [[[2.0, 0.2]], [[1.0, 0.15], [0.5, 0.3]], [[0.25, 0.5]]]
    assert len(performances) == len(expected)
    for performance, rows in zip(performances, expected):
        np.testing.assert_allclose(performance, np.float32(rows), atol=1e-6)
    assert (report.steps_back, report.long_gaps, report.performances, report.events) == (1, 1, 3, 4)
    assert report.skipped == Counter()
    assert report.line() == "b-2d-mdrnn.log: 4 events (3 performances: a new one at 1 clock step back and 1 gap of " \
                            "over 600 s)"


def test_the_gap_that_starts_a_new_performance_can_be_chosen(tmp_path):
    path = write_log(tmp_path / "g-2d-mdrnn.log", [f"{at(t)},interface,0.5" for t in (0, 1, 3, 5, 11, 12)])
    performances, report = performances_from_log(path, 2, max_gap=2)
    assert [len(p) for p in performances] == [3, 1]  # a gap of exactly 2 s stays within a performance
    assert report.line() == "g-2d-mdrnn.log: 4 events (2 performances: a new one at 1 gap of over 2 s)"
    dataset, [report] = collate_logs(tmp_path, 2, max_gap=1)
    assert dataset.lengths.tolist() == [1, 1]  # 0-1 s and 11-12 s; the events at 3 s and 5 s stand alone
    assert report.long_gaps == 3


def test_values_outside_0_1_are_clipped_for_the_dataset_and_counted(tmp_path):
    path = write_log(tmp_path / "midi-3d-mdrnn.log", [
        f"{at(0)},interface,0.0,127.0",  # starts the clock: not a row, so not counted
        f"{at(1)},interface,64.0,127.0",  # an interface sending 0-127
        f"{at(2)},interface,0.5,0.25",
        f"{at(3)},interface,-0.5,1.0",
        f"{at(3.5)},interface,0.5,0.25",
    ])
    [events], report = performances_from_log(path, 3)
    np.testing.assert_allclose(events, np.float32([[1.0, 1.0, 1.0], [1.0, 0.5, 0.25], [1.0, 0.0, 1.0],
                                                   [0.5, 0.5, 0.25]]), atol=1e-6)
    assert report.clipped == 3
    assert report.line() == "midi-3d-mdrnn.log: 4 events (clipped 3 values outside 0-1: check the interface's range)"
    messy = write_log(tmp_path / "both-2d-mdrnn.log", [f"{at(0)},interface,0.5", f"{at(1)},interface,2.0",
                                                        f"{at(0.5)},interface,0.5", f"{at(2)},interface,0.5"])
    _, report = performances_from_log(messy, 2)
    assert report.line() == ("both-2d-mdrnn.log: 2 events (2 performances: a new one at 1 clock step back; "
                             "clipped 1 values outside 0-1: check the interface's range)")


def test_performance_from_a_log_written_by_performance_log(tmp_path):
    log = PerformanceLog.start(tmp_path, 4, now=T0)
    gaps = [0.0, 0.1, 0.25, 0.05, 1.5]
    when = T0
    values = np.random.default_rng(3).random((len(gaps), 3)).astype(np.float32)
    for gap, v in zip(gaps, values):
        when += dt.timedelta(seconds=gap)
        log.write("interface", v, when=when)
        log.write("rnn", 1 - v, when=when)
        log.command("mode", "battle")  # a command given while playing is no event and no bad line
    log.close()
    [events], report = performances_from_log(log.path, 4)
    assert events.shape == (4, 4)
    np.testing.assert_allclose(events[:, 0], gaps[1:], atol=1e-6)
    np.testing.assert_array_equal(events[:, 1:], values[1:])
    assert report.skipped == Counter()


def test_a_log_with_one_or_no_interface_events_gives_no_rows(tmp_path):
    one = write_log(tmp_path / "one-3d-mdrnn.log", [f"{at(0)},interface,0.1,0.2", f"{at(1)},rnn,0.1,0.2"])
    performances, report = performances_from_log(one, 3)
    assert performances == []
    assert report.events == report.performances == 0
    empty = write_log(tmp_path / "empty-3d-mdrnn.log", [])
    performances, report = performances_from_log(empty, 3)
    assert performances == []
    assert report.line() == "empty-3d-mdrnn.log: 0 events"


def test_messy_lines_are_reported_with_their_reasons(tmp_path):
    path = write_log(tmp_path / "m-3d-mdrnn.log", [
        f"{at(0)},interface,0.1,0.2",
        "",
        f"{at(1)},interface,nan,0.2",
        f"{at(1)},interface,0.1,0.2,0.3",
        f"{at(2)},interface,0.3,0.4",
    ], tail=f"{at(3)},interface,0.5")
    [events], report = performances_from_log(path, 3)
    np.testing.assert_allclose(events, np.float32([[2.0, 0.3, 0.4]]), atol=1e-6)
    assert report.skipped == Counter({"not a log line": 1, "non-finite value": 1,
                                      "wrong number of values (not 2)": 1, "unfinished last line": 1})
    assert report.line() == ("m-3d-mdrnn.log: 1 events (skipped 1 non-finite value, 1 not a log line, "
                             "1 unfinished last line, 1 wrong number of values (not 2))")


# collate_logs

def make_logs_folder(folder: Path) -> Path:
    folder.mkdir()
    write_log(folder / log_name("2024-01-01T10-00-00", 3), [
        f"{at(0)},interface,0.0,0.0",
        f"{at(0.5)},interface,0.1,0.1",
        f"{at(0.75)},rnn,0.5,0.5",
        f"{at(1.0)},interface,0.2,0.2",
        f"{at(2.0)},interface,0.3,0.3",
    ])
    write_log(folder / log_name("2024-01-01T10-00-00-2", 3), [  # a second log in that second
        f"{at(10)},interface,0.9,0.9",
        "garbage",
        f"{at(10.25)},interface,0.8,0.8",
        f"{at(9)},interface,0.0,0.0",
        f"{at(11)},interface,oops,0.7",
        f"{at(11)},interface,0.7,0.7",
    ], tail=f"{at(12)},interface,0.6")
    (folder / log_name("2024-01-02T10-00-00", 3)).write_text("")  # empty: performance crashed at once
    write_log(folder / log_name("2024-01-03T10-00-00", 4), [  # another dimension: not collated
        f"{at(0)},interface,0.1,0.2,0.3",
        f"{at(1)},interface,0.1,0.2,0.3",
    ])
    write_log(folder / "notes.txt", [f"{at(0)},interface,0.1,0.2", f"{at(1)},interface,0.1,0.2"])
    return folder


def test_collate_logs_over_a_folder(tmp_path):
    folder = make_logs_folder(tmp_path / "logs")
    seen = []

    def progress(files):
        seen.extend(files)
        return files

    dataset, reports = collate_logs(folder, 3, progress=progress)
    names = ["2024-01-01T10-00-00-2-3d-mdrnn.log", "2024-01-01T10-00-00-3d-mdrnn.log",
             "2024-01-02T10-00-00-3d-mdrnn.log"]
    assert [p.name for p in seen] == names
    assert [r.path.name for r in reports] == names
    assert [r.events for r in reports] == [2, 3, 0]
    assert reports[0].skipped == Counter({"not a log line": 1, "non-numeric value": 1, "unfinished last line": 1})
    assert reports[0].steps_back == 1 and reports[0].performances == 2
    assert reports[1].skipped == Counter()
    assert reports[2].skipped == Counter()

    assert isinstance(dataset, Dataset)
    assert dataset.dimension == 3
    # The empty log adds no performance; the clock's step back in the first makes two of it.
    assert dataset.lengths.tolist() == [1, 1, 3]
    assert dataset.events.dtype == np.float32 and dataset.lengths.dtype == np.int64
    np.testing.assert_allclose(dataset.events, np.float32([
        [0.25, 0.8, 0.8],
        [2.0, 0.7, 0.7],
        [0.5, 0.1, 0.1],
        [0.5, 0.2, 0.2],
        [1.0, 0.3, 0.3],
    ]), atol=1e-6)
    assert [len(p) for p in dataset.performances()] == [1, 1, 3]


def test_collate_logs_takes_only_its_dimension(tmp_path):
    folder = make_logs_folder(tmp_path / "logs")
    dataset, reports = collate_logs(folder, 4)
    assert [r.path.name for r in reports] == ["2024-01-03T10-00-00-4d-mdrnn.log"]
    assert dataset.lengths.tolist() == [1]
    np.testing.assert_allclose(dataset.events, np.float32([[1.0, 0.1, 0.2, 0.3]]), atol=1e-6)


def test_collate_logs_default_progress_and_string_folder(in_tmp_dir):
    make_logs_folder(in_tmp_dir / "logs")
    dataset, reports = collate_logs("logs", 3)
    assert len(reports) == 3
    assert len(dataset.events) == 5


def test_collate_logs_missing_folder(tmp_path):
    with pytest.raises(NoLogs, match="no logs folder") as caught:
        collate_logs(tmp_path / "nowhere", 3)
    assert explain(caught.value).endswith(": record some with predictive_music_model.py --log, or point --source "
                                          "at your logs")
    (tmp_path / "a-file").write_text("")
    with pytest.raises(DatasetError, match="no logs folder"):
        collate_logs(tmp_path / "a-file", 3)


def test_collate_logs_without_logs_of_the_dimension(tmp_path):
    folder = make_logs_folder(tmp_path / "logs")
    with pytest.raises(DatasetError) as caught:
        collate_logs(folder, 9)
    assert "*-9d-mdrnn.log" in str(caught.value)
    assert explain(caught.value).endswith(": record some with predictive_music_model.py --dimension=9 --log")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no .*-2d-mdrnn.log logs"):
        collate_logs(tmp_path / "empty", 2)


def test_collate_logs_without_usable_events(tmp_path):
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / log_name("2024-01-01T10-00-00", 3)).write_text("")
    write_log(folder / log_name("2024-01-01T10-00-01", 3), [  # only the model played
        f"{at(0)},rnn,0.1,0.2", f"{at(1)},rnn,0.1,0.2"])
    write_log(folder / log_name("2024-01-01T10-00-02", 3), [  # one note: it only starts the clock
        f"{at(0)},interface,0.1,0.2"])
    write_log(folder / log_name("2024-01-01T10-00-03", 3), [  # the wrong number of values
        f"{at(0)},interface,0.1", f"{at(1)},interface,0.1"])
    with pytest.raises(DatasetError) as caught:
        collate_logs(folder, 3)
    assert "4 logs" in str(caught.value)
    assert "no usable 3-d interface events" in str(caught.value)


# Dataset

def test_dataset_from_performances_and_back():
    a = np.arange(12, dtype=np.float64).reshape(4, 3)
    b = np.zeros((0, 3))
    c = np.ones((2, 3))
    dataset = Dataset.from_performances([a, b, c])
    assert dataset.events.dtype == np.float32
    assert dataset.lengths.tolist() == [4, 2]
    assert dataset.dimension == 3
    parts = dataset.performances()
    assert len(parts) == 2
    np.testing.assert_array_equal(parts[0], a)
    np.testing.assert_array_equal(parts[1], c)


def test_dataset_from_no_performances():
    with pytest.raises(DatasetError):
        Dataset.from_performances([])
    with pytest.raises(DatasetError):
        Dataset.from_performances([np.zeros((0, 3)), np.zeros((0, 3))])


def test_summary():
    events = np.float32([[0.5, 0, 0], [0.25, 1, 1], [1.0, 0, 1], [2.0, 1, 0]])
    dataset = Dataset(events, np.array([3, 1], np.int64))
    assert dataset.summary() == "2 performances, 4 events, 12 values, 3.8 seconds of playing"


# save_dataset / load_dataset

def test_save_and_load_round_trip_without_pickle(tmp_path):
    dataset = small_dataset()
    path = dataset_path(tmp_path / "datasets", 3)
    assert save_dataset(dataset, path) == path
    assert path.is_file()
    # Nothing left beside it: the temporary file was renamed into place.
    assert [p.name for p in path.parent.iterdir()] == ["training-dataset-3d.npz"]

    # A plain numeric file: numpy reads every array in it without pickle.
    with np.load(path, allow_pickle=False) as data:
        assert sorted(data.files) == ["events", "lengths"]
        arrays = {key: data[key] for key in data.files}
    assert all(array.dtype != object for array in arrays.values())
    assert arrays["events"].dtype == np.float32
    assert arrays["lengths"].dtype == np.int64

    loaded = load_dataset(path)
    np.testing.assert_array_equal(loaded.events, dataset.events)
    np.testing.assert_array_equal(loaded.lengths, dataset.lengths)
    assert loaded.events.dtype == np.float32 and loaded.lengths.dtype == np.int64
    assert loaded.summary() == dataset.summary()


def test_save_replaces_an_old_dataset(tmp_path):
    path = tmp_path / "training-dataset-3d.npz"
    save_dataset(small_dataset((4,), seed=1), path)
    save_dataset(small_dataset((5, 6), seed=2), path)
    assert load_dataset(path).lengths.tolist() == [5, 6]
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_a_failed_save_leaves_the_old_dataset_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "training-dataset-3d.npz"
    save_dataset(small_dataset((4,), seed=1), path)
    before = path.read_bytes()

    def broken(file, **arrays):
        Path(file).write_bytes(b"PK\x03\x04 half a zip")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez_compressed", broken)
    with pytest.raises(WriteFailed) as caught:
        save_dataset(small_dataset((9,), seed=2), path)
    assert str(caught.value) == f"could not write {path} (No space left on device); the file there before is unchanged"
    assert explain(caught.value).endswith(": make room on the disk (or raise the limit on file size) and run again")
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_load_missing_dataset(tmp_path):
    with pytest.raises(NoDataset, match="no dataset at ") as caught:
        load_dataset(tmp_path / "training-dataset-3d.npz")
    assert explain(caught.value).endswith(": make one with generate_dataset.py")


def test_legacy_dataset_refuses_without_allow_pickle():
    with pytest.raises(DatasetNeedsPickle) as caught:
        load_dataset(LEGACY_DATASET_4D)
    assert "pickle can run code" in str(caught.value) and "--" not in str(caught.value)
    assert explain(caught.value).endswith(": if you trust the file, pass --allow-pickle, or regenerate it with "
                                          "generate_dataset.py")


def test_legacy_dataset_loads_with_allow_pickle():
    dataset = load_dataset(LEGACY_DATASET_4D, allow_pickle=True)
    assert len(dataset.lengths) == 4
    assert len(dataset.events) == 12074
    assert int(dataset.lengths.sum()) == 12074
    assert dataset.dimension == 4
    assert dataset.events.dtype == np.float32
    assert dataset.lengths.dtype == np.int64
    # dt in seconds, then three interface values in [0, 1].
    assert (dataset.events[:, 0] >= 0).all()
    assert ((dataset.events[:, 1:] >= 0) & (dataset.events[:, 1:] <= 1)).all()
    assert dataset.summary().startswith("4 performances, 12074 events, 48296 values, ")
    # The same performances as the original file holds.
    with np.load(LEGACY_DATASET_4D, allow_pickle=True) as data:
        perfs = list(data["perfs"])
    for ours, theirs in zip(dataset.performances(), perfs):
        np.testing.assert_array_equal(ours, theirs)


def test_legacy_dataset_resaved_loads_without_pickle(tmp_path):
    path = save_dataset(load_dataset(LEGACY_DATASET_4D, allow_pickle=True), tmp_path / "training-dataset-4d.npz")
    dataset = load_dataset(path)
    assert dataset.lengths.sum() == 12074 and len(dataset.lengths) == 4


def write_legacy(path: Path, performances: list[np.ndarray]) -> Path:
    perfs = np.empty(len(performances), dtype=object)
    for i, p in enumerate(performances):
        perfs[i] = p
    np.savez_compressed(path, perfs=perfs)
    return path


def test_a_synthetic_original_dataset(tmp_path):
    a = np.random.default_rng(0).random((20, 3)).astype(np.float32)
    b = np.random.default_rng(1).random((20, 3)).astype(np.float32)  # same length: still one per performance
    path = write_legacy(tmp_path / "old.npz", [a, b])
    with pytest.raises(DatasetNeedsPickle):
        load_dataset(path)
    dataset = load_dataset(path, allow_pickle=True)
    assert dataset.lengths.tolist() == [20, 20]
    np.testing.assert_array_equal(dataset.events, np.concatenate([a, b]))


def test_corrupt_original_dataset_gives_dataset_error(tmp_path):
    rng = np.random.default_rng(0)
    path = write_legacy(tmp_path / "old.npz", [rng.random((2000, 3)), rng.random((900, 3))])
    corrupt_middle(path)
    with pytest.raises(DatasetError, match="not a readable dataset file"):
        load_dataset(path, allow_pickle=True)


def corrupt_middle(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    assert len(raw) > 3000
    raw[200:2200] = bytes(b ^ 0xFF for b in raw[200:2200])
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("damage", ["empty", "text", "truncated", "compressed data", "npy array", "pickle"])
def test_corrupt_file_gives_dataset_error(tmp_path, damage):
    path = tmp_path / "training-dataset-3d.npz"
    save_dataset(small_dataset((3000,), seed=5), path)
    raw = path.read_bytes()
    if damage == "empty":
        path.write_bytes(b"")
    elif damage == "text":
        path.write_text("this is not a dataset\n")
    elif damage == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "compressed data":
        corrupt_middle(path)
    elif damage == "npy array":
        with open(path, "wb") as f:
            np.save(f, np.zeros((10, 3), np.float32))
    elif damage == "pickle":
        import pickle
        path.write_bytes(pickle.dumps({"events": [1, 2, 3]}))
    with pytest.raises(DatasetError, match="not a readable dataset file"):
        load_dataset(path)
    with pytest.raises(DatasetError, match="not a readable dataset file"):
        load_dataset(path, allow_pickle=True)


def test_npz_with_other_arrays_gives_dataset_error(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, x=np.zeros(3))
    with pytest.raises(DatasetError, match="neither an IMPS dataset"):
        load_dataset(path)


def test_npz_with_object_events_gives_dataset_error_without_pickle(tmp_path):
    path = tmp_path / "sneaky.npz"
    events = np.empty(2, dtype=object)
    events[0], events[1] = np.zeros((2, 3)), np.zeros((1, 3))
    np.savez(path, events=events, lengths=np.array([2, 1]))
    with pytest.raises(DatasetError, match="not a readable dataset file"):
        load_dataset(path, allow_pickle=True)


def test_inconsistent_lengths_give_dataset_error(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, events=np.zeros((10, 3), np.float32), lengths=np.array([4, 5], np.int64))
    with pytest.raises(DatasetError, match="inconsistent"):
        load_dataset(path)
    np.savez(path, events=np.zeros((10, 3), np.float32), lengths=np.array([12, -2], np.int64))
    with pytest.raises(DatasetError, match="inconsistent"):
        load_dataset(path)
    np.savez(path, events=np.zeros(10, np.float32), lengths=np.array([10], np.int64))
    with pytest.raises(DatasetError, match="inconsistent"):
        load_dataset(path)


def test_saved_file_is_a_zip_of_npy_arrays(tmp_path):
    path = save_dataset(small_dataset(), tmp_path / "d.npz")
    with zipfile.ZipFile(path) as z:
        assert sorted(z.namelist()) == ["events.npy", "lengths.npy"]
