"""predictive_music_model.py with MIDI, as a musician runs it: the real script as a
process, a real JACK server (dummy backend, 64-frame period), virtual controller and
synth ports, real OSC alongside. Bad input gives one line and the right exit code."""

from __future__ import annotations

import os
import re
import signal
import socket
import threading

import numpy as np
import pytest
from pythonosc.osc_message import OscMessage

from conftest import ROOT, VirtualSynth, sounding_notes
from harness import ServerProcess, Stage, VirtualMidiOut, free_udp_port, message
from scripts import one_error_line, run_script

SERVER = "predictive_music_model.py"
JACK = ("--midiapi", "jack")
RATE = 100  # MIDI messages a second from the virtual controller
CC1, CC11 = 0xB0, 0xBA  # control change status on channel 1 and channel 11
needs_jack = pytest.mark.peers("jackd", "jack_wait")
IMPSY = ROOT / "tests" / "fixtures" / "impsy" / "configs"  # IMPSY's published examples


def f32(value) -> float:
    """As the log holds a value: a 32-bit float, as OSC carries it."""
    return float(np.float32(value))


def logged_lines(stage: Stage, source: str = "interface") -> list[list[float]]:
    """The values of each of the log's lines from `source`: interface (the musician) or rnn (the model)."""
    return [[f32(v) for v in line.split(",")[2:]] for line in stage.log.read_text().splitlines()
            if f",{source}," in line]


def interface_lines(stage: Stage) -> list[list[float]]:
    return logged_lines(stage, "interface")


def expected_events(messages: list[list[int]], numbers: list[int], n_values: int) -> list[list[float]]:
    """Every control's value after each message: untouched controls at 0.5."""
    controls, events = [0.5] * n_values, []
    for _, number, data in messages:
        controls[numbers.index(number)] = data / 127
        events.append([f32(v) for v in controls])
    return events


def osc_predictions(sock: socket.socket, count: int) -> list[list[float]]:
    """The values of the first `count` /prediction messages the synth socket receives."""
    sock.settimeout(5)
    predictions = []
    while len(predictions) < count:
        data, _ = sock.recvfrom(65536)
        if data.startswith(b"/prediction"):
            predictions.append([f32(v) for v in OscMessage(data).params])
    return predictions


def summary_count(stage: Stage, what: str) -> int:
    """A count from the server's summary (0 where it does not mention it)."""
    found = re.search(rf"(\d+) {what}", stage.summary())
    return int(found.group(1)) if found else 0


@pytest.mark.slow
@needs_jack
def test_control_changes_in_are_logged_events_and_predictions_go_out_as_midi_and_osc(tmp_path, controller, synth):
    stage = Stage(tmp_path, "--polyphony", "--midiin", "controller", "--midiout", "synth", *JACK)
    try:
        sent = [[CC1, 1 + i % 8, (i * 37) % 128] for i in range(300)]
        controller.send_paced(sent, RATE)
        assert stage.wait_for_lines(300) == 300
        assert interface_lines(stage) == expected_events(sent, list(range(1, 9)), 8)
        received = synth.wait_for(100)
        assert all(status == CC1 and 1 <= number <= 8 and 0 <= data <= 127 for status, number, data in received)
        assert len({number for _, number, _ in received}) == 8
        over_osc = osc_predictions(stage.synth, 100)
        # Each answer waits its predicted time to sound: wait for all 300 before stopping (or,
        # should a loaded machine have made the model drop stale input, for long enough that
        # every answer the model made has sounded: predicted waits are capped at 10 s).
        stage.wait_until(lambda: len(logged_lines(stage, "rnn")) >= 300, timeout=30)
    finally:
        assert stage.stop() == 0
    assert "300 MIDI messages in" in stage.summary() and "300 events from the musician" in stage.summary()
    # Polyphony answers every event the model took (a model that falls behind drops the
    # stalest input, and says so), each answer logged and sent over OSC as logged.
    predictions = logged_lines(stage, "rnn")
    dropped = summary_count(stage, "stale model inputs dropped")
    assert len(predictions) == summary_count(stage, "predictions sent") == 300 - dropped
    assert over_osc == predictions[:100]
    assert all(len(values) == 8 and all(0 <= v <= 1 for v in values) for values in predictions)
    assert "MIDI in from 'controller:out', MIDI out to 'synth:in'" in stage.output


