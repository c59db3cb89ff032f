"""imps/learn/corpus.py and utils/make_corpus.py: procedural performers writing real IMPS logs."""

import re

import numpy as np
import pytest

from imps.core.logs import read_log
from imps.core.names import log_glob
from imps.learn import corpus as procedural
from imps.learn.dataset import collate_logs, load_dataset
from scripts import one_error_line, run_script


def make(out, *args, dimension=9, cwd):
    return run_script("utils/make_corpus.py", f"--dimension={dimension}", "--out", str(out), *args, cwd=cwd,
                      timeout=120)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    result = make(root / "9d", "--performances=3", "--minutes=1", "--seed=5", cwd=root)
    assert result.returncode == 0, result.stderr
    return root, result


def test_writes_logs_named_as_imps_names_them(corpus):
    root, result = corpus
    logs = sorted((root / "9d").iterdir())
    assert len(logs) == 3
    for log in logs:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-9d-mdrnn\.log", log.name)
        assert log.name in result.stdout
    assert sorted((root / "9d").glob(log_glob(9))) == logs
    assert "generate_dataset.py --dimension=9 --source" in result.stdout


def test_every_line_is_an_interface_event_of_7_bit_fader_values(corpus):
    root, _ = corpus
    for log in (root / "9d").iterdir():
        contents = read_log(log, 8)
        assert not contents.skipped and len(contents.events) > 300
        assert {e.source for e in contents.events} == {"interface"}
        values = np.array([e.values for e in contents.events])
        assert values.min() >= 0 and values.max() <= 1
        np.testing.assert_allclose(values * 127, np.round(values * 127), atol=1e-4)
        times = np.array([e.time for e in contents.events])
        assert 48 <= times[-1] - times[0] <= 100  # 0.8 to 1.2 times --minutes, then the phrase under way ends


def test_timing_and_motion_are_a_hands(corpus):
    root, _ = corpus
    dataset, _ = collate_logs(root / "9d", 9)
    dt = dataset.events[:, 0]
    assert dt.min() >= procedural.MIN_INTERVAL - 1e-5  # controller events are never closer than 10 ms
    moving = (dt >= 0.010 - 1e-5) & (dt <= 0.060 + 1e-5)
    assert moving.mean() > 0.8  # mostly the controller's stream while a fader moves
    gaps = dt[dt > 0.3]
    assert len(gaps) > 10 and gaps.max() < 4.0  # pauses between gestures, 0.3 to 3 s (plus a tick or two)
    for performance in dataset.performances():
        changed = (np.diff(performance[:, 1:], axis=0) != 0).sum(axis=1)
        assert changed.min() >= 1  # an event is sent only when something moved
        assert changed.max() <= 3  # by one hand: 1 to 3 faders at a time
        assert np.bincount(changed)[1] > len(changed) * 0.3
        assert (np.abs(np.diff(performance[:, 1:], axis=0)) > 0).any(axis=0).sum() >= 4  # many faders played


def test_the_same_seed_writes_the_same_files_and_another_seed_others(corpus, tmp_path):
    root, _ = corpus
    result = make(tmp_path / "again", "--performances=2", "--minutes=1", "--seed=5", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    first = sorted((root / "9d").iterdir())
    again = sorted((tmp_path / "again").iterdir())
    # Performance k is the same whatever --performances says.
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in first[:2]]
    result = make(tmp_path / "other", "--performances=1", "--minutes=1", "--seed=6", cwd=tmp_path)
    assert result.returncode == 0
    [other] = (tmp_path / "other").iterdir()
    assert other.read_bytes() != first[0].read_bytes()


def test_logs_are_not_overwritten_unless_asked(tmp_path):
    assert make(tmp_path / "c", "--performances=1", "--minutes=0.2", cwd=tmp_path).returncode == 0
    [log] = (tmp_path / "c").iterdir()
    before = log.read_bytes()
    result = make(tmp_path / "c", "--performances=1", "--minutes=0.2", "--seed=2", cwd=tmp_path)
    assert result.returncode == 1
    line = one_error_line(result)
    assert log.name in line and "--overwrite" in line
    assert log.read_bytes() == before
    result = make(tmp_path / "c", "--performances=1", "--minutes=0.2", "--seed=2", "--overwrite", cwd=tmp_path)
    assert result.returncode == 0 and log.read_bytes() != before


def test_generate_dataset_collates_the_corpus(corpus, tmp_path):
    root, _ = corpus
    result = run_script("generate_dataset.py", "-d", "9", "-s", str(root / "9d"), "-o", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "skipped" not in result.stdout
    dataset = load_dataset(tmp_path / "training-dataset-9d.npz")
    assert len(dataset.lengths) == 3 and dataset.dimension == 9
    dataset.window_starts()  # long enough to train on


@pytest.mark.parametrize("dimension", [2, 3])
def test_few_faders_work_too(dimension, tmp_path):
    result = make(tmp_path, "--performances=1", "--minutes=0.5", dimension=dimension, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    dataset, _ = collate_logs(tmp_path, dimension)
    assert dataset.dimension == dimension and len(dataset.events) > 100


def test_continuous_values_with_steps_0(tmp_path):
    assert make(tmp_path, "--performances=1", "--minutes=0.3", "--steps=0", dimension=3, cwd=tmp_path).returncode == 0
    dataset, _ = collate_logs(tmp_path, 3)
    values = dataset.events[:, 1:]
    assert not np.allclose(values * 127, np.round(values * 127), atol=1e-4)


def test_a_repeated_phrase_is_the_same_gestures_varied():
    rng = np.random.default_rng(0)
    performer = procedural.make_performer(rng, 8)
    positions = np.full(8, 0.5)
    phrase = procedural.make_phrase(rng, performer, positions)
    for _ in range(20):
        varied = procedural.vary(rng, performer, phrase, 8, positions)
        assert abs(len(varied.gestures) - len(phrase.gestures)) <= 1
        assert len(varied.gaps) == len(varied.gestures) - 1
        kept = min(len(varied.gestures), len(phrase.gestures)) - 1  # one may be dropped or added
        shapes = [[p.shape for p in g.parts] for g in phrase.gestures]
        assert sum([[p.shape for p in g.parts] in shapes for g in varied.gestures]) >= kept
        for g in varied.gestures:
            assert all(0 <= p.fader < 8 and 0 <= p.target <= 1 for p in g.parts)


def test_bad_arguments_are_one_line(tmp_path):
    result = make(tmp_path / "x", "--performances=0", cwd=tmp_path)
    assert result.returncode == 2 and "--performances" in one_error_line(result)
    result = make(tmp_path / "x", "--dimension=1", cwd=tmp_path)
    assert result.returncode == 2 and "at least 2" in one_error_line(result)
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = make(blocker / "sub", "--performances=1", "--minutes=0.1", cwd=tmp_path)
    assert result.returncode == 1 and str(blocker) in one_error_line(result)


def test_help(tmp_path):
    result = run_script("utils/make_corpus.py", "--help", cwd=tmp_path)
    assert result.returncode == 0 and "--performances" in result.stdout and "--seed" in result.stdout
