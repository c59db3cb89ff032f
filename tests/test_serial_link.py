"""imps.perform.serial_link: the line parser and splitter on their own, then the link
and the server over a real pseudo-terminal pair (tests/harness/pty_device.py), the
test playing the sketch on its master side."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest
from harness.pty_device import PtyDevice

from imps.core.errors import SerialOpenFailed, SerialPortNotFound
from imps.core.logs import read_log
from imps.core.notices import (NOT_A_NUMBER, NOT_TEXT, TOO_LONG, WRONG_COUNT, SerialLineRejected, SerialPortBack,
                               SerialPortGone, words)
from imps.perform.config import SerialConfig, ServerConfig
from imps.perform.serial_link import (CUT_SHORT, MAX_LINE, BadLine, LineSplitter, SerialLink, find_port, format_line,
                                      parse_line)
from imps.perform.server import PerformanceServer

from conftest import ROOT, Recorder
from test_server import DIMENSION, Reports, untrained_predictor

WAIT = 5.0  # seconds: only ever a limit on waiting for something that should happen


@pytest.mark.parametrize("line", [b"0.25,0.5,1", b"0.25, 0.5, 1", b"0.25 0.5\t1", b" 0.25,,0.5 1 "])
def test_a_line_is_numbers_separated_by_commas_or_spaces(line):
    assert parse_line(line, 3) == [0.25, 0.5, 1.0]


def test_the_scale_divides_raw_readings_and_nothing_is_clipped_here():
    assert parse_line(b"0,512,1023", 3, 1023.0) == [0.0, 512 / 1023, 1.0]
    assert parse_line(b"-0.5,2,0.5", 3) == [-0.5, 2.0, 0.5]  # the performance logs, clips and tells


@pytest.mark.parametrize("line, kind, detail", [
    (b"0.5,0.5", WRONG_COUNT, "2 values in '0.5,0.5', 3 expected"),
    (b"", WRONG_COUNT, "0 values in '', 3 expected"),
    (b"0.5,loud,0.5", NOT_A_NUMBER, "'loud' in '0.5,loud,0.5'"),
    (b"0.5,nan,0.5", NOT_A_NUMBER, "'nan' in '0.5,nan,0.5'"),
    (b"0.5,0.5,inf", NOT_A_NUMBER, "'inf' in '0.5,0.5,inf'"),
    (b"0.5,\xff\x80,0.5", NOT_TEXT, "'0.5,\\xff\\x80,0.5'"),
    (b"0.5\x00,0.5,0.5", NOT_TEXT, "'0.5\\x00,0.5,0.5'"),
    (b"0," * 600, TOO_LONG, f"more than {MAX_LINE} bytes without a line end"),
])
def test_each_kind_of_bad_line_is_named_with_what_came(line, kind, detail):
    with pytest.raises(BadLine) as bad:
        parse_line(line, 3)
    assert (bad.value.kind, bad.value.detail) == (kind, detail)


def test_a_prediction_goes_out_with_4_decimals_a_line():
    assert format_line([0.0, 0.123456, 1.0]) == b"0.0000,0.1235,1.0000\n"


def test_lines_are_cut_at_their_end_whatever_the_reads_were():
    splitter = LineSplitter()
    assert splitter.feed(b"0.1,0.2\r\n0.3,") == [b"0.1,0.2"]
    assert splitter.feed(b"") == []
    assert splitter.feed(b"0.4\n\n0.5 0.6\n") == [b"0.3,0.4", b"", b"0.5 0.6"]


def test_a_line_without_end_is_kept_only_long_enough_to_be_too_long():
    splitter = LineSplitter()
    for _ in range(100):
        assert splitter.feed(b"1" * 1000) == []
    too_long, after = splitter.feed(b"\n0.5,0.5\n")
    assert len(too_long) == MAX_LINE + 2 and after == b"0.5,0.5"
    assert splitter.feed(b"2" * MAX_LINE + b"\r\n") == [b"2" * MAX_LINE]  # exactly the limit is a line


def test_a_bad_line_is_one_warning_saying_what_to_do():
    line = words(SerialLineRejected(WRONG_COUNT, "2 values in '0.5,0.5', 3 expected", 3))
    assert line == ("warning: serial line dropped, wrong count: 2 values in '0.5,0.5', 3 expected. Print 3 numbers a "
                    "line (3 is --dimension 4 less 1), or start IMPS with --dimension one more than the numbers your "
                    "sketch prints. Said for the first line of each kind; the summary at the end counts them")
    assert "--baud" in words(SerialLineRejected(NOT_TEXT, "'\\xff'", 3))


def test_a_port_is_a_path_that_exists_or_part_of_a_listed_name(tmp_path):
    assert find_port(str(tmp_path)) == str(tmp_path)
    assert find_port("no-such-device-here") is None
    with pytest.raises(SerialPortNotFound, match="no serial port is 'no-such-device-here'"):
        SerialLink(SerialConfig("no-such-device-here"), 3, print)


@pytest.fixture
def device(tmp_path):
    device = PtyDevice(tmp_path / "ttyACM-test")
    yield device
    device.close()


@pytest.fixture
def link(device):
    """A started link reading the device, recording events and notices."""
    events, notices = Recorder(whole_call=False), Recorder(whole_call=False)
    link = SerialLink(SerialConfig(str(device.path)), 3, events, notices)
    link.events, link.notices = events, notices
    link.start()
    yield link
    link.close()


def test_lines_at_100_hz_are_events_exactly_and_predictions_are_lines_back(device, link):
    rng = np.random.default_rng(0)
    sent = [[round(float(v), 4) for v in rng.random(3)] for _ in range(100)]
    for values in sent:
        device.write(",".join(f"{v:.4f}" for v in values).encode() + b"\r\n")
        time.sleep(0.01)
    assert link.events.wait_for(100, WAIT) == sent
    link.send([0.5, 0.25, 1.0])
    link.send([0.0, 0.125, 0.75])
    assert device.read_lines(2, WAIT) == [b"0.5000,0.2500,1.0000", b"0.0000,0.1250,0.7500"]
    assert link.received == 100 and not link.rejected and not link.notices.items


def test_bad_lines_are_counted_with_one_warning_for_the_first_of_each_kind(device, link):
    device.write(b"0.1,0.2,0.3\n")  # the port's first line
    link.events.wait_for(1, WAIT)
    bad = [b"0.5,0.5\n", b"0.5,x,0.5\n", b"\xfe\xff\x00\x13\n", b"7" * 2000 + b"\n"]
    for line in bad * 3:
        device.write(line)
    device.write(b"0.4,0.5,0.6\n")
    assert link.events.wait_for(2, WAIT) == [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]
    notices = link.notices.items
    assert [n.kind for n in notices] == [WRONG_COUNT, NOT_A_NUMBER, NOT_TEXT, TOO_LONG]
    assert all(isinstance(n, SerialLineRejected) for n in notices)
    assert link.rejected == {WRONG_COUNT: 3, NOT_A_NUMBER: 3, NOT_TEXT: 3, TOO_LONG: 3}
    assert "serial lines rejected: 3 not a number, 3 not text, 3 too long, 3 wrong count" in link.summary_parts()


def test_a_first_line_cut_short_by_opening_the_port_is_counted_not_warned(tmp_path, device):
    events, notices = Recorder(whole_call=False), Recorder(whole_call=False)
    link = SerialLink(SerialConfig(str(device.path)), 3, events, notices)
    try:
        link.start()
        device.write(b"5,0.75\n0.1,0.2,0.3\n")  # the end of a line begun before the port opened, then one whole
        assert events.wait_for(1, WAIT) == [[0.1, 0.2, 0.3]]
        assert link.rejected == {CUT_SHORT: 1} and notices.items == []
    finally:
        link.close()


def test_an_unplugged_port_is_said_once_and_reopened_when_it_is_back(device, link):
    device.write(b"0.1,0.2,0.3\n")
    link.events.wait_for(1, WAIT)
    device.unplug()
    gone = link.notices.wait_for(1, WAIT)
    assert gone == [SerialPortGone(str(device.path), str(device.path))]
    link.send([0.5, 0.5, 0.5])  # nowhere to go: counted
    device.plug()
    back = link.notices.wait_for(2, WAIT)
    assert back[1] == SerialPortBack(str(device.path))
    device.write(b"0.4,0.5,0.6\n")
    assert link.events.wait_for(2, WAIT)[1] == [0.4, 0.5, 0.6]
    link.send([0.25, 0.25, 0.25])
    assert device.read_lines(1, WAIT) == [b"0.2500,0.2500,0.2500"]
    assert len(link.notices.items) == 2 and link.unsent == 1 and link.times_gone == 1


def test_a_device_that_does_not_read_never_holds_up_the_player(device, link):
    began = time.monotonic()
    for _ in range(20000):  # more than a pty holds
        link.send([0.5, 0.5, 0.5])
    assert time.monotonic() - began < WAIT
    assert link.unsent > 0
    # Every line written is whole; the last may wait for the next send to finish it.
    lines = device.read_lines(20000, timeout=0.5)
    assert 20000 - link.unsent - 1 <= len(lines) <= 20000 - link.unsent
    assert set(lines) == {b"0.5000,0.5000,0.5000"}


def test_a_port_another_program_has_open_is_refused(device, link):
    with pytest.raises(SerialOpenFailed, match="would not open"):
        SerialLink(SerialConfig(str(device.path)), 3, print)


def test_the_server_logs_serial_events_as_interface_lines_and_writes_predictions_back(tmp_path, device, osc_receiver):
    reports = Reports()
    config = ServerConfig(DIMENSION, "polyphony", server_ip="127.0.0.1", server_port=0, client_ip="127.0.0.1",
                          client_port=osc_receiver.port, logs_dir=tmp_path / "logs",
                          serial=SerialConfig(str(device.path), scale=1023.0))
    server = PerformanceServer(config, untrained_predictor(), report=reports)
    server.start()
    try:
        device.write(b"512,1023\n")
        device.write(b"2046,0\n")  # 2 once scaled: logged as sent, clipped for the model, and said once
        lines = device.read_lines(2, WAIT)
        predictions = [list(args) for _, _, args in osc_receiver.wait_for(2, WAIT)]
        # The same predictions as /prediction (a 32-bit float) and as the serial line (4 decimals).
        assert np.array([[float(v) for v in line.split(b",")] for line in lines]) == pytest.approx(
            np.array(predictions), abs=5e-5)
        assert reports.wait_for_line("warning: /interface value 2 for control 1 of 2 is outside 0-1.")
    finally:
        server.stop()
    logged = [event.values for event in read_log(server.log.path, DIMENSION - 1).events if event.source == "interface"]
    assert np.array(logged) == pytest.approx(np.array([[512 / 1023, 1.0], [2.0, 0.0]]), rel=1e-6)
    assert "2 serial events in" in server.summary()


def test_a_server_without_serial_never_imports_pyserial():
    """A Raspberry Pi without pyserial plays over OSC: only --serial loads it."""
    code = ("import sys, imps.perform.server\n"
            "print(sorted(n for n in sys.modules if n == 'serial' or n.startswith('serial.')))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr


def test_a_port_going_and_coming_back_is_said_in_a_line_each():
    assert words(SerialPortGone("/dev/ttyACM0", "teensy")) == (
        "serial port /dev/ttyACM0 has gone: IMPS plays on without it and opens teensy again as soon as it returns")
    assert words(SerialPortBack("/dev/ttyACM0")) == "serial port /dev/ttyACM0 is back: reading and writing again"
