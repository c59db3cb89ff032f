"""imps.perform.server.PerformanceServer in-process over real UDP on localhost: a python-osc
client plays the musician's patch and the osc_receiver fixture plays the synth."""

from __future__ import annotations

import math
import socket
import threading
import time
from pathlib import Path

import pytest
from pythonosc.udp_client import SimpleUDPClient

from imps.core.errors import ModelRefused, OSCError
from imps.core.logs import PerformanceLog, read_log
from imps.core.model import DEFAULT_SAMPLING, SIZES, Sampling
from imps.core.names import log_glob
from imps.core.weights import MDRNNWeights
from conftest import Recorder
from imps.perform.config import ServerConfig
from imps.perform.engine import NumpyMDRNN, Predictor
from imps.perform.osc import INTERFACE, MODE, PAUSE, PREDICTION, RESET, TEMPERATURE, TIMESCALE
from imps.perform.server import PerformanceServer

WAIT = 5.0  # seconds: only ever a limit on waiting for something that should happen
DIMENSION = 3


class Reports:
    """The server's report callback: keeps every line, lets a test wait for one."""

    def __init__(self):
        self.lines: list[str] = []
        self._condition = threading.Condition()

    def __call__(self, line: str) -> None:
        with self._condition:
            self.lines.append(line)
            self._condition.notify_all()

    def count(self, line: str) -> int:
        with self._condition:
            return self.lines.count(line)

    def wait_for_count(self, line: str, count: int, timeout: float = WAIT) -> int:
        deadline = time.monotonic() + timeout
        with self._condition:
            while self.lines.count(line) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._condition.wait(remaining)
            return self.lines.count(line)

    def wait_for_line(self, start: str, timeout: float = WAIT) -> str | None:
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                for line in self.lines:
                    if line.startswith(start):
                        return line
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._condition.wait(remaining)


def untrained_predictor() -> Predictor:
    return Predictor(NumpyMDRNN(MDRNNWeights.random(DIMENSION, SIZES["xxs"])), DEFAULT_SAMPLING.pi_temp,
                     DEFAULT_SAMPLING.sigma_temp, seed=0)


class Session:
    """A started PerformanceServer, the client that plays to it, and what it reports."""

    def __init__(self, port: int, receiver, mode: str, logs_dir: Path | None):
        self.reports = Reports()
        self.predictor = untrained_predictor() if mode != "useronly" else None
        config = ServerConfig(DIMENSION, mode, server_ip="127.0.0.1", server_port=port, client_ip="127.0.0.1",
                              client_port=receiver.port, logs_dir=logs_dir, call_response_threshold=0.3)
        self.server = PerformanceServer(config, self.predictor, report=self.reports)
        self.server.start()
        self.client = SimpleUDPClient("127.0.0.1", port)
        self.receiver = receiver

    def predictions(self, count: int, timeout: float = WAIT) -> list[tuple]:
        messages = self.receiver.wait_for(count, timeout)
        assert all(address == PREDICTION for _, address, _ in messages)
        return [args for _, _, args in messages]

    def sync(self, timescale: float = 1.0) -> None:
        """Returns once the server has handled everything sent before: it serves in order,
        so once it reports this /timescale, earlier messages are done."""
        marker = f"timescale: {timescale:g}"
        expected = self.reports.count(marker) + 1
        self.client.send_message(TIMESCALE, [timescale])
        assert self.reports.wait_for_count(marker, expected) == expected

    def log_events(self):
        contents = read_log(self.server.log.path, DIMENSION - 1)
        assert not contents.skipped
        return contents.events


@pytest.fixture
def start_session(udp_port, osc_receiver, in_tmp_dir):
    sessions = []

    def start(mode: str = "polyphony", logs_dir: Path | None = Path("logs")) -> Session:
        session = Session(udp_port, osc_receiver, mode, logs_dir)
        sessions.append(session)
        return session

    yield start
    for session in sessions:
        session.server.stop()