@pytest.mark.slow
@needs_jack
def test_the_x_touch_example_round_trips(tmp_path, controller, synth):
    stage = Stage(tmp_path, "--polyphony", "--midimap", str(ROOT / "examples" / "x-touch-mini.toml"),
                  "--midiin", "controller", "--midiout", "synth", *JACK)
    try:
        sent = [[CC11, 1 + i % 8, (i * 11) % 128] for i in range(40)]
        controller.send_paced(sent, RATE)
        assert stage.wait_for_lines(40) == 40
        assert interface_lines(stage) == expected_events(sent, list(range(1, 9)), 8)
        received = synth.wait_for(20)
        # the knobs' LED rings: CC 9-16 on the global channel, one LED of 13 lit
        assert all(status == CC1 and 9 <= number <= 16 and 1 <= data <= 13 for status, number, data in received)
    finally:
        assert stage.stop() == 0


@pytest.mark.slow
@needs_jack
def test_channel_and_numbers_from_flags_and_an_osc_interface_sets_every_control(tmp_path, controller, synth):
    stage = Stage(tmp_path, "--polyphony", "--midiin", "controller", "--midiout", "synth", *JACK,
                  "--midichannel", "3", "--midicc", "20,21,22", dimension=4)
    try:
        controller.send_paced([[0xB2, 20, 127], [0xB0, 20, 5]], RATE)  # the second is on channel 1: not mapped
        assert stage.wait_for_lines(1) == 1
        stage.send(message("/interface", ("f", 0.25), ("f", 0.5), ("f", 0.75)))
        assert stage.wait_for_lines(2) == 2
        controller.send_paced([[0xB2, 22, 0]], RATE)
        assert stage.wait_for_lines(3) == 3
        assert interface_lines(stage) == [[1.0, 0.5, 0.5], [0.25, 0.5, 0.75], [0.25, 0.5, 0.0]]
        received = synth.wait_for(3)
        assert {status for status, _, _ in received} == {0xB2} and {n for _, n, _ in received} <= {20, 21, 22}
    finally:
        assert stage.stop() == 0
    assert "1 control_change (channel 1, CC 20)" in stage.summary()


def note_mapping(tmp_path):
    path = tmp_path / "notes.toml"
    path.write_text('[midi]\ninput = [["note_on", 1]]\noutput = [["note_on", 2]]\n')
    return str(path)


@pytest.mark.slow
@needs_jack
@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_a_note_mapping_round_trips_and_leaves_no_note_sounding_when_imps_stops(tmp_path, controller, synth,
                                                                                 stop_signal):
    stage = Stage(tmp_path, "--polyphony", "--midimap", note_mapping(tmp_path), "--midiin", "controller",
                  "--midiout", "synth", *JACK, dimension=2)
    try:
        notes = [48 + (i * 5) % 36 for i in range(30)]
        controller.send_paced([[0x90, note, 100] for note in notes] + [[0x80, 60, 0], [0x90, 61, 0]], RATE)
        assert stage.wait_for_lines(30) == 30
        assert interface_lines(stage) == [[f32(note / 127)] for note in notes]  # note ends ignored
        on = [m for m in synth.wait_for(20) if m[0] == 0x91 and m[2] == 127]
        assert len(on) >= 10 and all(0 <= note <= 127 for _, note, _ in on)
        assert sounding_notes(synth.messages)  # playing: one note sounds now
    finally:
        assert stage.stop(stop_signal) == 0
    # IMPS has stopped: wait for its last note-offs to arrive, then no note it began is sounding.
    assert sounding_notes(synth.recorder.wait_until(lambda messages: not sounding_notes(messages), timeout=5)) == set()
    assert all(m[0] in (0x81, 0x91) for m in synth.messages)


