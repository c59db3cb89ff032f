"""Staying up on stage and through long nights: bad packets, floods, crashes, stops, a disk that
fills, logs split at a size, long waits capped, and a minute's soak, against the real script."""

import re
import signal
import threading

import numpy as np
import pytest

import harness
from imps.core.logs import read_log
from harness import Stage, drain, free_udp_port, paced, soak
from scripts import Server, run_script

DIMENSION = 9


def valid_packets(count, seed=0):
    rng = np.random.default_rng(seed)
    return [harness.valid_interface(rng, DIMENSION - 1) for _ in range(count)]


@pytest.mark.slow
def test_ten_thousand_fuzzed_packets_log_exactly_the_valid_messages(tmp_path):
    packets = harness.packets(10_000, DIMENSION - 1, seed=3)
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


@pytest.mark.slow
def test_a_flood_is_logged_whole_and_the_server_still_answers(tmp_path):
    stage = Stage(tmp_path, "--polyphony")
    try:
        packets = [p.data for p in valid_packets(10_000)]
        paced(stage.send, packets, rate=20_000)
        assert stage.wait_for_lines(len(packets), timeout=60) == len(packets)
        stage.synth.settimeout(10)
        stage.send(harness.message("/timescale", ("f", 0.0)))
        stage.send(packets[0])
        assert stage.synth.recv(4096).startswith(b"/prediction")
    finally:
        code, _ = stage.stop_timed()
    assert code == 0


@pytest.mark.slow
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


@pytest.mark.slow
def test_a_log_the_disk_refuses_stops_at_a_whole_line_and_the_server_plays_on(tmp_path):
    stage = Stage(tmp_path, "--polyphony", file_size_limit=20_000)
    packets = [p.data for p in valid_packets(1000)]
    sent = 0
    try:
        stage.send(harness.message("/timescale", ("f", 0.0)))
        failed = "warning: could not write to the log"
        while sent < len(packets) and not stage.wait_for_output(failed, timeout=0.2):
            paced(stage.send, packets[sent:sent + 20], rate=500)  # about 150 events and answers fill 20 kB
            sent += 20
        assert failed in stage.output
        drain(stage.synth, quiet=0.3)
        stage.synth.settimeout(10)
        for data in packets[sent:sent + 20]:  # every event after the failure is still answered
            stage.send(data)
            assert stage.synth.recv(4096).startswith(b"/prediction")
        sent += 20
    finally:
        code, _ = stage.stop_timed()
    assert code == 0 and "Traceback" not in stage.output
    assert stage.output.count(failed) == 1
    assert f"{failed} {stage.log.relative_to(tmp_path)} (File too large)" in stage.output
    summary = stage.summary()
    events, predictions = (int(n) for n in re.search(r"(\d+) events from the musician; (\d+) predictions sent",
                                                     summary).groups())
    written, unwritten = (int(n) for n in re.search(r"(\d+) lines logged to \S+; (\d+) lines NOT logged after "
                                                    r"writing failed \(File too large\)", summary).groups())
    assert events == sent and written + unwritten == events + predictions
    raw = stage.log.read_bytes()
    assert len(raw) <= 20_000 and raw.endswith(b"\n")
    contents = read_log(stage.log, DIMENSION - 1)
    assert not contents.skipped and len(contents.events) == written


def test_logmax_splits_the_log_into_whole_logs_that_generate_dataset_reads(tmp_path):
    packets = valid_packets(200)
    stage = Stage(tmp_path, "--polyphony", "--logmax", "4kB")
    try:
        stage.send(harness.message("/timescale", ("f", 0.0)))
        stage.synth.settimeout(10)
        for packet in packets:
            stage.send(packet.data)
            stage.synth.recv(4096)
    finally:
        code, _ = stage.stop_timed()
    assert code == 0 and "Traceback" not in stage.output
    files = list((tmp_path / "logs").iterdir())
    assert f"{2 * len(packets)} lines logged to {len(files)} files, {stage.log.relative_to(tmp_path)} to " \
        in stage.summary()
    assert len(files) > 10
    contents = {path: read_log(path, DIMENSION - 1) for path in files}
    for path in files:
        assert path.stat().st_size <= 4000 and not contents[path].skipped
    in_order = sorted(files, key=lambda path: contents[path].events[0].time)
    interface = [e.values for path in in_order for e in contents[path].events if e.source == "interface"]
    np.testing.assert_allclose(interface, [p.valid_values for p in packets], rtol=1e-6)  # none lost at a switch
    result = run_script("generate_dataset.py", f"--dimension={DIMENSION}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    firsts = sum(1 for path in files if any(e.source == "interface" for e in contents[path].events))
    assert f"{firsts} performances, {len(packets) - firsts} events" in result.stdout  # each file's first starts it


def test_battle_mode_caps_each_long_wait_says_so_once_and_counts_them(tmp_path):
    stage = Stage(tmp_path, "--battle", "--maxwait", "0.002")  # the model's waits are mostly longer
    try:
        stage.synth.settimeout(10)
        for _ in range(50):
            assert stage.synth.recv(4096).startswith(b"/prediction")
    finally:
        code, _ = stage.stop_timed()
    assert code == 0
    assert stage.output.count("it waits 0.002 s instead, the longest wait allowed") == 1
    capped = int(re.search(r"(\d+) predicted waits capped at 0.002 s", stage.summary()).group(1))
    predictions = int(re.search(r"(\d+) predictions sent", stage.summary()).group(1))
    assert 0 < capped <= predictions + 1  # the last one capped may not have been played before the stop
    assert sum(1 for e in read_log(stage.log, DIMENSION - 1).events if e.source == "rnn") == predictions


SOAK_MEMORY_GROWTH_MB = 2.0  # resident memory gained between 20 s and 60 s, at most


@pytest.mark.slow
def test_a_minute_of_battle_and_polyphony_logs_every_prediction_and_holds_its_memory(tmp_path):
    result = soak(tmp_path, seconds=60, warmup=20, window=20)
    for name, stage in result.stages.items():
        assert result.codes[name] == 0 and "Traceback" not in stage.output, stage.output
        contents = read_log(stage.log, DIMENSION - 1)
        assert not contents.skipped
        assert sum(1 for e in contents.events if e.source == "rnn") == result.predictions_sent(name)
        before, after = result.memory[name]
        assert after - before <= SOAK_MEMORY_GROWTH_MB, (name, before, after)
    assert result.heard == result.predictions_sent("battle") > 0
    interface = sum(1 for e in read_log(result.stages["polyphony"].log, DIMENSION - 1).events
                    if e.source == "interface")
    assert interface == result.sent
    dataset = run_script("generate_dataset.py", f"--dimension={DIMENSION}", cwd=tmp_path)
    assert dataset.returncode == 0, dataset.stderr
    # The battle log holds only the model's lines, so the polyphony log is the one performance.
    assert f"1 performances, {result.sent - 1} events" in dataset.stdout.splitlines()[-1]