def test_polyphony_answers_the_interface_with_predictions(start_session):
    session = start_session()
    session.client.send_message(INTERFACE, [0.25, 0.75])
    [prediction] = session.predictions(1)
    assert len(prediction) == DIMENSION - 1
    assert all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in prediction)
    for values in ([0.0, 1.0], [0.5, 0.5], [1, 0]):  # ints are numbers too
        session.client.send_message(INTERFACE, values)
    predictions = session.predictions(4)
    assert len(predictions) == 4
    for prediction in predictions:
        assert len(prediction) == DIMENSION - 1
        assert all(0.0 <= v <= 1.0 for v in prediction)
    session.server.stop()  # after the player has finished with the last prediction
    performance = session.server.performance
    assert performance.user_events == 4
    assert performance.predictions_sent == 4
    events = session.log_events()
    assert sorted(e.source for e in events) == ["interface"] * 4 + ["rnn"] * 4
    assert [e.values for e in events if e.source == "interface"] == [[0.25, 0.75], [0.0, 1.0], [0.5, 0.5],
                                                                     [1.0, 0.0]]
    sent = [pytest.approx(list(p), abs=1e-6) for p in predictions]
    assert [e.values for e in events if e.source == "rnn"] == sent


BAD_INTERFACE = {
    "too few": [0.5],
    "too many": [0.1, 0.2, 0.3],
    "none": [],
    "strings": ["loud", "soft"],
    "a bool": [True, 0.5],
    "not a number": [math.nan, 0.5],
    "infinite": [0.5, math.inf],
}


def test_bad_interface_messages_are_dropped_counted_and_not_logged(start_session):
    session = start_session()
    for values in BAD_INTERFACE.values():
        session.client.send_message(INTERFACE, values)
    session.client.send_message(INTERFACE, [0.125, 0.625])  # and it carries on
    [prediction] = session.predictions(1)
    assert len(prediction) == DIMENSION - 1
    server = session.server
    assert server.rejects == {"bad /interface": len(BAD_INTERFACE)}
    assert server.performance.user_events == 1
    # The first is reported; the rest, so soon after, are held back rather than flooding the terminal.
    warnings = [line for line in session.reports.lines if line.startswith("warning:")]
    assert warnings[0] == "warning: /interface dropped: expected 2 floats, got 1 arguments"
    assert len(warnings) < len(BAD_INTERFACE)
    summary = server.summary()
    assert f"rejected: {len(BAD_INTERFACE)} bad /interface" in summary
    assert "1 events from the musician" in summary
    server.stop()
    events = session.log_events()
    assert [(e.source, e.values) for e in events if e.source == "interface"] == [("interface", [0.125, 0.625])]
    assert [e.source for e in events] == ["interface", "rnn"]


def test_temperature_sets_the_predictors_temperatures(start_session):
    session = start_session()
    session.client.send_message(TEMPERATURE, [0.5, 2.0])
    assert session.reports.wait_for_line("temperatures:") == "temperatures: sigma 0.5, pi 2"
    assert session.predictor.sigma_temp == 0.5
    assert session.predictor.pi_temp == 2.0
    session.client.send_message(TEMPERATURE, [0, 0])  # zero is allowed: the most likely event
    session.sync()
    assert (session.predictor.sigma_temp, session.predictor.pi_temp) == (0.0, 0.0)
    assert not session.server.rejects


def test_timescale_sets_the_performances_timescale(start_session):
    session = start_session()
    assert session.server.performance.timescale == 1.0
    session.sync(timescale=2.5)
    assert session.server.performance.timescale == 2.5
    session.sync(timescale=0.0)
    assert session.server.performance.timescale == 0.0
    assert not session.server.rejects