@pytest.mark.slow
@needs_jack
def test_no_note_is_left_sounding_when_the_musician_interrupts_the_response(tmp_path, controller, synth):
    stage = Stage(tmp_path, "--call", "--callresponsethresh", "0.3", "--midimap", note_mapping(tmp_path),
                  "--midiin", "controller", "--midiout", "synth", *JACK, dimension=2)
    try:
        controller.send([0x90, 60, 100])
        synth.recorder.wait_until(lambda messages: sum(m[0] == 0x91 for m in messages) >= 3, timeout=20)
        assert sounding_notes(synth.messages)  # the response is playing
        controller.send([0x90, 62, 100])  # the musician plays again: the response is dropped
        assert stage.wait_for_output("the musician plays (call)")
        synth.recorder.wait_until(lambda messages: not sounding_notes(messages), timeout=5)
        assert sounding_notes(synth.messages) == set()
    finally:
        assert stage.stop() == 0


@pytest.mark.slow
@needs_jack
def test_messages_that_are_not_mapped_are_ignored_and_counted(tmp_path, controller):
    stage = Stage(tmp_path, "--only", "--midiin", "controller", *JACK)
    try:
        controller.send_paced([[0xF8], [0xF0, 0x7D, 0x10, 0xF7], [0xB3, 1, 64], [CC1, 1, 64], [0xF8]], RATE)
        assert stage.wait_for_lines(1) == 1
    finally:
        assert stage.stop() == 0
    assert "5 MIDI messages in" in stage.summary()
    assert "MIDI ignored (not mapped): 2 clock, 1 control_change (channel 4, CC 1), 1 sysex" in stage.summary()


@pytest.mark.slow
@needs_jack
def test_a_port_that_vanishes_is_said_once_osc_plays_on_and_it_reconnects(tmp_path, jack):
    first = VirtualMidiOut("controller")
    stage = Stage(tmp_path, "--only", "--midiin", "controller", *JACK, dimension=3)
    osc_sent = 0
    stop_osc = threading.Event()

    def play_osc():
        nonlocal osc_sent
        while not stop_osc.wait(0.01):
            stage.send(message("/interface", ("f", 0.25), ("f", 0.75)))
            osc_sent += 1

    player = threading.Thread(target=play_osc)
    player.start()
    try:
        first.send_paced([[CC1, 1, 10], [CC1, 2, 20]], RATE)
        first.close()
        assert stage.wait_for_output("has gone", timeout=5)
        second = VirtualMidiOut("controller")
        assert stage.wait_for_output("is back", timeout=5)
        second.send_paced([[CC1, 1, 30]], RATE)
        stop_osc.set()
        player.join()
        assert stage.wait_for_lines(osc_sent + 3) == osc_sent + 3
        second.close()
    finally:
        stop_osc.set()
        assert stage.stop() == 0
    assert sum("has gone" in line for line in stage.lines) == 1 and osc_sent > 10
    events = interface_lines(stage)
    assert events.count([0.25, 0.75]) == osc_sent  # every OSC event logged, the port gone or not
    assert any(event[0] == f32(30 / 127) for event in events)  # MIDI plays again once the port is back


TWO_BY_TWO = """[midi]
in_device = ["knobs", "pads"]
out_device = ["bass", "lead"]
input.knobs = [["control_change", 1, 1], ["control_change", 1, 2]]
input.pads = [["note_on", 10], ["control_change", 10, 5]]
output.bass = [["control_change", 2, 20], ["control_change", 2, 21]]
output.lead = [["note_on", 3], ["control_change", 3, 74]]
"""


