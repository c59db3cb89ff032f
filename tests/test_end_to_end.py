"""The four IMPS steps, as a musician runs them, with liblo's oscsend and oscdump as
the patch: log in user-only mode, collate, train, perform; and the commands given while
playing."""

import time

import numpy as np
import pytest

from conftest import LEGACY_WEIGHTS_4D_S, free_udp_port
from imps.core.logs import read_log
from imps.core.names import log_glob
from imps.core.weights import load_weights
from imps.learn.dataset import Dataset, load_dataset, save_dataset
from scripts import OSCDump, Server, oscsend, run_script

pytestmark = [pytest.mark.peers("oscsend", "oscdump"), pytest.mark.slow]  # servers played through liblo, training

WEIGHTS = "models/musicMDRNN-dim9-layers2-units32-mixtures5-scale10.weights.h5"


def gesture(i: int) -> list[float]:
    """Eight faders moving smoothly, as a hand would."""
    phase = i / 15.0
    return [round(0.5 + 0.45 * np.sin(phase + k), 4) for k in range(8)]


def perform_and_listen(tmp_path, *flags, events=20, dimension=9):
    """Start the server, play `events` gestures with oscsend, and return what oscdump heard."""
    server_port, synth_port = free_udp_port(), free_udp_port()
    synth = OSCDump(synth_port)
    server = Server(f"-d={dimension}", *flags, "--serverip", "127.0.0.1", "--serverport", str(server_port),
                    "--clientip", "127.0.0.1", "--clientport", str(synth_port), cwd=tmp_path)
    try:
        assert server.wait_ready(), server.output
        for i in range(events):
            oscsend(server_port, "/interface", "f" * (dimension - 1), *gesture(i)[:dimension - 1])
        predictions = synth.wait_for("/prediction", events)
    finally:
        code = server.stop()
        synth.close()
    assert code == 0, server.output
    return predictions, server


def check_predictions(predictions, count, n_values):
    assert len(predictions) >= count
    for address, types, *values in predictions:
        assert types == "f" * n_values
        floats = [float(v) for v in values]
        assert len(floats) == n_values and all(0.0 <= v <= 1.0 for v in floats)