def test_bad_temperature_and_timescale_are_rejected_and_change_nothing(start_session):
    session = start_session()
    before = (session.predictor.sigma_temp, session.predictor.pi_temp)
    for values in ([1.0], [-0.5, 1.0], [1.0, -2.0], ["hot", 1.0], [math.nan, 1.0], [1.0, 2.0, 3.0]):
        session.client.send_message(TEMPERATURE, values)
    for values in ([-1.0], [], ["fast"], [1.0, 2.0]):
        session.client.send_message(TIMESCALE, values)
    session.sync(timescale=1.5)
    assert (session.predictor.sigma_temp, session.predictor.pi_temp) == before
    assert session.server.performance.timescale == 1.5
    assert session.server.rejects == {"bad /temperature": 6, "bad /timescale": 4}
    assert not [line for line in session.reports.lines if line.startswith("temperatures:")]


def test_unknown_addresses_and_garbage_are_counted(start_session, udp_port):
    session = start_session()
    session.client.send_message("/volume", [0.5])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        raw.sendto(b"\x00\x01\x02 not osc", ("127.0.0.1", udp_port))
    session.sync()
    assert session.server.rejects == {"unknown address": 1, "malformed packet": 1}
    assert "rejected: 1 malformed packet, 1 unknown address" in session.server.summary()


def test_summary_counts_events_predictions_and_log_lines(start_session):
    session = start_session()
    for values in ([0.1, 0.2], [0.3, 0.4]):
        session.client.send_message(INTERFACE, values)
    session.predictions(2)
    session.server.stop()  # as the command line does before its summary
    summary = session.server.summary()
    assert "2 events from the musician" in summary
    assert "2 predictions sent" in summary
    assert f"4 lines logged to {session.server.log.path}" in summary
    assert "rejected" not in summary
    assert "stale" not in summary


def test_out_of_range_interface_values_are_logged_as_sent_said_once_and_counted(start_session):
    session = start_session()
    for values in ([0.5, 127.0], [0.25, 0.75], [-3.0, 0.5]):
        session.client.send_message(INTERFACE, values)
    session.predictions(3)
    warning = session.reports.wait_for_line("warning: /interface value")
    assert warning.startswith("warning: /interface value 127 for control 2 of 2 is outside 0-1.")
    session.server.stop()
    assert len([line for line in session.reports.lines if line.startswith("warning: /interface value")]) == 1
    assert [e.values for e in session.log_events() if e.source == "interface"] == \
        [[0.5, 127.0], [0.25, 0.75], [-3.0, 0.5]]
    assert "2 events with values outside 0-1 (logged as sent, clipped for the model)" in session.server.summary()


def test_stop_closes_the_log_and_frees_the_port(start_session, udp_port):
    session = start_session()
    session.client.send_message(INTERFACE, [0.5, 0.5])
    session.predictions(1)
    log = session.server.log
    session.server.stop()
    assert log._file.closed
    lines = log.lines
    session.server.performance.user_event([0.5, 0.5])  # a late event is not written to a closed log
    assert log.lines == lines
    assert len(read_log(log.path, DIMENSION - 1).events) == lines
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", udp_port))  # would fail were the server still listening


def test_the_log_is_named_for_the_dimension_in_the_logs_folder(start_session, in_tmp_dir):
    session = start_session()
    path = session.server.log.path
    assert path.parent.resolve() == (in_tmp_dir / "logs").resolve()
    assert path.match(log_glob(DIMENSION))


def test_without_a_logs_folder_nothing_is_logged(start_session, in_tmp_dir):
    session = start_session(logs_dir=None)
    session.client.send_message(INTERFACE, [0.5, 0.5])
    session.predictions(1)
    assert session.server.log is None
    assert "logged" not in session.server.summary()
    assert not (in_tmp_dir / "logs").exists()