@pytest.mark.slow
@needs_jack
def test_two_controllers_and_two_synths_each_with_controls_of_their_own(tmp_path, jack):
    knobs, pads = VirtualMidiOut("knobs"), VirtualMidiOut("pads")
    bass, lead = VirtualSynth("bass"), VirtualSynth("lead")
    mapping = tmp_path / "two-by-two.toml"
    mapping.write_text(TWO_BY_TWO)
    try:
        stage = Stage(tmp_path, "--polyphony", "--midimap", str(mapping), *JACK, dimension=3)
        try:
            # A pad's message from the knobs: not theirs, so ignored; the knobs' next message,
            # logged, comes after it on the same port, so it has been counted by then.
            knobs.send([0xB9, 5, 9])
            # One message at a time, each logged before the next: two ports have no order between them.
            for i, (port, data) in enumerate([(knobs, [CC1, 1, 127]), (pads, [0x99, 60, 100]),
                                              (pads, [0xB9, 5, 0]), (knobs, [CC1, 2, 127])]):
                port.send(data)
                assert stage.wait_for_lines(i + 1) == i + 1
            stage.wait_until(lambda: len(logged_lines(stage, "rnn")) >= 4, timeout=30)
            bass.wait_for(2)
            lead.wait_for(2)
        finally:
            assert stage.stop() == 0
        assert interface_lines(stage) == [[1.0, 0.5], [f32(60 / 127), 0.5], [f32(60 / 127), 0.0],
                                          [f32(60 / 127), 1.0]]
        assert all(m[0] == 0xB1 and m[1] in (20, 21) for m in bass.messages) and bass.messages
        assert all(m[0] in (0x92, 0x82) or m[:2] == [0xB2, 74] for m in lead.messages)
        assert any(m[0] == 0x92 for m in lead.messages) and sounding_notes(
            lead.recorder.wait_until(lambda messages: not sounding_notes(messages), timeout=5)) == set()
        assert ("MIDI in from 'knobs:out', MIDI in from 'pads:out', MIDI out to 'bass:in', MIDI out to 'lead:in'"
                in stage.output)
        summary = stage.summary()
        assert "3 MIDI messages in from 'knobs:out'" in summary, summary
        assert "2 MIDI messages in from 'pads:out'" in summary
        assert "MIDI ignored from 'knobs:out' (not mapped): 1 control_change (channel 10, CC 5)" in summary
    finally:
        for port in (knobs, pads, bass, lead):
            port.close()


@pytest.mark.slow
@needs_jack
def test_midiin_and_midiout_given_twice_share_the_mapping_without_a_file(tmp_path, jack):
    knobs, pads = VirtualMidiOut("knobs"), VirtualMidiOut("pads")
    bass, lead = VirtualSynth("bass"), VirtualSynth("lead")
    try:
        stage = Stage(tmp_path, "--polyphony", "--midiin", "knobs", "--midiin", "pads", "--midiout", "bass",
                      "--midiout", "lead", *JACK, dimension=3)
        try:
            knobs.send([CC1, 1, 127])
            assert stage.wait_for_lines(1) == 1
            pads.send([CC1, 2, 0])
            assert stage.wait_for_lines(2) == 2
            bass.wait_for(2)
            lead.wait_for(2)
        finally:
            assert stage.stop() == 0
        assert interface_lines(stage) == [[1.0, 0.5], [1.0, 0.0]]
        # Each synth is sent every prediction on the same controls: CC 1 and 2 on channel 1.
        for synth in (bass, lead):
            assert synth.messages and all(m[0] == CC1 and m[1] in (1, 2) for m in synth.messages)
    finally:
        for port in (knobs, pads, bass, lead):
            port.close()


@pytest.mark.slow
@needs_jack
def test_a_port_name_that_matches_nothing_lists_the_ports_and_exits_2(tmp_path, controller, synth):
    result = run_script(SERVER, "--only", "--log", "--midiin", "X-TOUCH", *JACK, cwd=tmp_path)
    assert result.returncode == 2 and not (tmp_path / "logs").exists()
    line = one_error_line(result)
    assert "no MIDI input port has 'X-TOUCH' in its name" in line and "'controller:out'" in line
    assert "--midiin" in line