def test_log_collate_train_perform(tmp_path):
    # 1. Log about 300 events in user-only mode.
    server_port = free_udp_port()
    server = Server("--dimension=9", "--log", "--only", "--serverip", "127.0.0.1", "--serverport", str(server_port),
                    cwd=tmp_path)
    assert server.wait_ready(), server.output
    for i in range(300):
        oscsend(server_port, "/interface", "ffffffff", *gesture(i))
    [log] = (tmp_path / "logs").glob(log_glob(9))
    # Ctrl-C only once the last packet is taken: oscsend is done when the packet is on its
    # way, and a server that is stopping drops what it has not read yet.
    server.wait_until(lambda: log.read_bytes().count(b"\n") >= 300, timeout=30)
    assert server.stop() == 0, server.output
    assert "300 events from the musician" in server.output
    contents = read_log(log, 8)
    assert len(contents.events) == 300 and not contents.skipped
    assert {e.source for e in contents.events} == {"interface"}

    # 2. Collate the logs into a dataset.
    result = run_script("generate_dataset.py", "--dimension=9", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "1 performances, 299 events" in result.stdout
    dataset = load_dataset(tmp_path / "datasets" / "training-dataset-9d.npz")
    assert dataset.events.shape == (299, 9) and (dataset.events[:, 0] >= 0).all()
    np.testing.assert_allclose(dataset.events[0, 1:], gesture(1), atol=1e-6)

    # 3. Train the xs model for two epochs.
    result = run_script("train_predictive_music_model.py", "--dimension=9", "--modelsize=xs", "--earlystopping",
                        "--numepochs=2", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / WEIGHTS).is_file()
    assert WEIGHTS in result.stdout

    # 4. Perform with the trained weights in polyphony mode, logging.
    predictions, server = perform_and_listen(tmp_path, "--modelsize=xs", "--log", "--polyphony")
    assert f"performing with {WEIGHTS}" in server.output
    check_predictions(predictions, 20, 8)
    newest = max((tmp_path / "logs").glob(log_glob(9)))
    sources = [e.source for e in read_log(newest, 8).events]
    assert sources.count("interface") == 20 and sources.count("rnn") >= 20


def test_perform_with_original_imps_weights(tmp_path):
    predictions, server = perform_and_listen(tmp_path, "--modelfile", str(LEGACY_WEIGHTS_4D_S), "--polyphony",
                                             dimension=4)
    assert f"performing with {LEGACY_WEIGHTS_4D_S}" in server.output
    check_predictions(predictions, 20, 3)


def test_keras_engine_performs_too(tmp_path):
    predictions, server = perform_and_listen(tmp_path, "--engine=keras", "--modelsize=xxs", "--polyphony",
                                             events=5, dimension=3)
    check_predictions(predictions, 5, 2)


@pytest.mark.parametrize("engine", ["numpy", "keras"])
def test_a_model_with_a_mixture_for_each_value_trains_and_performs(engine, tmp_path):
    rng = np.random.default_rng(0)
    dataset = tmp_path / "datasets" / "training-dataset-4d.npz"
    save_dataset(Dataset.from_performances([np.column_stack([np.full(300, 0.02), rng.random((300, 3))])]), dataset)
    result = run_script("train_predictive_music_model.py", "-d", "4", "--modelsize=xxs", "-n", "1", "--warmup", "0",
                        "--pervalue", "--nosampling", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("training size xxs (2 layers of 16 units, a mixture for each value) on ")
    weights = tmp_path / "models" / "musicMDRNN-dim4-layers2-units16-mixtures5-scale10.weights.h5"
    assert load_weights(weights).per_value
    predictions, server = perform_and_listen(tmp_path, "--modelsize=xxs", "--polyphony", f"--engine={engine}",
                                             events=5, dimension=4)
    assert "2 layers of 16 units, 5 mixtures for each value" in server.output
    check_predictions(predictions, 5, 3)


def test_mode_reset_and_pause_while_playing(tmp_path):
    """The three commands from liblo's oscsend to the real script, heard by oscdump; the
    log they leave is read by generate_dataset.py without a word about bad lines."""
    server_port, synth_port = free_udp_port(), free_udp_port()
    synth = OSCDump(synth_port)
    server = Server("-d=3", "--log", "--polyphony", "--serverip", "127.0.0.1", "--serverport", str(server_port),
                    "--clientip", "127.0.0.1", "--clientport", str(synth_port), cwd=tmp_path)
    try:
        assert server.wait_ready(), server.output
        oscsend(server_port, "/interface", "ff", 0.2, 0.8)
        assert len(synth.wait_for("/prediction", 1)) == 1

        oscsend(server_port, "/mode", "s", "battle")  # the model plays by itself
        assert server.wait_for_output("mode: battle"), server.output
        heard = len(synth.wait_for("/prediction", 6))
        assert heard >= 6

        oscsend(server_port, "/pause", "i", 1)
        assert server.wait_for_output("paused: "), server.output
        # Let what left before the pause arrive; from then on, silence, whatever the musician plays.
        time.sleep(0.5)
        paused = len(synth.messages("/prediction"))
        oscsend(server_port, "/interface", "ff", 0.4, 0.6)
        oscsend(server_port, "/reset", "")
        assert server.wait_for_output("model reset: "), server.output
        assert len(synth.wait_for("/prediction", paused + 1, timeout=1.0)) == paused

        oscsend(server_port, "/pause", "i", 0)
        assert server.wait_for_output("resumed: "), server.output
        assert len(synth.wait_for("/prediction", paused + 3)) >= paused + 3  # battle begins again

        oscsend(server_port, "/mode", "s", "call")
        assert server.wait_for_output("mode: callresponse"), server.output
        oscsend(server_port, "/mode", "s", "jazz")
        oscsend(server_port, "/pause", "i", 2)
        oscsend(server_port, "/reset", "i", 1)
        oscsend(server_port, "/interface", "ff", 0.6, 0.4)
        log = next((tmp_path / "logs").glob(log_glob(3)))
        server.wait_until(lambda: log.read_bytes().count(b",interface,") == 3, timeout=10)
    finally:
        code = server.stop()
        synth.close()
    assert code == 0, server.output
    assert ("warning: /mode dropped: expected one of only, useronly, polyphony, battle, call, callresponse, "
            "got ('jazz',)") in server.output
    assert "rejected: 1 bad /mode, 1 bad /pause, 1 bad /reset" in server.summary()
    text = log.read_text()
    assert [line.split(",", 1)[1] for line in text.splitlines() if ",command," in line] == [
        "command,mode,battle", "command,pause,1", "command,reset", "command,pause,0", "command,mode,callresponse"]

    result = run_script("generate_dataset.py", "--dimension=3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "1 performances, 2 events" in result.stdout
    assert "skipped" not in result.stdout + result.stderr and "warning" not in result.stdout + result.stderr