def test_user_only_logs_and_never_sends(start_session):
    session = start_session(mode="useronly")
    session.client.send_message(INTERFACE, [0.5, 0.25])
    session.client.send_message(TEMPERATURE, [0.5, 0.5])  # accepted: there is no model to set
    session.sync()
    assert session.server.performance.user_events == 1
    assert not session.server.rejects
    assert session.receiver.wait_for(1, timeout=0.2) == []
    session.server.stop()
    assert [(e.source, e.values) for e in session.log_events()] == [("interface", [0.5, 0.25])]


def test_battle_plays_with_no_musician(start_session):
    session = start_session(mode="battle")
    predictions = session.predictions(3)
    assert len(predictions) >= 3
    for prediction in predictions:
        assert len(prediction) == DIMENSION - 1
        assert all(0.0 <= v <= 1.0 for v in prediction)
    assert session.server.performance.user_events == 0


def test_a_port_in_use_is_an_oscerror_and_the_log_is_closed(udp_port, osc_receiver, in_tmp_dir, monkeypatch):
    closed = []
    original_close = PerformanceLog.close

    def close(self):
        closed.append(self.path)
        original_close(self)

    monkeypatch.setattr(PerformanceLog, "close", close)
    config = ServerConfig(DIMENSION, "polyphony", server_ip="127.0.0.1", server_port=udp_port,
                          client_ip="127.0.0.1", client_port=osc_receiver.port, logs_dir=Path("logs"))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", udp_port))
        with pytest.raises(OSCError) as caught:
            PerformanceServer(config, untrained_predictor(), report=lambda line: None)
    assert (caught.value.port, caught.value.in_use) == (udp_port, True)
    assert len(closed) == 1


# Commands while playing


def test_mode_switches_the_mode_by_either_name_and_is_logged(start_session):
    session = start_session(mode="polyphony")
    for name, mode in (("battle", "battle"), ("only", "useronly"), ("CALL", "callresponse"),
                       ("useronly", "useronly"), ("callresponse", "callresponse"), ("polyphony", "polyphony")):
        expected = session.reports.count(f"mode: {mode}") + 1
        session.client.send_message(MODE, [name])
        assert session.reports.wait_for_count(f"mode: {mode}", expected) == expected
        assert session.server.performance.mode == mode
    session.client.send_message(INTERFACE, [0.5, 0.5])
    assert len(session.predictions(1)) >= 1
    assert not session.server.rejects
    session.server.stop()
    assert session.log_events()  # the commands' lines are no bad lines
    assert session.server.log.path.read_text().count(",command,mode,") == 6


def test_reset_and_pause_reach_the_model(start_session):
    session = start_session(mode="polyphony")
    session.client.send_message(PAUSE, [1])
    assert session.reports.wait_for_line("paused:")
    session.client.send_message(INTERFACE, [0.5, 0.5])
    session.sync()
    assert session.receiver.wait_for(1, timeout=0.3) == []
    session.client.send_message(PAUSE, [0.0])  # a float from Pd is as good
    assert session.reports.wait_for_line("resumed:")
    session.client.send_message(RESET, [])
    assert session.reports.wait_for_line("model reset:")
    assert not any(h.any() for h in session.predictor.network._h)
    session.client.send_message(INTERFACE, [0.5, 0.5])
    assert len(session.predictions(1)) == 1
    assert not session.server.rejects
    session.server.stop()
    assert [e.source for e in session.log_events()] == ["interface", "interface", "rnn"]


