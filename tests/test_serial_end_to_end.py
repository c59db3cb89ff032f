"""predictive_music_model.py with --serial, as a musician runs it: the real script as a
process, a kernel pseudo-terminal pair as the USB serial device (tests/harness/pty_device.py)
with the test as the sketch, real OSC alongside. Bad input gives one line and the right
exit code."""

from __future__ import annotations

import os
import re
import time

import numpy as np
import pytest
from harness import Stage, message
from harness.pty_device import PtyDevice

from conftest import utils_script
from imps.core.logs import read_log
from imps.perform.osc import INTERFACE
from scripts import one_error_line, run_script

SERVER = "predictive_music_model.py"
DIMENSION = 5
RATE = 100  # lines a second, as a sketch's loop with delay(10) prints them


def logged(stage: Stage) -> list[list[float]]:
    return [e.values for e in read_log(stage.log, DIMENSION - 1).events if e.source == "interface"]


@pytest.fixture
def device(tmp_path):
    device = PtyDevice(tmp_path / "ttyACM0")
    yield device
    device.close()


@pytest.mark.slow
def test_lines_at_100_hz_are_logged_exactly_and_predictions_come_back_as_lines(tmp_path, device):
    stage = Stage(tmp_path, "--polyphony", "--serial", str(device.path), dimension=DIMENSION)
    try:
        assert f"serial on {device.path} at 115200 baud" in stage.output
        rng = np.random.default_rng(1)
        sent = [[round(float(v), 4) for v in rng.random(DIMENSION - 1)] for _ in range(3 * RATE)]
        began = time.monotonic()
        for i, values in enumerate(sent):
            device.write((",".join(f"{v:.4f}" for v in values) + "\r\n").encode())
            time.sleep(max(0.0, began + (i + 1) / RATE - time.monotonic()))
        assert stage.wait_for_lines(len(sent)) == len(sent)
        predictions = device.read_lines(50)
    finally:
        code = stage.stop()
    assert code == 0, stage.output
    assert logged(stage) == sent  # the log's 32-bit floats read back as the 4 decimals sent
    assert len(predictions) == 50
    for line in predictions:
        values = [float(v) for v in line.split(b",")]
        assert len(values) == DIMENSION - 1 and all(0 <= v <= 1 for v in values)
        assert re.fullmatch(rb"(\d\.\d{4},){3}\d\.\d{4}", line)
    assert f"{len(sent)} serial events in" in stage.summary()
    assert "warning" not in stage.output


@pytest.mark.slow
def test_bad_lines_are_one_warning_each_kind_and_an_unplugged_port_comes_back(tmp_path, device):
    stage = Stage(tmp_path, "--only", "--serial", str(device.path), "--serialscale", "1023", dimension=DIMENSION)
    try:
        device.write(b"0,0,0,0\n")
        assert stage.wait_for_lines(1) == 1
        for _ in range(2):
            for bad in (b"1,2,3\n", b"1,2,three,4\n", b"\x8f\xf0\x00\xfc\n", b"9" * 1500 + b"\n", b"2046,0,0,0\n"):
                device.write(bad)
        device.write(b"1023,512,0,1023\n")
        assert stage.wait_for_lines(4) == 4  # the first, the two out of range, the last
        device.unplug()
        assert stage.wait_for_output("has gone"), stage.output
        stage.send(message(INTERFACE, *[("f", 0.5)] * (DIMENSION - 1)))  # OSC plays on
        assert stage.wait_for_lines(5) == 5
        device.plug()
        assert stage.wait_for_output(f"serial port {device.path} is back"), stage.output
        device.write(b"0,1023,0,1023\n")
        assert stage.wait_for_lines(6) == 6
    finally:
        code = stage.stop()
    assert code == 0, stage.output
    warnings = [line for line in stage.lines if line.startswith("warning:")]
    starts = [f"warning: serial line dropped, {kind}: " for kind in ("wrong count", "not a number", "not text",
                                                                     "too long")]
    starts.append("warning: /interface value 2 for control 1 of 4 is outside 0-1.")
    assert len(warnings) == len(starts) and all(w.startswith(start) for w, start in zip(warnings, starts)), warnings
    assert "--serialscale divides raw readings" in warnings[-1]
    assert stage.output.count("has gone") == 1 and stage.output.count("is back") == 1
    assert np.array(logged(stage)) == pytest.approx(np.array(
        [[0, 0, 0, 0], [2, 0, 0, 0], [2, 0, 0, 0], [1, 512 / 1023, 0, 1], [0.5] * 4, [0, 1, 0, 1]]), rel=1e-6)
    summary = stage.summary()
    assert "6 events from the musician" in summary and "5 serial events in" in summary
    assert "serial lines rejected: 2 not a number, 2 not text, 2 too long, 2 wrong count" in summary
    assert "serial port gone 1 time" in summary
    assert "Traceback" not in stage.output


@pytest.mark.parametrize("flags, code, said", [
    (["--baud", "9600"], 2, "--baud and --serialscale are for a serial port: name one with --serial"),
    (["--serial", "x", "--serialscale", "0"], 2, "--baud and --serialscale must be more than 0"),
    (["--only", "--serial", "no-such-serial-device"], 2, "no serial port is 'no-such-serial-device'"),
])
def test_serial_flags_it_cannot_act_on_are_one_line(tmp_path, flags, code, said):
    result = run_script(SERVER, *flags, cwd=tmp_path)
    assert result.returncode == code
    assert said in one_error_line(result)


def test_seriallist_prints_each_port_on_a_line(tmp_path):
    from serial.tools.list_ports import comports

    result = run_script(SERVER, "--seriallist", cwd=tmp_path)
    assert result.returncode == 0
    expected = [f"{p.device}: {p.description}" for p in sorted(comports())] or ["no serial ports found"]
    assert result.stdout.splitlines() == expected


def test_the_serial_benchmark_times_every_event():
    round_trips, unanswered, weights = utils_script("benchmark_serial").measure(30)
    assert len(round_trips) == 30 and unanswered == 0 and (round_trips > 0).all()
    assert weights.startswith("musicMDRNN-dim9-")


def test_without_pyserial_serial_is_one_line_saying_what_to_install(tmp_path, monkeypatch):
    """A Pi installed without pyserial: --serial and --seriallist say what is missing."""
    shadow = tmp_path / "no-pyserial" / "serial"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError(\"No module named 'serial'\")\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(shadow.parent), os.environ.get("PYTHONPATH")])))
    result = run_script(SERVER, "--seriallist", cwd=tmp_path)
    assert result.returncode == 1
    assert one_error_line(result) == ("error: pyserial cannot be loaded (No module named 'serial'): install pyserial "
                                      "(pip install -r requirements.txt)")


def test_help_explains_every_serial_flag(tmp_path):
    text = " ".join(run_script(SERVER, "--help", cwd=tmp_path).stdout.split())
    for flag, says in {"--seriallist": "print the serial ports there are", "--serial PORT": "one event a line",
                       "--baud BAUD": "the speed in the sketch's Serial.begin (default: 115200)",
                       "--serialscale MAX": "such as 1023 for analogRead as it is"}.items():
        assert flag in text and says in text, flag
