"""Pictures of logs and datasets: utils/plot_log.py and utils/plot_dataset.py as a
musician runs them, on a log from the corpus generator and a dataset made from it."""

import datetime as dt

import numpy as np
import pytest

from imps.core.logs import PerformanceLog, read_log
from imps.core.names import log_glob
from imps.learn.dataset import Dataset, collate_logs, save_dataset
from scripts import one_error_line, run_script

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def is_png(path):
    data = path.read_bytes()
    return len(data) > 1000 and data.startswith(PNG_SIGNATURE) and data[12:16] == b"IHDR"


def png_size(path):
    data = path.read_bytes()
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Two short generated performances on 4 faders, one with the model's lines added."""
    root = tmp_path_factory.mktemp("corpus")
    result = run_script("utils/make_corpus.py", "--dimension=5", "--performances=2", "--minutes=0.5", "--seed=3",
                        "--out", str(root / "logs"), cwd=root, timeout=120)
    assert result.returncode == 0, result.stderr
    logs = sorted((root / "logs").glob(log_glob(5)))
    assert len(logs) == 2
    # The model answering: rnn lines after the musician's.
    lines = logs[0].read_text().splitlines()
    last = dt.datetime.fromisoformat(lines[-1].split(",")[0])
    with_model = root / "duet-5d-mdrnn.log"
    log = PerformanceLog(with_model)
    for line in lines:
        fields = line.split(",")
        log.write(fields[1], [float(v) for v in fields[2:]], when=dt.datetime.fromisoformat(fields[0]))
    for k in range(40):
        log.write("rnn", [0.5 + 0.4 * np.sin(k / 5 + j) for j in range(4)],
                  when=last + dt.timedelta(seconds=2 + k * 0.03))
    log.close()
    dataset, _ = collate_logs(root / "logs", 5)
    save_dataset(dataset, root / "datasets" / "training-dataset-5d.npz")
    return root, with_model, dataset


def test_plot_log_draws_a_png_beside_the_log(corpus):
    root, log, _ = corpus
    result = run_script("utils/plot_log.py", str(log), cwd=root, timeout=120)
    assert result.returncode == 0, result.stderr
    picture = log.with_name(log.name + ".png")
    assert f"wrote {picture}" in result.stdout
    assert is_png(picture)
    width, height = png_size(picture)
    assert width == 1200 and height > 400  # 12 inches at 100 dpi, four lanes tall
    assert not [p for p in picture.parent.iterdir() if p.name.startswith(".")]  # no temporary file left


