"""The command lines: flags as IMPS had them, help, and one-line errors."""

import datetime as dt
import re
import shutil
import signal
import socket
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import (LEGACY_DATASET_4D, LEGACY_WEIGHTS_4D_S, ROOT, free_udp_port, leaked_noise,
                      says_what_tensorflow_sees, script_env)
from imps.core.logs import PerformanceLog
from imps.core.model import Sampling
from imps.core.report import ModelReport
from imps.learn.dataset import Dataset, load_dataset, save_dataset
from imps.learn.evaluation import SAMPLING_GRID
from harness import Process
from imps.core.weights import DEFAULT_MODELS_DIR, KERAS2_HARD_SIGMOID, load_weights, store_sampling
from scripts import Server, one_error_line, run_script

T0 = dt.datetime(2024, 3, 5, 7, 8, 9)
SCRIPTS = ["predictive_music_model.py", "generate_dataset.py", "train_predictive_music_model.py"]


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_script_explains_its_flags(name, tmp_path):
    result = run_script(name, "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "--dimension" in result.stdout
    if name == "predictive_music_model.py":
        for flag in ["--log", "--logmax", "--verbose", "--only", "--call", "--polyphony", "--battle",
                     "--callresponsethresh", "--maxwait", "--clientip", "--clientport", "--serverip", "--serverport",
                     "--modelsize", "--sigmatemp", "--pitemp", "--modelfile"]:
            assert flag in result.stdout
    if name == "train_predictive_music_model.py":
        for flag in ["--modelsize", "--earlystopping", "--patience", "--numepochs", "--file", "--batchsize"]:
            assert flag in result.stdout
    if name == "generate_dataset.py":
        assert "--source" in result.stdout and "--gap" in result.stdout


def test_help_says_what_only_records_and_that_numepochs_follows_the_warm_up(tmp_path):
    server_help = " ".join(run_script("predictive_music_model.py", "--help", cwd=tmp_path).stdout.split())
    assert "with --log it records your playing for a dataset, without --log nothing is recorded" in server_help
    trainer_help = " ".join(run_script("train_predictive_music_model.py", "--help", cwd=tmp_path).stdout.split())
    assert "counted after the --warmup epochs on 5-event windows: at most --warmup + --numepochs in all" \
        in trainer_help


def test_user_only_without_log_says_nothing_is_recorded(tmp_path):
    server = Server("--only", "--serverip", "127.0.0.1", "--serverport", str(free_udp_port()), cwd=tmp_path)
    assert server.wait_ready(), server.output
    assert server.stop() == 0, server.output
    assert server.lines[0] == ("warning: user only without --log: nothing is being recorded and no model plays. To "
                               "record your playing into logs/ for a dataset, start again with --log")
    assert "logging" not in server.output and not (tmp_path / "logs").exists()
    server = Server("--only", "--log", "--serverip", "127.0.0.1", "--serverport", str(free_udp_port()), cwd=tmp_path)
    assert server.wait_ready(), server.output
    assert server.stop() == 0, server.output
    assert server.lines[0] == "user only: recording your playing, no model"
    assert "nothing is being recorded" not in server.output and len(list((tmp_path / "logs").iterdir())) == 1


@pytest.mark.slow
def test_training_states_its_plan_counts_its_epochs_and_prints_no_tensorflow_noise(tmp_path):
    dataset_3d(tmp_path)
    result = run_script("train_predictive_music_model.py", "-d", "3", "--modelsize=xxs", "-n", "2", "--warmup", "1",
                        "--earlystopping", "-p", "3", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == ("training size xxs (2 layers of 16 units) on datasets/training-dataset-3d.npz: 1 epoch of "
                        "warm-up on 5-event windows, then up to 2 epochs on 50-event windows, stopping early after "
                        "3 epochs without improvement")
    assert len([line for line in lines if says_what_tensorflow_sees(line)]) == 1
    warmup, main = lines.index("warming up: 1 epoch on 5-event windows"), \
        lines.index("training: up to 2 epochs on 50-event windows")
    assert warmup < main
    assert [line for line in lines[main:] if line.startswith("Epoch ")] == ["Epoch 1/2", "Epoch 2/2"]
    # The default batch size and rate: 360 windows to train on make 5 batches of 64.
    epochs = epoch_lines("\n".join(lines[main:]))
    assert len(epochs) == 2
    assert all(line.startswith("5/5 - ") and line.endswith(" - learning_rate: 0.0030") for line in epochs), epochs
    assert leaked_noise(result.stderr) == []  # TensorFlow's notices (oneDNN, CUDA drivers, cuInit) were filtered
    assert lines[-1] == "play it: python predictive_music_model.py --dimension=3 --modelsize=xxs"


@pytest.mark.parametrize("flag", [["-d=5"], ["-d", "5"], ["--dimension=5"], ["--dimension", "5"]])
def test_dimension_flag_spellings(flag, tmp_path):
    server = Server(*flag, "--only", "--log", "--serverip", "127.0.0.1", "--serverport", str(free_udp_port()),
                    cwd=tmp_path)
    assert server.wait_ready(), server.output
    assert server.stop() == 0, server.output
    assert [p.name.endswith("-5d-mdrnn.log") for p in (tmp_path / "logs").iterdir()] == [True]


# Command lines a script cannot act on: its exit code (2 for flags it refuses, 1 for what is
# missing or wrong in the files) and what its one line of error names.
REFUSED = [
    *(pytest.param(name, ["--dimension=1"], 2, ["at least 2"], id=f"dimension-below-two-{name}") for name in SCRIPTS),
    *(pytest.param(name, ["--modelsize=huge"], 2, ["xxs"], id=f"unknown-model-size-{name}")
      for name in ["predictive_music_model.py", "train_predictive_music_model.py"]),
    pytest.param("train_predictive_music_model.py", ["-d", "4", "--batchsize", "many"], 2,
                 ["argument -b/--batchsize: invalid int value: 'many'"], id="a-setting-that-is-no-number"),
    pytest.param("train_predictive_music_model.py", ["--dimension=3"], 1,
                 ["datasets/training-dataset-3d.npz", "generate_dataset.py"],
                 id="missing-dataset-says-how-to-make-one"),
    pytest.param("train_predictive_music_model.py", ["--dimension=4", "--dataset", str(LEGACY_DATASET_4D)], 1,
                 ["--allow-pickle"], id="original-dataset-needs-the-pickle-flag"),
    pytest.param("generate_dataset.py", ["--dimension=3"], 1, ["--log"], id="no-logs-to-collate"),
]


@pytest.mark.parametrize("name, flags, code, said", REFUSED)
def test_a_command_line_it_cannot_act_on_is_refused_in_one_line(tmp_path, name, flags, code, said):
    result = run_script(name, *flags, cwd=tmp_path)
    assert result.returncode == code
    line = one_error_line(result)
    assert all(words in line for words in said), line


def test_dataset_too_short_for_one_window(tmp_path):
    save_dataset(Dataset.from_performances([np.random.rand(30, 3)]), tmp_path / "datasets" / "training-dataset-3d.npz")
    result = run_script("train_predictive_music_model.py", "--dimension=3", "--modelsize=xxs", cwd=tmp_path)
    assert result.returncode == 1
    assert "50" in one_error_line(result)


def test_dataset_of_another_dimension_is_refused(tmp_path):
    save_dataset(Dataset.from_performances([np.random.rand(80, 3)]), tmp_path / "d.npz")
    result = run_script("train_predictive_music_model.py", "--dimension=4", "--dataset", "d.npz", cwd=tmp_path)
    assert result.returncode == 1
    assert "--dimension=3" in one_error_line(result)


def test_port_in_use_names_the_port_and_flag(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        result = run_script("predictive_music_model.py", "--only", "--serverip", "127.0.0.1", "--serverport",
                            str(port), cwd=tmp_path, timeout=30)
    assert result.returncode == 1
    line = one_error_line(result)
    assert str(port) in line and "--serverport" in line


def test_missing_model_file_is_one_line(tmp_path):
    result = run_script("predictive_music_model.py", "--modelfile", "nope.weights.h5", cwd=tmp_path, timeout=30)
    assert result.returncode == 1
    assert "nope.weights.h5" in one_error_line(result)


def test_untrained_model_says_so_and_names_the_file(tmp_path):
    # No default model comes with IMPS for dimension 12.
    server = Server("-d=12", "--modelsize=xs", "--polyphony", "--serverip", "127.0.0.1", "--serverport",
                    str(free_udp_port()), cwd=tmp_path)
    assert server.wait_ready(), server.output
    assert server.stop() == 0
    assert "UNTRAINED" in server.output
    assert "models/musicMDRNN-dim12-layers2-units32-mixtures5-scale10.weights.h5" in server.output


def test_without_trained_weights_the_default_model_plays_and_says_so(tmp_path):
    server = Server("-d=9", "--polyphony", "--serverip", "127.0.0.1", "--serverport", str(free_udp_port()),
                    cwd=tmp_path)
    assert server.wait_ready(), server.output
    assert server.stop() == 0
    assert "UNTRAINED" not in server.output and "warning" not in server.output
    default = DEFAULT_MODELS_DIR / "musicMDRNN-dim9-layers2-units32-mixtures5-scale10.weights.h5"
    assert (f"no trained weights at models/musicMDRNN-dim9-layers2-units64-mixtures5-scale10.weights.h5; "
            f"playing the default model {default} (trained on people playing an 8-control interface (the original "
            "IMPS's 9-d dataset), not on you") in server.output


def test_own_weights_of_another_size_play_and_the_stored_sampling_is_said(tmp_path):
    own = tmp_path / "models" / "musicMDRNN-dim2-layers2-units32-mixtures5-scale10.weights.h5"
    own.parent.mkdir()
    own.write_bytes((DEFAULT_MODELS_DIR / own.name).read_bytes())
    store_sampling(own, Sampling(pi_temp=1.25, sigma_temp=0.35))
    server = Server("-d=2", "--modelsize=s", "--sigmatemp", "0.5", "--polyphony", "--serverip", "127.0.0.1",
                    "--serverport", str(free_udp_port()), cwd=tmp_path)
    assert server.wait_ready(), server.output
    assert server.stop() == 0
    assert ("no trained weights of size s at models/musicMDRNN-dim2-layers2-units64-mixtures5-scale10.weights.h5; "
            "performing with your own 2 layers of 32 units, 5 mixtures at models/" + own.name) in server.output
    assert "sampling: --pitemp 1.25 (stored with the model), --sigmatemp 0.5 (as given)" in server.output


@pytest.mark.slow
def test_a_small_dataset_fine_tunes_the_default_model_and_scratch_does_not(tmp_path):
    rng = np.random.default_rng(1)
    save_dataset(Dataset.from_performances([rng.random((300, 4))]), tmp_path / "datasets" / "training-dataset-4d.npz")
    tuned = run_script("train_predictive_music_model.py", "-d", "4", "-n", "1", "--warmup", "0", cwd=tmp_path)
    assert tuned.returncode == 0, tuned.stdout + tuned.stderr
    lines = tuned.stdout.splitlines()
    assert lines[0] == ("training size xs (2 layers of 32 units) on datasets/training-dataset-4d.npz, fine-tuning "
                        "IMPS's default 4-d model since the dataset is small (10,000 events or fewer) and models/ "
                        "holds no 4-d weights of yours (--scratch starts from an untrained model instead): up to 1 "
                        "epoch on 50-event windows")
    assert lines[-1] == "play it: python predictive_music_model.py --dimension=4 --modelsize=xs"
    assert (tmp_path / "models" / "musicMDRNN-dim4-layers2-units32-mixtures5-scale10.weights.h5").exists()
    # Now that models/ holds 4-d weights of the musician's own, training starts from scratch at the usual size.
    again = run_script("train_predictive_music_model.py", "-d", "4", "-n", "1", "--warmup", "0", cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.splitlines()[0].startswith("training size s (2 layers of 64 units) on "
                                                   "datasets/training-dataset-4d.npz: up to 1 epoch")
    elsewhere = tmp_path / "elsewhere"
    save_dataset(Dataset.from_performances([rng.random((300, 4))]), elsewhere / "datasets" / "training-dataset-4d.npz")
    scratch = run_script("train_predictive_music_model.py", "-d", "4", "-n", "1", "--warmup", "0", "--scratch",
                         "--clipnorm", "0", cwd=elsewhere)
    assert scratch.returncode == 0, scratch.stdout + scratch.stderr
    assert scratch.stdout.splitlines()[0].startswith("training size s (2 layers of 64 units) on "
                                                     "datasets/training-dataset-4d.npz: up to 1 epoch")


RANGES = ("--numepochs and --batchsize must be at least 1, --patience, --warmup and --clipnorm not negative, and "
          "--learningrate and --minutes above 0, each a finite number (see train_predictive_music_model.py --help)")


@pytest.mark.parametrize("flag, value", [("--numepochs", "0"), ("--batchsize", "0"), ("--patience", "-1"),
                                         ("--warmup", "-1"), ("--clipnorm", "-1"), ("--learningrate", "0"),
                                         ("--learningrate", "-0.001"), ("--minutes", "0"), ("--minutes", "-5"),
                                         ("--minutes", "nan"), ("--learningrate", "nan"), ("--learningrate", "inf"),
                                         ("--clipnorm", "nan"), ("--clipnorm", "inf"), ("--minutes", "inf")])
def test_each_training_setting_out_of_range_is_refused_in_one_line(tmp_path, flag, value):
    result = run_script("train_predictive_music_model.py", "-d", "4", flag, value, cwd=tmp_path)
    assert result.returncode == 2
    assert one_error_line(result) == f"error: {RANGES}"


def dataset_3d(folder) -> None:
    """datasets/training-dataset-3d.npz in `folder`: 400 windows, 40 of them held out,
    leaving 360 to train on (5 batches of 64, 7 of 50, 11 of 32)."""
    rng = np.random.default_rng(0)
    save_dataset(Dataset.from_performances([rng.random((300, 3)), rng.random((200, 3))]),
                 folder / "datasets" / "training-dataset-3d.npz")


XXS_3D = Path("models") / "musicMDRNN-dim3-layers2-units16-mixtures5-scale10.weights.h5"


def epoch_lines(stdout: str) -> list[str]:
    """Keras's line at the end of each epoch (the trainer's output is not a terminal)."""
    return [line for line in stdout.splitlines() if " - loss: " in line]


def weights_of(path) -> list[np.ndarray]:
    weights = load_weights(path)
    return [array for lstm in weights.lstms for array in (lstm.kernel, lstm.recurrent_kernel, lstm.bias)] + \
        [array for dense in (weights.mus, weights.sigmas, weights.pis) for array in (dense.kernel, dense.bias)]


def most_moved(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b))


# However its gradients run, Adam moves a weight by less than 8 learning rates a step (its
# first and second moments bound the ratio it steps by): the most a run of `steps` steps
# at `rate` can move any weight from where it started.
def adam_reach(steps: int, rate: float) -> float:
    return 8 * steps * rate


@pytest.mark.slow
def test_learning_rate_and_batch_size_reach_keras(tmp_path):
    dataset_3d(tmp_path)
    result = run_script("train_predictive_music_model.py", "-d", "3", "--modelsize=xxs", "-n", "2", "--warmup", "0",
                        "--batchsize", "50", "--learningrate", "0.0123", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    # 360 windows to train on in batches of 50: 7 steps an epoch (the eighth, smaller batch is
    # left out), at the rate given (as Keras records it, to 4 places).
    epochs = epoch_lines(result.stdout)
    assert len(epochs) == 2
    assert all(line.startswith("7/7 - ") and line.endswith(" - learning_rate: 0.0123") for line in epochs), epochs


@pytest.mark.slow
def test_the_same_seed_trains_the_same_model_and_another_seed_another(tmp_path):
    dataset_3d(tmp_path)
    weights = {}
    for run, seed in (("a", "7"), ("b", "7"), ("c", "8")):
        shutil.copytree(tmp_path / "datasets", tmp_path / run / "datasets")
        result = run_script("train_predictive_music_model.py", "-d", "3", "--modelsize=xxs", "-n", "1", "--warmup",
                            "1", "--seed", seed, cwd=tmp_path / run)
        assert result.returncode == 0, result.stdout + result.stderr
        weights[run] = weights_of(tmp_path / run / XXS_3D)
    # On one machine the same seed gives the same weights to the last bit; another seed
    # starts elsewhere, and its weights are nowhere near.
    for a, b in zip(weights["a"], weights["b"]):
        np.testing.assert_array_equal(a, b)
    assert most_moved(weights["a"], weights["c"]) > 0.1


@pytest.mark.slow
def test_training_resumes_from_its_own_weights(tmp_path):
    dataset_3d(tmp_path)
    first = run_script("train_predictive_music_model.py", "-d", "3", "--modelsize=xxs", "-n", "1", "--warmup", "0",
                       cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    start = weights_of(tmp_path / XXS_3D)
    resumed = run_script("train_predictive_music_model.py", "-d", "3", "-n", "1", "--warmup", "0", "--learningrate",
                         "1e-4", "--file", str(XXS_3D), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    # The size comes from the file, and the plan says where training starts.
    assert resumed.stdout.splitlines()[0] == (f"training size xxs (2 layers of 16 units) on "
                                              f"datasets/training-dataset-3d.npz, from {XXS_3D}: up to 1 epoch on "
                                              "50-event windows")
    # 5 steps (of 64 windows) at 1e-4 from the file's weights leave each within Adam's reach
    # of them; a model started afresh would be nowhere near.
    moved = most_moved(weights_of(tmp_path / XXS_3D), start)
    assert 0 < moved < adam_reach(5, 1e-4)


@pytest.mark.slow
def test_fine_tuning_the_original_imps_weights_keeps_their_keras2_gates(tmp_path):
    original = load_dataset(LEGACY_DATASET_4D, allow_pickle=True)
    save_dataset(Dataset(original.events[:600], np.array([600])), tmp_path / "datasets" / "training-dataset-4d.npz")
    result = run_script("train_predictive_music_model.py", "-d", "4", "-n", "1", "--warmup", "0", "--learningrate",
                        "1e-4", "--file", str(LEGACY_WEIGHTS_4D_S), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[0] == (f"training size s (2 layers of 64 units) on "
                                             f"datasets/training-dataset-4d.npz, from {LEGACY_WEIGHTS_4D_S}: up to 1 "
                                             "epoch on 50-event windows")
    tuned = tmp_path / "models" / "musicMDRNN-dim4-layers2-units64-mixtures5-scale10.weights.h5"
    assert load_weights(tuned).gate_activation == KERAS2_HARD_SIGMOID
    # 550 windows, 495 to train on: 7 steps of 64 at 1e-4 from the original weights.
    assert 0 < most_moved(weights_of(tuned), weights_of(LEGACY_WEIGHTS_4D_S)) < adam_reach(7, 1e-4)


@pytest.mark.slow
def test_training_within_minutes_says_so_and_stops_in_time(tmp_path):
    rng = np.random.default_rng(0)
    save_dataset(Dataset.from_performances([rng.random((300, 3)), rng.random((200, 3))]),
                 tmp_path / "datasets" / "training-dataset-3d.npz")
    result = run_script("train_predictive_music_model.py", "-d", "3", "--modelsize=xxs", "-n", "100000",
                        "--warmup", "0", "--minutes", "0.1", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].endswith("up to 100000 epochs on 50-event windows, within 0.1 minutes in all")
    assert next(line for line in lines if line.startswith("  time taken:")).endswith(", the time limit")
    assert lines[-1] == "play it: python predictive_music_model.py --dimension=3 --modelsize=xxs"


@pytest.mark.parametrize("flags, complaint", [
    (["--log", "--logmax", "lots"], "argument --logmax: a size is a number and a unit, such as 100MB, 500kB or 2GB, "
                                    "not 'lots'"),
    (["--log", "--logmax=-5MB"], "not '-5MB'"),
    (["--log", "--logmax", "5TB"], "not '5TB'"),
    (["--log", "--logmax", "500"], "--logmax limits the size of each log file: it needs --log, and at least 1kB"),
    (["--logmax", "100MB"], "--logmax limits the size of each log file: it needs --log"),
    (["--maxwait", "0"], "--maxwait must be at least 0.001 s, the shortest wait there is"),
    (["--maxwait", "nan"], "--maxwait must be at least 0.001 s"),
])
def test_nonsense_log_sizes_and_waits_are_refused_in_one_line(tmp_path, flags, complaint):
    result = run_script("predictive_music_model.py", *flags, cwd=tmp_path)
    assert result.returncode == 2
    assert complaint in one_error_line(result)


@pytest.mark.parametrize("gap", ["0", "nan"])
def test_a_gap_that_is_not_positive_is_refused(tmp_path, gap):
    result = run_script("generate_dataset.py", "-d", "2", "--gap", gap, cwd=tmp_path)
    assert result.returncode == 2
    assert "--gap must be more than 0 seconds" in one_error_line(result)


def test_the_gap_flag_starts_a_new_performance_and_the_report_says_so(tmp_path):
    log = PerformanceLog.start(tmp_path / "logs", 2, now=T0)
    for seconds in (0, 1, 2, 12, 13):
        log.write("interface", [0.5], when=T0 + dt.timedelta(seconds=seconds))
    log.close()
    result = run_script("generate_dataset.py", "-d", "2", "--gap", "5", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"  {log.path.name}: 3 events (2 performances: a new one at 1 gap of over 5 s)" in result.stdout.splitlines()
    assert "2 performances, 3 events" in result.stdout


def test_a_dataset_the_disk_refuses_is_one_line_and_the_old_dataset_stays(tmp_path):
    rng = np.random.default_rng(0)

    def log_of(events: int, began: dt.datetime) -> None:
        log = PerformanceLog.start(tmp_path / "logs", 9, now=began)
        for i in range(events):
            log.write("interface", rng.random(8), when=began + dt.timedelta(seconds=0.02 * i))
        log.close()

    log_of(10, T0)
    assert run_script("generate_dataset.py", "-d", "9", cwd=tmp_path).returncode == 0
    path = tmp_path / "datasets" / "training-dataset-9d.npz"
    before = path.read_bytes()
    log_of(3000, T0 + dt.timedelta(hours=1))  # about 100 kB of dataset
    result = run_script("generate_dataset.py", "-d", "9", cwd=tmp_path, file_size_limit=50_000)
    assert result.returncode == 1
    assert one_error_line(result) == ("error: could not write datasets/training-dataset-9d.npz (File too large); the "
                                      "file there before is unchanged: make room on the disk (or raise the limit on "
                                      "file size) and run again")
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]


@pytest.mark.slow
def test_weights_the_disk_refuses_are_one_line_and_the_old_weights_stay(tmp_path):
    save_dataset(Dataset.from_performances([np.random.default_rng(0).random((300, 2))]),
                 tmp_path / "datasets" / "training-dataset-2d.npz")
    default = DEFAULT_MODELS_DIR / "musicMDRNN-dim2-layers2-units32-mixtures5-scale10.weights.h5"
    (tmp_path / "models").mkdir()
    weights = tmp_path / "models" / default.name
    weights.write_bytes(default.read_bytes())  # a good model of one's own, of about 200 kB
    result = run_script("train_predictive_music_model.py", "-d", "2", "--modelsize=xs", "-n", "1", "--warmup", "0",
                        cwd=tmp_path, file_size_limit=100_000)
    assert result.returncode == 1, result.stdout + result.stderr  # not a crash on the way out
    assert one_error_line(result) == (
        "error: could not write models/musicMDRNN-dim2-layers2-units32-mixtures5-scale10-checkpoint.weights.h5 (File "
        "too large); nothing was written: make room on the disk (or raise the limit on file size) and run again")
    assert weights.read_bytes() == default.read_bytes()
    assert [p.name for p in weights.parent.iterdir()] == [weights.name]


@pytest.fixture
def trainer_in_background(tmp_path):
    """Starts the trainer on a 3-d dataset of 3,000 events, xxs, for many epochs, in the
    background: long enough to be interrupted at any point a test waits for. Killed at
    the end of the test whatever happened."""
    rng = np.random.default_rng(0)
    save_dataset(Dataset.from_performances([rng.random((1500, 3)), rng.random((1500, 3))]),
                 tmp_path / "datasets" / "training-dataset-3d.npz")
    started = []

    def start(*flags: str) -> Process:
        # Ctrl-C as a terminal sends it: a child of a shell that ran this suite in the
        # background inherits SIGINT ignored, and Python then never raises KeyboardInterrupt.
        started.append(Process([sys.executable, str(ROOT / "train_predictive_music_model.py"), "-d", "3",
                                "--modelsize=xxs", "-n", "1000", "--warmup", "0", "--scratch", *flags],
                               cwd=tmp_path, env=script_env(),
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)))
        return started[-1]

    yield start
    for trainer in started:
        if trainer.process.poll() is None:
            trainer.process.kill()
            trainer.process.wait(30)


@pytest.mark.slow
def test_ctrl_c_keeps_the_best_weights_chooses_their_sampling_and_exits_130(tmp_path, trainer_in_background):
    trainer = trainer_in_background()
    assert trainer.wait_until(lambda: "val_loss" in trainer.output, 120), trainer.output  # an epoch has ended
    trainer.process.send_signal(signal.SIGINT)
    assert trainer.process.wait(120) == 130, trainer.output
    out = trainer.output
    assert re.search(r"^interrupted: keeping the best weights so far, from epoch \d+$", out, re.M), out
    assert "choosing the sampling whose playing is closest to the dataset's (Ctrl-C again to skip it)" in out
    assert re.search(r"^  time taken: .*, interrupted$", out, re.M) and "Traceback" not in out
    weights = tmp_path / "models" / "musicMDRNN-dim3-layers2-units16-mixtures5-scale10.weights.h5"
    stored = load_weights(weights).sampling
    assert stored is not None and f"  sampling:      {stored.flags()}, stored with the weights" in out
    assert out.splitlines()[-1] == "play it: python predictive_music_model.py --dimension=3 --modelsize=xxs"


@pytest.mark.slow
def test_ctrl_c_twice_keeps_the_weights_without_choosing_their_sampling(tmp_path, trainer_in_background):
    trainer = trainer_in_background()
    assert trainer.wait_until(lambda: "val_loss" in trainer.output, 120), trainer.output
    trainer.process.send_signal(signal.SIGINT)
    assert trainer.wait_until(lambda: "Ctrl-C again to skip it" in trainer.output, 60), trainer.output
    trainer.process.send_signal(signal.SIGINT)
    assert trainer.process.wait(120) == 130, trainer.output
    assert "sampling not chosen: the model plays at IMPS's defaults unless you give temperatures" in trainer.output
    weights = tmp_path / "models" / "musicMDRNN-dim3-layers2-units16-mixtures5-scale10.weights.h5"
    assert load_weights(weights).sampling is None and "Traceback" not in trainer.output


@pytest.mark.slow
def test_ctrl_c_before_an_epoch_ends_says_nothing_was_saved(tmp_path, trainer_in_background):
    trainer = trainer_in_background("--warmup", "1000")
    assert trainer.wait_until(lambda: "warming up: 1000 epochs" in trainer.output, 120), trainer.output
    trainer.process.send_signal(signal.SIGINT)
    assert trainer.process.wait(120) == 130
    assert trainer.output.splitlines()[-1] == "error: interrupted before the first epoch ended: nothing was saved"
    assert not (tmp_path / "models").exists() or not list((tmp_path / "models").glob("*.weights.h5"))


@pytest.mark.slow
def test_the_trainer_ends_with_the_sampling_it_chose_stored_unless_told_not_to(tmp_path):
    rng = np.random.default_rng(0)
    performances = [rng.random((n, 3)) for n in (300, 200)]
    for events in performances:  # gestures of events 20 ms apart between rests, so that there are phrases to answer
        events[:, 0] = np.where(rng.random(len(events)) < 0.05, 0.6, 0.02)
    save_dataset(Dataset.from_performances(performances), tmp_path / "datasets" / "training-dataset-3d.npz")
    weights = tmp_path / "models" / "musicMDRNN-dim3-layers2-units16-mixtures5-scale10.weights.h5"
    result = run_script("train_predictive_music_model.py", "-d", "3", "--modelsize=xxs", "-n", "1", "--warmup", "0",
                        cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    stored = load_weights(weights).sampling
    assert stored in SAMPLING_GRID
    summary = lines[lines.index("done:") + 1:]
    assert summary[3].startswith("  best val_loss: ") and summary[3].endswith(" at epoch 1 of 1 (held-out windows)")
    assert re.fullmatch(rf"  sampling:      {re.escape(stored.flags())}, stored with the weights \(the closest in "
                        rf"style of {len(SAMPLING_GRID)} pairs, chosen in \d+ s\)", summary[4])
    assert re.fullmatch(r"  style distance at it \(0: plays as the dataset does\): solo \d+\.\d\d, answering held-out "
                        r"phrases \d+\.\d\d", summary[5]), summary[5]
    picture = tmp_path / "models" / "musicMDRNN-dim3-layers2-units16-mixtures5-scale10-report.png"
    assert summary[6] == f"  report:        models/{picture.name}" and picture.read_bytes().startswith(b"\x89PNG")
    figures = tmp_path / "models" / "musicMDRNN-dim3-layers2-units16-mixtures5-scale10-report.json"
    assert summary[7] == f"  figures:       models/{figures.name}"
    assert summary[8] == "play it: python predictive_music_model.py --dimension=3 --modelsize=xxs"
    report = ModelReport.read(weights)
    assert report.dataset == "training-dataset-3d.npz" and report.sampling == stored
    assert f"{report.solo_distance:.2f}" in summary[5] and f"{report.heldout_loss:.4f}" in summary[3]
    unchosen = run_script("train_predictive_music_model.py", "-d", "3", "--modelsize=xxs", "-n", "1", "--warmup", "0",
                          "--nosampling", cwd=tmp_path)
    assert unchosen.returncode == 0 and "sampling:" not in unchosen.stdout
    assert load_weights(weights).sampling is None
    report = ModelReport.read(weights)  # the new weights' report: a held-out loss, and no playing measured
    assert report.heldout_loss is not None and report.solo_distance is report.sampling is None
