"""utils/benchmark_playing.py: the real datasets' held-out split, which the default models'
recipe trains on, and the teacher-forced diagnosis."""

import numpy as np
import pytest

from conftest import utils_script
from imps.core.weights import default_weights_file, load_weights
from imps.learn.dataset import load_dataset
from imps.learn.evaluation import CHANGE
from scripts import run_script

benchmark_playing = utils_script("benchmark_playing")


@pytest.mark.parametrize("data, performances, events, heldout_events", [("4d", 29, 98_579, 4_671),
                                                                        ("9d", 26, 75_577, 7_781)])
def test_split_writes_the_training_performances_and_holds_the_last_ones_out(tmp_path, data, performances, events,
                                                                            heldout_events):
    result = run_script("utils/benchmark_playing.py", "split", "--data", data, "--out", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    training = load_dataset(tmp_path / f"training-dataset-{data}.npz")  # plain arrays: no pickle
    assert (len(training.lengths), len(training.events)) == (performances, events)
    assert f"(held out: {len(benchmark_playing.split(data)[1].lengths)} performances, {heldout_events} events" \
        in result.stdout
    whole = load_dataset(benchmark_playing.DATASETS[data][0], allow_pickle=True)
    np.testing.assert_array_equal(training.events, whole.events[:events])  # the first performances, unchanged


def test_teacher_forcing_measures_the_moves_the_player_made():
    weights = load_weights(default_weights_file(4))
    _, heldout = benchmark_playing.split("4d")
    forced = benchmark_playing.teacher_forced(weights, heldout)
    steps = np.concatenate([np.diff(p[:, 1:], axis=0).ravel() for p in heldout.performances()])
    assert forced["player"] == pytest.approx(np.abs(steps[np.abs(steps) > CHANGE]).mean())
    # A model of this playing moves the right way far more often than a coin would.
    assert 0.5 < forced["same direction"] <= 1 and forced["model"] > 0 and forced["held"] >= 0