@pytest.mark.slow
@needs_jack
def test_midilist_prints_each_port_on_a_line(tmp_path, jack):
    result = run_script(SERVER, "--midilist", *JACK, cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == "" and result.stdout == "no MIDI ports found\n"
    controller, synth = VirtualMidiOut("controller"), VirtualSynth()
    try:
        result = run_script(SERVER, "--midilist", *JACK, cwd=tmp_path)
    finally:
        controller.close()
        synth.close()
    assert result.returncode == 0 and result.stderr == ""
    assert "in: controller:out" in result.stdout.splitlines() and "out: synth:in" in result.stdout.splitlines()


@pytest.mark.slow
@needs_jack
def test_without_a_midi_server_one_line_says_so_and_no_library_noise(tmp_path, monkeypatch):
    monkeypatch.setenv("JACK_DEFAULT_SERVER", f"imps-test-nowhere-{tmp_path.name}")
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    for flags in (["--midilist"], ["--only", "--midiin", "anything"]):
        result = run_script(SERVER, *flags, *JACK, cwd=tmp_path)
        assert result.returncode == 1
        line = one_error_line(result)
        assert "no MIDI system answers through jack" in line and "start the JACK server" in line


@pytest.mark.parametrize("flags, said", [
    (["-d", "9", "--midiin", "x", "--midicc", "1,2"], "2 controller numbers were given for 8 controls"),
    (["-d", "3", "--midiin", "x", "--midichannel", "17"], "channel 17; channels are 1-16"),
    (["-d", "3", "--midiin", "x", "--midichannel", "0"], "channel 0; channels are 1-16"),
    (["-d", "3", "--midiin", "x", "--midicc", "1,127"], "controller 127; controls are CC 0-119"),
    (["-d", "4", "--midimap", str(ROOT / "examples" / "x-touch-mini.toml")], "input has 8 entries for 3 controls"),
    (["-d", "9", "--midimap", str(IMPSY / "roland-s-1-quneo.toml")],
     'thru_matrix."QuNeo" = ["S-1"] sends a device\'s messages straight on to outputs (MIDI thru)'),
])
def test_a_mapping_that_cannot_be_used_is_one_line_before_any_midi_is_opened(tmp_path, flags, said):
    result = run_script(SERVER, *flags, cwd=tmp_path)
    assert result.returncode == 1
    assert said in one_error_line(result)


@pytest.mark.parametrize("flags, said", [
    (["--midicc", "1,2"], "the MIDI flags need a port"),
    (["--midiin", "x", "--midicc", "one,two"], "controller numbers are whole numbers"),
    (["--midiin", "x", "--midimap", "m.toml", "--midichannel", "2"], "with --midimap, the file says"),
    (["--midiin", "x", "--midiin", "x"], "--midiin names 'x' twice; each port is opened once"),
    (["-d", "9", "--midimap", str(IMPSY / "roland-s-1-xtouch.toml"), "--midiout", "synth"],
     "--midiout names 1 port for the mapping's 2 devices ('S-1', 'X-TOUCH'); give it once per device"),
])
def test_midi_flags_that_do_not_fit_together_are_one_line_and_exit_2(tmp_path, flags, said):
    result = run_script(SERVER, *flags, cwd=tmp_path)
    assert result.returncode == 2
    assert said in one_error_line(result)


def test_help_explains_every_midi_flag(tmp_path):
    result = run_script(SERVER, "--help", cwd=tmp_path)
    text = " ".join(result.stdout.split())
    for flag, says in {"--midilist": "print the MIDI input and output ports",
                       "--midiin": "first MIDI input port whose name contains",
                       "--midiout": "first MIDI output port whose name contains",
                       "--midiapi": "alsa (Linux's own) or jack",
                       "--midichannel": "the channel of the control changes",
                       "--midicc": "the control change numbers, one per control",
                       "--midimap": "[midi] table of an IMPSY configuration file",
                       "--midifeedback": "ignore an incoming value equal to one IMPS sent",
                       "--mididin": "a DIN cable"}.items():
        assert flag in text and says in text, flag


def test_osc_users_need_no_midi_library_and_a_missing_one_is_named(tmp_path, monkeypatch):
    # A folder on PYTHONPATH whose mido and rtmidi cannot be imported, as on a machine without them.
    hidden = tmp_path / "no-midi"
    hidden.mkdir()
    for name in ("mido", "rtmidi"):
        (hidden / f"{name}.py").write_text(f"raise ImportError('No module named {name}')\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(hidden), os.environ.get("PYTHONPATH")])))
    port = str(free_udp_port())
    server = ServerProcess("--only", "--serverip", "127.0.0.1", "--serverport", port, cwd=tmp_path)
    assert server.wait_ready(), server.output
    assert server.stop() == 0
    result = run_script(SERVER, "--only", "--midiin", "x", cwd=tmp_path)
    assert result.returncode == 1
    line = one_error_line(result)
    assert "the MIDI libraries cannot be loaded" in line and "install mido and python-rtmidi" in line