def colour_pixels(path, colour, tolerance=0.08):
    """How many pixels of the PNG at `path` are close to `colour` (#rrggbb)."""
    from matplotlib import image

    pixels = image.imread(path)[..., :3]
    wanted = np.array([int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    return int((np.abs(pixels - wanted).max(axis=-1) < tolerance).sum())


def test_the_musician_and_the_model_are_drawn_in_their_own_colours(corpus):
    from imps.learn.plots import COLOURS

    root, duet, _ = corpus
    solo = sorted((root / "logs").glob(log_glob(5)))[1]
    for log in (duet, solo):
        assert run_script("utils/plot_log.py", str(log), "-o", str(root / f"{log.stem}.png"), cwd=root,
                          timeout=120).returncode == 0
    assert colour_pixels(root / f"{duet.stem}.png", COLOURS["interface"]) > 500
    assert colour_pixels(root / f"{duet.stem}.png", COLOURS["rnn"]) > 500
    assert colour_pixels(root / f"{solo.stem}.png", COLOURS["interface"]) > 500
    assert colour_pixels(root / f"{solo.stem}.png", COLOURS["rnn"]) < 50  # only the legend could be red: none


def same_picture(a, b) -> bool:
    from matplotlib import image

    first, second = image.imread(a), image.imread(b)
    return first.shape == second.shape and bool((first == second).all())


def test_plot_log_takes_an_output_a_stretch_and_a_dimension(corpus, tmp_path):
    from imps.learn.plots import plot_log

    root, log, _ = corpus
    plain = root / "plain.log"  # no dimension in the name: read from the first line
    plain.write_bytes(log.read_bytes())
    out = root / "pictures" / "stretch.png"
    result = run_script("utils/plot_log.py", str(plain), "--output", str(out), "--start", "2", "--end", "10",
                        "--dpi", "50", cwd=root, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote {out}\n"
    # 12 by 4.75 inches (four lanes) at 50 dpi: the stretch from 2 s to 10 s, drawn as the package draws it,
    # and not the whole log.
    assert is_png(out) and png_size(out)[0] == 600 and png_size(out)[1] in (237, 238)
    assert same_picture(out, plot_log(plain, tmp_path / "stretch.png", start=2, end=10, dpi=50))
    assert not same_picture(out, plot_log(plain, tmp_path / "whole.png", dpi=50))
    # The dimension, given or read from the first line, draws the same picture.
    result = run_script("utils/plot_log.py", str(plain), "-d", "5", "-o", str(root / "d.png"), cwd=root, timeout=120)
    assert result.returncode == 0, result.stderr
    assert same_picture(root / "d.png", plot_log(plain, tmp_path / "found.png"))


def test_plot_log_errors_are_one_line(corpus, tmp_path):
    root, log, _ = corpus
    result = run_script("utils/plot_log.py", str(tmp_path / "missing-9d-mdrnn.log"), cwd=tmp_path)
    assert result.returncode == 1 and "no log file at" in one_error_line(result)

    junk = tmp_path / "junk-3d-mdrnn.log"
    junk.write_text("this is not a log\nnor is this\n")
    result = run_script("utils/plot_log.py", str(junk), cwd=tmp_path)
    assert result.returncode == 1
    line = one_error_line(result)
    assert str(junk) in line and "no usable lines with 2 values" in line

    result = run_script("utils/plot_log.py", str(log), "--dimension=3", "-o", str(tmp_path / "x.png"), cwd=tmp_path)
    assert result.returncode == 1 and "wrong number of values" in one_error_line(result)

    result = run_script("utils/plot_log.py", str(log), "--start", "500", "-o", str(tmp_path / "x.png"), cwd=tmp_path)
    assert result.returncode == 1 and "nothing to draw" in one_error_line(result)

    unnamed = tmp_path / "notes.txt"
    unnamed.write_text("hello\n")
    result = run_script("utils/plot_log.py", str(unnamed), cwd=tmp_path)
    assert result.returncode == 1 and "holds no IMPS log lines" in one_error_line(result)

    result = run_script("utils/plot_log.py", str(log), "--hold", "0", cwd=tmp_path)
    assert result.returncode == 2 and "--hold" in one_error_line(result)

    result = run_script("utils/plot_log.py", cwd=tmp_path)
    assert result.returncode == 2 and "--help" in one_error_line(result)
    assert not list(tmp_path.glob("*.png"))


def test_plot_dataset_draws_a_summary(corpus):
    root, _, dataset = corpus
    path = root / "datasets" / "training-dataset-5d.npz"
    result = run_script("utils/plot_dataset.py", str(path), cwd=root, timeout=120)
    assert result.returncode == 0, result.stderr
    picture = path.with_name(path.name + ".png")
    assert is_png(picture) and png_size(picture) == (1200, 420)
    assert dataset.summary() in result.stdout
    # By dimension, from datasets/ in the working folder.
    result = run_script("utils/plot_dataset.py", "--dimension=5", "-o", "summary.png", cwd=root, timeout=120)
    assert result.returncode == 0, result.stderr
    assert is_png(root / "summary.png")


def test_plot_dataset_draws_zero_and_single_times(tmp_path, monkeypatch):
    from imps.learn import plots

    events = np.zeros((60, 3), np.float32)
    events[:, 0] = 0.02
    events[::7, 0] = 0.0  # events at the same instant cannot go on a log axis, and are counted instead
    dataset = Dataset(events, np.array([60]))
    save_dataset(dataset, tmp_path / "one.npz")
    result = run_script("utils/plot_dataset.py", "one.npz", "-o", "one.png", cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"wrote one.png: {dataset.summary()}\n" and result.stderr == ""  # no warning either
    assert is_png(tmp_path / "one.png") and png_size(tmp_path / "one.png") == (1200, 420)
    # It is the package's picture of the dataset, whose titles count the nine events at 0 s (every seventh).
    titles = []
    save_png = plots.save_png

    def save_noting_the_titles(figure, path):
        titles.extend(axes.get_title() for axes in figure.axes)
        return save_png(figure, path)

    monkeypatch.setattr(plots, "save_png", save_noting_the_titles)
    assert same_picture(tmp_path / "one.png", plots.plot_dataset(dataset, tmp_path / "expected.png", "one.npz"))
    assert titles == ["events per performance (mean 60)", "time between events (9 events of 0 s not shown)"]


def test_plot_dataset_errors_are_one_line(tmp_path):
    result = run_script("utils/plot_dataset.py", "nothing.npz", cwd=tmp_path)
    assert result.returncode == 1 and "no dataset at nothing.npz" in one_error_line(result)
    (tmp_path / "bad.npz").write_text("not a dataset")
    result = run_script("utils/plot_dataset.py", "bad.npz", cwd=tmp_path)
    assert result.returncode == 1 and "not a readable dataset" in one_error_line(result)
    result = run_script("utils/plot_dataset.py", cwd=tmp_path)
    assert result.returncode == 2 and "--dimension" in one_error_line(result)
    events = np.full((60, 3), 0.1, np.float32)
    save_dataset(Dataset(events, np.array([60])), tmp_path / "three.npz")
    result = run_script("utils/plot_dataset.py", "three.npz", "--dimension=9", cwd=tmp_path)
    assert result.returncode == 1 and "3-d events, not 9-d" in one_error_line(result)
    assert not list(tmp_path.glob("*.png"))


@pytest.mark.parametrize("name", ["utils/plot_log.py", "utils/plot_dataset.py"])
def test_the_tools_explain_themselves(name, tmp_path):
    result = run_script(name, "--help", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("usage:") and "--output" in result.stdout


@pytest.mark.slow
def test_make_examples_has_the_default_model_answer_through_the_real_server(tmp_path):
    """utils/make_examples.py, shortened: a procedural performer plays to
    predictive_music_model.py, which has no weights of its own, so the default 9-d
    model answers after 2 s of quiet; the log holds both, and both pictures are drawn."""
    result = run_script("utils/make_examples.py", "--out", str(tmp_path), "--seconds", "8", cwd=tmp_path,
                        timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "playing the default model" in result.stdout and "UNTRAINED" not in result.stdout
    log = tmp_path / "example-performance-9d-mdrnn.log"
    contents = read_log(log, 8)
    assert not contents.skipped
    sources = [e.source for e in contents.events]
    assert sources[0] == "interface" and "rnn" in sources
    first_answer = sources.index("rnn")
    quiet = contents.events[first_answer].time - max(e.time for e in contents.events[:first_answer])
    assert quiet > 1.9  # call and response: the model waits 2 s for the musician to stop
    assert is_png(tmp_path / "example-performance.png") and is_png(tmp_path / "example-dataset.png")
