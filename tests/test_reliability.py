"""Staying up on stage: bad packets, floods, crashes and stops, against the real script."""

import re
import signal
import threading

import numpy as np
import pytest

from imps import probe
from imps.logs import read_log
from imps.probe import Stage, free_udp_port, paced
from scripts import Server, run_script

DIMENSION = 9


def valid_packets(count, seed=0):
    rng = np.random.default_rng(seed)
    return [probe.valid_interface(rng, DIMENSION - 1) for _ in range(count)]


def test_ten_thousand_fuzzed_packets_log_exactly_the_valid_messages(tmp_path):
    packets = probe.packets(10_000, DIMENSION - 1, seed=3)
    valid = [p.valid_values for p in packets if p.valid_values is not None]
    kinds = {p.kind for p in packets}
    assert {"random bytes", "NaN", "infinity", "truncated", "nested bundle of bad messages", "strings",
            "wrong address", "valid /interface in a future bundle"} <= kinds
    stage = Stage(tmp_path, "--polyphony")
    try:
        paced(stage.send, [p.data for p in packets], rate=5000)
        assert stage.wait_for_lines(len(valid)) == len(valid)
        assert stage.process.poll() is None  # still up
    finally:
        code, _ = stage.stop_timed()
    assert code == 0
    contents = read_log(stage.log, DIMENSION - 1)
    assert not contents.skipped  # nothing malformed reached the log
    logged = [e.values for e in contents.events if e.source == "interface"]
    np.testing.assert_allclose(logged, valid, rtol=1e-6)
    summary = stage.summary()
    assert "rejected:" in summary and "malformed packet" in summary and "bad /interface" in summary
    assert "Traceback" not in stage.output
    counts = [int(n) for n in re.findall(r"(\d+) (?:malformed packet|bad /interface|unknown address)", summary)]
    assert sum(counts) >= len(packets) - len(valid)


def test_a_flood_is_logged_whole_and_the_server_still_answers(tmp_path):
    stage = Stage(tmp_path, "--polyphony")
    try:
        packets = [p.data for p in valid_packets(10_000)]
        paced(stage.send, packets, rate=20_000)
        assert stage.wait_for_lines(len(packets), timeout=60) == len(packets)
        stage.synth.settimeout(10)
        stage.send(probe.message("/timescale", ("f", 0.0)))
        stage.send(packets[0])
        assert stage.synth.recv(4096).startswith(b"/prediction")
    finally:
        code, _ = stage.stop_timed()
    assert code == 0


def test_kill_9_while_logging_leaves_a_readable_log(tmp_path):
    stage = Stage(tmp_path, "--only")
    packets = [p.data for p in valid_packets(4000)]
    sending = threading.Thread(target=paced, args=(stage.send, packets, 2000))
    sending.start()
    stage.wait_for_lines(1000)
    stage.process.kill()
    stage.process.wait()
    sending.join()
    raw = stage.log.read_bytes()
    contents = read_log(stage.log, DIMENSION - 1)
    assert len(contents.events) >= 1000
    assert sum(contents.skipped.values()) <= 1  # at most the line being written
    assert raw.count(b"\n") == len(contents.events)
    result = run_script("generate_dataset.py", f"--dimension={DIMENSION}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"{len(contents.events) - 1} events" in result.stdout


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_and_sigterm_stop_cleanly(tmp_path, sig):
    stage = Stage(tmp_path, "--polyphony")
    paced(stage.send, [p.data for p in valid_packets(100)], rate=500)
    stage.wait_for_lines(100)
    code, _ = stage.stop_timed(sig)
    assert code == 0
    raw = stage.log.read_bytes()
    assert raw.endswith(b"\n")
    assert not read_log(stage.log, DIMENSION - 1).skipped
    assert stage.summary().startswith("stopped: 100 events from the musician")


def test_listening_beyond_this_machine_warns(tmp_path):
    server = Server("--only", "--serverip", "0.0.0.0", "--serverport", str(free_udp_port()), cwd=tmp_path)
    assert server.wait_ready(), server.output
    assert server.stop() == 0
    assert "warning: listening on 0.0.0.0: anyone on that network can play this instrument" in server.output
