"""imps.learn.evaluation and utils/evaluate_model.py: the quality report."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from conftest import LEGACY_DATASET_4D
from imps.core.model import DEFAULT_SAMPLING, Sampling, model_size
from imps.core.report import file_sha256
from imps.core.weights import MDRNNWeights, default_weights_file, load_weights
from imps.learn.config import TrainConfig
from imps.learn.dataset import Dataset, load_dataset, save_dataset
from imps.learn.evaluation import (CHANGE, CHOOSING_SEED, SAMPLING_GRID, SHARE_ROW, SOLO_EVENTS, SamplingScore, Style,
                                   StyleRow, answer_phrases, compare_style, choose_sampling, continue_playing,
                                   heldout_losses, heldout_phrases, solo_style, style_samples, thinned, wasserstein1)
from imps.learn.training import train
from imps.perform.engine import NumpyMDRNN, Predictor
from imps.perform.interaction import MIN_DT
from scripts import one_error_line, run_script


def test_wasserstein1_is_the_area_between_the_distributions():
    assert wasserstein1([0.0, 1.0], [0.0, 1.0]) == 0.0
    assert wasserstein1([0.0], [1.0]) == 1.0
    assert wasserstein1([0.0, 1.0, 2.0], [0.5, 1.5, 2.5]) == pytest.approx(0.5)
    assert wasserstein1([0.0, 0.0, 1.0, 1.0], [0.0, 1.0]) == pytest.approx(0.0)
    assert wasserstein1([0.0, 0.0, 0.0, 1.0], [0.0, 1.0]) == pytest.approx(0.25)


# A hand-made performance: [dt, x1, x2] per event; a rest before the fourth event.
PERFORMANCE = np.array([
    [0.1, 0.0, 0.5],
    [0.1, 0.5, 0.5],  # x1 moves 0.5
    [0.1, 0.5, 0.504],  # x2 moves 0.004: less than one 7-bit step, no change
    [1.0, 0.5, 0.8],  # after a rest of 1 s, x2 moves 0.296
    [0.2, 0.2, 0.8],  # x1 moves 0.3
])


def test_style_samples_of_a_hand_made_performance():
    assert 0.004 < CHANGE < 0.296
    samples = style_samples([PERFORMANCE])
    expected = {
        "time between events (s)": [0.1, 0.1, 1.0, 0.2],
        SHARE_ROW: [0, 0, 1, 0],
        "controls changed per event": [1, 0, 1, 1],
        "distance a control moves per event": [0.5, 0.296, 0.3],
        "distance a control moves per gesture": [0.5, 0.3],  # the move across the rest is in no gesture
        "range a control covers per gesture": [0.5, 0.3],
        "gesture length (s)": [0.2, 0.2],
        "rest length (s)": [1.0],
    }
    assert list(samples) == list(expected)
    for name, values in expected.items():
        np.testing.assert_allclose(samples[name], values, atol=1e-12, err_msg=name)


def test_style_rows_pool_performances_and_skip_single_events():
    samples = style_samples([PERFORMANCE, PERFORMANCE[:1], PERFORMANCE])
    assert len(samples["time between events (s)"]) == 8 and len(samples["rest length (s)"]) == 2


def test_row_distance_is_w1_over_the_datasets_spread():
    dataset = np.array([0.0, 1.0, 2.0, 3.0])
    assert StyleRow("r", dataset, dataset).distance == 0.0
    assert StyleRow("r", dataset, dataset + 1).distance == pytest.approx(1 / np.std(dataset))
    assert StyleRow("r", dataset, np.empty(0)).distance == pytest.approx(wasserstein1(dataset, [0.0]) / np.std(dataset))
    assert np.isnan(StyleRow("r", np.ones(3), np.ones(3)).distance)  # the dataset cannot measure it
    style = compare_style([PERFORMANCE], [PERFORMANCE])
    assert style.distance == 0.0


def test_a_seeded_continuation_repeats_and_is_played_as_the_player_would():
    weights = MDRNNWeights.random(3, model_size("xxs"), seed=1)

    def play(seed):
        predictor = Predictor(NumpyMDRNN(weights), DEFAULT_SAMPLING.pi_temp, DEFAULT_SAMPLING.sigma_temp, seed=seed)
        return continue_playing(predictor, PERFORMANCE[:3], 200)

    first, again, other = play(0), play(0), play(1)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert first.shape == (200, 3)
    assert (first[:, 0] >= MIN_DT).all() and ((first[:, 1:] >= 0) & (first[:, 1:] <= 1)).all()


def test_heldout_phrases_lie_in_the_last_tenth():
    quiet = np.array([[0.02, 0.5, 0.5]] * 40)
    quiet[[10, 25, 35], 0] = 1.0  # rests: gestures of 10, 15, 10 and 5 events
    dataset = Dataset.from_performances([quiet, quiet])  # 80 events: the last 8 are held out
    assert heldout_phrases(dataset, 0.1) == []
    phrases = heldout_phrases(dataset, 0.3)  # the last 24: from event 56, the second performance's 16th
    assert [len(p) for p in phrases] == [10]  # its gesture at 25-34; the 5 events after 35 are too few


@pytest.mark.slow
def test_the_heldout_loss_is_the_trainers_val_loss(tmp_path):
    rng = np.random.default_rng(0)
    t = np.arange(300)
    performances = [np.column_stack([0.1 + 0.02 * rng.random(300), 0.5 + 0.4 * np.sin(t / (5 + k)),
                                     0.5 + 0.4 * np.cos(t / (7 + k))]) for k in range(2)]
    dataset = Dataset.from_performances(performances)
    result = train(dataset, TrainConfig(model_size="xxs", epochs=1, warmup_epochs=0), models_dir=tmp_path,
                   tensorboard_dir=None, verbose=0, seed=3, report=lambda line: None)
    loss, windows, per_performance = heldout_losses(load_weights(result.weights_path), dataset)
    assert loss == pytest.approx(result.best_loss, abs=1e-3)
    assert windows == int(2 * 250 * TrainConfig.validation_fraction)
    assert [events for events, _ in per_performance] == [300, 300]
    assert all(np.isfinite(performance_loss) for _, performance_loss in per_performance)


@pytest.mark.slow
def test_the_report_on_real_playing(tmp_path):
    weights = default_weights_file(4)
    result = run_script("utils/evaluate_model.py", str(weights), str(LEGACY_DATASET_4D), "--allow-pickle",
                        "--events", "800", "--output", str(tmp_path / "report.png"), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    out = result.stdout
    assert "held-out loss, the last 1187 windows (as the trainer's val_loss): " in out
    assert "loss on each performance in turn: 1: " in out
    assert re.search(r"style: a solo of 800 events \(sampling: --pitemp [0-9.]+ \((stored with the model|IMPS's "
                     r"default)\), --sigmatemp [0-9.]+ \(\1\); --seed 0\)", out)
    assert out.count("| time between events (s) |") == 2 and "style distance: " in out
    # Held-out phrases are gestures: their real continuations hold no rest to measure.
    assert re.search(r"\| rest length \(s\) \|.*\| not measured: the real playing has none \|", out)
    assert "(the mean of 6 rows; left out, not measured: rests (share of gaps), rest length (s))" in out
    assert (tmp_path / "report.png").read_bytes().startswith(b"\x89PNG")
    figures = json.loads((tmp_path / "report.json").read_text())  # the figures beside the picture
    assert figures["weights_sha256"] == file_sha256(weights) and figures["dataset"] == LEGACY_DATASET_4D.name
    assert f"(as the trainer's val_loss): {figures['heldout_loss']:.4f}" in out
    distances = re.findall(r"style distance: (\d+\.\d\d)", out)
    assert distances == [f"{figures['solo_distance']:.2f}", f"{figures['answer_distance']:.2f}"]


def test_bad_input_is_one_line(tmp_path):
    missing = run_script("utils/evaluate_model.py", "nowhere.weights.h5", str(LEGACY_DATASET_4D), cwd=tmp_path)
    assert missing.returncode == 1 and "does not exist" in one_error_line(missing)
    other = run_script("utils/evaluate_model.py", str(default_weights_file(2)), str(LEGACY_DATASET_4D),
                       "--allow-pickle", cwd=tmp_path)
    assert other.returncode == 1 and "holds 4-d events but" in one_error_line(other)
    assert "is a 2-d model: evaluate it on a dataset of its own dimension" in one_error_line(other)
    short = tmp_path / "short.npz"
    save_dataset(Dataset.from_performances([np.random.default_rng(0).random((30, 4))]), short)
    too_short = run_script("utils/evaluate_model.py", str(default_weights_file(4)), str(short), cwd=tmp_path)
    assert too_short.returncode == 1 and "no performance longer than 50 events" in one_error_line(too_short)


def test_choose_sampling_scores_every_pair_by_solo_and_answers_then_plays_the_closest_again():
    dataset = load_dataset(LEGACY_DATASET_4D, allow_pickle=True)
    weights = load_weights(default_weights_file(4))
    grid = (Sampling(1.0, 0.01), Sampling(1.0, 0.5), Sampling(0.0, 0.0))
    tried = choose_sampling(weights, dataset, grid=grid, trial_events=400, finalists=2)
    assert len(tried) == 3 and {result.sampling for result in tried} == set(grid)
    network, performances = NumpyMDRNN(weights), dataset.performances()
    phrases = heldout_phrases(dataset, TrainConfig.validation_fraction)
    # The finalists played again at full length (a solo as long as the report's, every
    # held-out phrase) with the next seed, and are ordered by the mean of the two.
    finalists = tried[:2]
    assert finalists[0].distance <= finalists[1].distance
    for result in finalists:
        solo, played = solo_style(network, result.sampling, performances, CHOOSING_SEED + 1)
        answers = answer_phrases(network, result.sampling, phrases, CHOOSING_SEED + 1)
        assert len(played) == SOLO_EVENTS
        assert (result.solo, result.answering) == (pytest.approx(solo.distance), pytest.approx(answers.distance))
        assert result.distance == pytest.approx((solo.distance + answers.distance) / 2)
    # The pair left out of the final was the furthest on the coarse pass: 400 events each.
    coarse = {}
    for sampling in grid:
        solo, _ = solo_style(network, sampling, performances, CHOOSING_SEED, 400)
        answers = answer_phrases(network, sampling, thinned(phrases, 400), CHOOSING_SEED)
        coarse[sampling] = (solo.distance + answers.distance) / 2
    assert tried[2].distance == pytest.approx(coarse[tried[2].sampling]) == pytest.approx(max(coarse.values()))


def test_phrases_are_thinned_evenly_to_about_the_events_asked():
    phrases = [np.zeros((10, 3)) for _ in range(20)]  # 200 events
    assert len(thinned(phrases, 50)) == 5 and thinned(phrases, 50)[1] is phrases[4]
    assert thinned(phrases, 1000) == phrases


def test_without_phrases_to_answer_the_solo_alone_decides():
    assert SamplingScore(Sampling(), solo=0.4, answering=None).distance == 0.4
    assert SamplingScore(Sampling(), solo=0.4, answering=0.8).distance == pytest.approx(0.6)


def test_rows_the_real_playing_cannot_measure_say_why_and_stay_out_of_the_mean():
    rests = StyleRow("rest length (s)", np.empty(0), np.array([0.7, 0.9]))
    shares = StyleRow(SHARE_ROW, np.zeros(5), np.array([0.0, 1.0]))
    measured = StyleRow("gesture length (s)", np.array([1.0, 2.0]), np.array([1.0, 2.0]))
    assert rests.unmeasured == "the real playing has none" and np.isnan(rests.distance)
    assert shares.unmeasured == "the real playing does not vary" and np.isnan(shares.distance)
    assert measured.unmeasured is None and measured.distance == 0.0
    assert Style([rests, shares, measured]).distance == 0.0


@pytest.mark.slow
def test_the_report_chooses_stores_and_then_plays_the_stored_sampling(tmp_path):
    weights = tmp_path / "model.weights.h5"
    weights.write_bytes(default_weights_file(4).read_bytes())
    common = (str(weights), str(LEGACY_DATASET_4D), "--allow-pickle", "--events", "300", "--output",
              str(tmp_path / "report.png"))
    chosen = run_script("utils/evaluate_model.py", *common, "--choose-sampling", "--store", cwd=tmp_path)
    assert chosen.returncode == 0, chosen.stdout + chosen.stderr
    stored = load_weights(weights).sampling
    assert stored in SAMPLING_GRID
    assert (f"sampling: played at {len(SAMPLING_GRID)} temperature pairs; the closest to the dataset's style: "
            f"{stored.flags()} (solo ") in chosen.stdout
    assert f"stored {stored.flags()} in {weights}" in chosen.stdout
    again = run_script("utils/evaluate_model.py", *common, "--pitemp", "0.5", cwd=tmp_path)
    assert (f"sampling: --pitemp 0.5 (as given), --sigmatemp {stored.sigma_temp:g} (stored with the model)"
            in again.stdout)
    both = run_script("utils/evaluate_model.py", *common, "--choose-sampling", "--sigmatemp", "1", cwd=tmp_path)
    assert both.returncode == 2 and "leave out --sigmatemp and --pitemp" in both.stderr
    alone = run_script("utils/evaluate_model.py", *common, "--store", cwd=tmp_path)
    assert alone.returncode == 2 and "give both" in alone.stderr
