"""The trainer as the web page starts it: a real child process, its lines collected,
stopped as Ctrl-C stops it."""

import re
import time
from pathlib import Path

import numpy as np
import pytest

from imps.core.weights import load_weights
from imps.learn.dataset import Dataset, save_dataset
from imps.web.library import LibraryError
from imps.web.training_job import JobError, TrainingJob, TrainingRequest

DATASET = "training-dataset-3d.npz"


@pytest.fixture
def project(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    save_dataset(Dataset.from_performances([rng.random((1500, 3)), rng.random((1500, 3))]),
                 tmp_path / "datasets" / DATASET)
    return tmp_path


def test_a_request_becomes_the_trainers_flags(project):
    request = TrainingRequest(DATASET, 3, "xxs", epochs=5, minutes=0.5, early_stopping=True, warmup=0)
    assert request.arguments(project) == ["--dimension=3", f"--dataset=datasets/{DATASET}", "--modelsize=xxs",
                                          "--numepochs=5", "--minutes=0.5", "--earlystopping", "--warmup=0"]
    assert TrainingRequest(DATASET, 3).arguments(project) == ["--dimension=3", f"--dataset=datasets/{DATASET}"]


@pytest.mark.parametrize("request_, refused", [
    (TrainingRequest("../x.npz", 3), "there is no dataset called '../x.npz' in datasets/"),
    (TrainingRequest("/etc/passwd", 3), "there is no dataset called '/etc/passwd' in datasets/"),
    (TrainingRequest(DATASET, 1), "the dimension must be at least 2, not 1"),
    (TrainingRequest(DATASET, 3, "huge"), "unknown model size 'huge': choose one of xxs, xs, s, m, l, xl"),
    (TrainingRequest(DATASET, 3, epochs=0), "the epochs must be at least 1, not 0"),
    (TrainingRequest(DATASET, 3, minutes=float("nan")), "the minutes must be a number above 0, not nan"),
    (TrainingRequest(DATASET, 3, warmup=-1), "the warm-up epochs must be 0 or more, not -1"),
], ids=["traversal", "absolute", "dimension", "size", "epochs", "minutes", "warmup"])
def test_a_request_out_of_range_or_naming_no_listed_dataset_is_refused(project, request_, refused):
    with pytest.raises(LibraryError, match=f"^{re.escape(refused)}$"):
        request_.arguments(project)


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.slow
def test_progress_arrives_one_job_at_a_time_and_stop_keeps_the_best_weights(project):
    job = TrainingJob(project)
    flags = TrainingRequest(DATASET, 3, "xxs", epochs=1000).arguments(project) + ["--warmup=0", "--scratch"]
    job.start(flags)
    try:
        with pytest.raises(JobError, match="^a model is training already: stop it first$"):
            job.start(flags)
        # An epoch has ended: Keras's line for it reached the page while the trainer ran.
        assert wait_for(lambda: any("val_loss" in line for line in job.lines_since(0)[1]), 120), job.lines_since(0)
        assert job.running and job.exit_code is None
        following, first = job.lines_since(0)
        assert first[0].startswith("training size xxs (2 layers of 16 units) on datasets/training-dataset-3d.npz")
        later, newer = job.lines_since(following)  # only what came after
        assert later == following + len(newer)
        assert job.stop()
        assert job.wait(120) == 130, job.lines_since(0)
    finally:
        job.stop()  # a trainer left by a failed assertion ends too, its best weights kept
        job.wait(120)
    lines = job.lines_since(0)[1]
    assert any(re.fullmatch(r"interrupted: keeping the best weights so far, from epoch \d+", line) for line in lines)
    assert not any("Traceback" in line for line in lines), lines
    weights = project / "models" / "musicMDRNN-dim3-layers2-units16-mixtures5-scale10.weights.h5"
    assert load_weights(weights).dimension == 3
    assert not job.running and not job.stop()


@pytest.mark.slow
def test_a_trainer_that_refuses_its_dataset_says_so_and_exits(project):
    (project / "datasets" / "short.npz").write_bytes(b"not a dataset")
    job = TrainingJob(project)
    job.start(TrainingRequest("short.npz", 3).arguments(project))
    assert job.wait(60) == 1
    assert job.lines_since(0)[1] == ["error: datasets/short.npz is not a readable dataset file (not an .npz archive)"]