def test_bad_commands_are_rejected_counted_and_warned_about_once_each(start_session):
    session = start_session(mode="polyphony")
    session.server.warner.interval = 0  # each kind's warning, not held back by the one before
    for args in ([], ["jazz"], [1], ["battle", "polyphony"]):
        session.client.send_message(MODE, args)
    for args in ([1], ["now"]):
        session.client.send_message(RESET, args)
    for args in ([], [2], [0.5], ["yes"], [1, 0]):
        session.client.send_message(PAUSE, args)
    session.sync()
    assert session.server.rejects == {"bad /mode": 4, "bad /reset": 2, "bad /pause": 5}
    warnings = [line for line in session.reports.lines if line.startswith("warning:")]
    assert "warning: /mode dropped: expected one of only, useronly, polyphony, battle, call, callresponse, got ()" \
        in warnings
    assert "warning: /reset dropped: expected no arguments, got (1,)" in warnings
    assert "warning: /pause dropped: expected 1 (pause) or 0 (resume), got ()" in warnings
    assert session.server.performance.mode == "polyphony" and not session.server.performance.paused
    assert not [line for line in session.reports.lines if line.startswith(("mode:", "paused:", "model reset:"))]


def test_commands_in_user_only_have_no_model_to_act_on_said_once(start_session):
    session = start_session(mode="useronly")
    session.client.send_message(MODE, ["battle"])
    session.client.send_message(RESET, [])
    session.client.send_message(PAUSE, [1])
    session.sync()
    assert [line for line in session.reports.lines if line.startswith("warning:")] == [
        "warning: /mode: user only has no model to switch, reset or pause; start IMPS in another mode to use /mode, "
        "/reset and /pause. Said once"]
    assert not session.server.rejects
    assert session.server.performance.mode == "useronly"


def test_a_listener_hears_each_interface_and_prediction_until_it_stops_listening(start_session):
    session = start_session()
    heard = Recorder()
    session.server.listen(heard)
    session.client.send_message(INTERFACE, [0.2, 0.4])
    assert [call[0] for call in heard.wait_for(2)] == [INTERFACE, PREDICTION]
    values, = session.predictions(1)
    assert heard.items[0][2] == pytest.approx([0.2, 0.4]) and heard.items[1][2] == pytest.approx(values)
    session.server.unlisten(heard)
    session.client.send_message(INTERFACE, [0.2, 0.4])
    session.predictions(2)
    assert len(heard.items) == 2


def test_a_command_from_elsewhere_is_checked_and_counted_as_over_osc(start_session):
    session = start_session()
    assert session.server.command(TIMESCALE, (0.5,)) and session.server.performance.timescale == 0.5
    assert not session.server.command(MODE, ("chaos",)) and not session.server.command(PAUSE, (2.0,))
    assert session.server.rejects == {f"bad {MODE}": 1, f"bad {PAUSE}": 1}


def test_another_model_plays_through_the_same_network_at_the_temperatures_given_at_start(start_session):
    session = start_session()
    weights = MDRNNWeights.random(DIMENSION, SIZES["xxs"], seed=2)
    weights.sampling = Sampling(1.5, 0.25)
    line = session.server.play_model(weights, "models/other.weights.h5")
    assert line == ("sampling: --pitemp 1.5 (stored with the model), --sigmatemp 0.25 (stored with the model)")
    said = "now playing models/other.weights.h5, from a fresh start; " + line
    assert session.reports.wait_for_line(said) == said
    playing = session.server.performance.predictor
    assert type(playing.network) is NumpyMDRNN and (playing.pi_temp, playing.sigma_temp) == (1.5, 0.25)
    session.client.send_message(INTERFACE, [0.2, 0.4])
    assert len(session.predictions(1)) == 1


def test_a_model_of_another_dimension_is_refused_in_one_line(start_session):
    other_dimension = MDRNNWeights.random(DIMENSION + 1, SIZES["xxs"])
    with pytest.raises(ModelRefused, match="^models/x.h5 is a 4-d model and this performance plays 3-d events: start "
                                           "IMPS with --dimension=4 to play it$"):
        start_session().server.play_model(other_dimension, "models/x.h5")


def test_with_only_the_musician_playing_no_model_is_swapped_in(start_session):
    with pytest.raises(ModelRefused, match=r"^this performance plays no model \(--only\)"):
        start_session(mode="useronly").server.play_model(MDRNNWeights.random(DIMENSION, SIZES["xxs"]), "models/y.h5")
