"""imps/perform/midi.py through a real JACK server: virtual controller and synth ports of the
test's own, IMPS's MidiLink between them, real MIDI bytes both ways."""

from __future__ import annotations

import time

import pytest

from conftest import Recorder, VirtualSynth, sounding_notes
from imps.core.errors import MidiPortNotFound
from imps.core.notices import words
from imps.perform.config import MidiConfig
from imps.perform.midimap import (CONTROL_CHANGE, NOTE_ON, PITCH_BEND, PITCH_BEND_MAX, Control, DeviceControls,
                                  MidiMapping, PortControls, default_mapping, port_controls)
from harness import VirtualMidiOut

pytestmark = [pytest.mark.peers("jackd", "jack_wait"), pytest.mark.slow]  # each test starts a JACK server

CC = 0xB0


def link(mapping: MidiMapping, in_port: str | None = "controller", out_port: str | None = "synth",
         **settings):
    """A started MidiLink whose controls, and notices as the musician reads them, are recorded."""
    from imps.perform.midi import MidiLink

    controls, reports = Recorder(), Recorder(whole_call=False)
    config = MidiConfig(port_controls(mapping.inputs, [in_port] if in_port else [], "--midiin"),
                        port_controls(mapping.outputs, [out_port] if out_port else [], "--midiout"), "jack", **settings)
    midi = MidiLink(config, controls, lambda notice: reports(words(notice)))
    midi.start()
    return midi, controls, reports


def both_ways(controls: tuple[Control, ...]) -> MidiMapping:
    """The same controls in and out, on ports the test names."""
    return MidiMapping((DeviceControls(None, controls),), (DeviceControls(None, controls),))


def test_the_ports_are_listed_by_name(controller, synth):
    from imps.perform.midi import list_ports

    inputs, outputs = list_ports("jack")
    assert "controller:out" in inputs and "synth:in" in outputs


def test_a_port_name_that_matches_nothing_names_the_ports_there_are(controller):
    from imps.perform.midi import MidiLink

    with pytest.raises(MidiPortNotFound) as raised:
        MidiLink(MidiConfig((PortControls("X-TOUCH", default_mapping(2).inputs[0].controls),), (), "jack"), print)
    assert raised.value.direction == "input" and "controller:out" in raised.value.ports
    assert "'X-TOUCH'" in str(raised.value) and "controller:out" in str(raised.value)


def test_mapped_control_changes_become_controls_and_the_rest_is_counted(controller):
    midi, controls, _ = link(default_mapping(3, channel=2), out_port=None)
    try:
        controller.send_paced([[CC | 1, 1, 0], [CC | 1, 3, 127], [CC | 1, 2, 64],
                               [0xF8], [0xF0, 0x7D, 0x01, 0xF7], [CC | 0, 1, 5], [CC | 1, 9, 5], [0x91, 60, 100]],
                              rate=200)
        assert controls.wait_for(3) == [(0, 0.0), (2, 1.0), (1, 64 / 127)]
        deadline = time.monotonic() + 5
        while midi.inputs[0].received < 8 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert midi.inputs[0].received == 8
        assert midi.inputs[0].ignored == {"clock": 1, "sysex": 1, "control_change (channel 1, CC 1)": 1,
                                "control_change (channel 2, CC 9)": 1, "note_on (channel 2)": 1}
        assert controls.items == [(0, 0.0), (2, 1.0), (1, 64 / 127)]
    finally:
        midi.close()


def test_a_note_on_input_is_its_note_number_and_note_ends_are_ignored(controller):
    midi, controls, _ = link(both_ways((Control(NOTE_ON, 1),)), out_port=None)
    try:
        controller.send_paced([[0x90, 60, 100], [0x80, 60, 0], [0x90, 72, 0], [0x90, 127, 1]], rate=200)
        assert controls.wait_for(2) == [(0, 60 / 127), (0, 1.0)]
        deadline = time.monotonic() + 5
        while midi.inputs[0].received < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert midi.inputs[0].ignored == {"note end": 2} and len(controls.items) == 2
    finally:
        midi.close()


def test_a_pitch_bend_goes_in_and_out_as_14_bits(controller, synth):
    bends = (Control(PITCH_BEND, 1, high=PITCH_BEND_MAX), Control(PITCH_BEND, 2, high=PITCH_BEND_MAX))
    midi, controls, _ = link(both_ways(bends))
    try:
        controller.send_paced([[0xE0, 0, 64], [0xE1, 0x7F, 0x7F], [0xE0, 0, 0]], rate=200)
        assert controls.wait_for(3) == [(0, 8192 / PITCH_BEND_MAX), (1, 1.0), (0, 0.0)]
        midi.send([0.5, 1.0])
        midi.send([0.5, 0.0])  # the first has not changed: not sent again
        assert synth.wait_for(3) == [[0xE0, 0, 64], [0xE1, 0x7F, 0x7F], [0xE1, 0, 0]]
    finally:
        midi.close()


def test_a_note_output_ends_the_previous_note_and_none_is_left_sounding(synth):
    notes = (Control(NOTE_ON, 3), Control(NOTE_ON, 4))
    midi, _, _ = link(both_ways(notes), in_port=None)
    midi.send([0.5, 0.0])
    midi.send([1.0, 0.0])
    midi.end_notes()
    midi.send([0.25, 0.25])
    midi.close()
    received = synth.wait_for(12)
    assert received == [[0x92, 64, 127], [0x93, 0, 127],  # the first prediction
                        [0x82, 64, 0], [0x92, 127, 127], [0x83, 0, 0], [0x93, 0, 127],  # each note ends the one before
                        [0x82, 127, 0], [0x83, 0, 0],  # end_notes
                        [0x92, 32, 127], [0x93, 32, 127],
                        [0x82, 32, 0], [0x83, 32, 0]]  # closing ends what still sounds
    assert sounding_notes(received) == set()


def test_feedback_protection_ignores_the_echo_of_what_was_just_sent(jack, synth):
    # A motorised controller: IMPS sends to it and it sends the same value back.
    echoing = VirtualMidiOut("faders")
    controls_mapping = default_mapping(2)
    midi, controls, _ = link(controls_mapping, in_port="faders", out_port="synth", feedback_protection=True)
    try:
        midi.send([0.5, 0.25])  # CC 1 = 64, CC 2 = 32
        synth.wait_for(2)
        echoing.send_paced([[CC, 1, 64], [CC, 2, 32], [CC, 1, 100]], rate=200)
        assert controls.wait_for(1) == [(0, 100 / 127)]
        deadline = time.monotonic() + 5
        while midi.inputs[0].received < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert midi.inputs[0].echoes_ignored == 2 and len(controls.items) == 1
    finally:
        midi.close()
        echoing.close()


def test_a_din_output_never_sends_faster_than_the_cable_carries(synth):
    from imps.perform.midi import DIN_BYTES_PER_SECOND

    midi, _, _ = link(default_mapping(8), in_port=None, din=True)
    try:
        began = time.monotonic()
        for i in range(2000):
            midi.send([(i % 2) * 0.5 + 0.1 * (k % 2) for k in range(8)])  # every control changes every time
        elapsed = time.monotonic() - began
        sent = 2000 - midi.outputs[0].thinned
        assert midi.outputs[0].thinned > 0
        # each send is 8 control changes of 3 bytes; one send may start the moment the cable is free
        assert (sent - 1) * 24 <= DIN_BYTES_PER_SECOND * elapsed
        assert synth.wait_for(sent * 8, timeout=10) and len(synth.messages) == sent * 8
    finally:
        midi.close()


def test_a_vanished_port_is_said_once_and_reconnected_when_it_is_back(jack):
    first = VirtualMidiOut("controller")
    midi, controls, reports = link(default_mapping(2), out_port=None)
    try:
        first.send_paced([[CC, 1, 10]], rate=100)
        assert controls.wait_for(1) == [(0, 10 / 127)]
        first.close()
        gone = reports.wait_until(lambda lines: any("has gone" in line for line in lines), timeout=5)
        assert sum("has gone" in line for line in gone) == 1
        second = VirtualMidiOut("controller")
        back = reports.wait_until(lambda lines: any("is back" in line for line in lines), timeout=5)
        assert any("'controller:out' is back" in line for line in back), back
        second.send_paced([[CC, 2, 20]], rate=100)
        assert controls.wait_for(2) == [(0, 10 / 127), (1, 20 / 127)]
        assert sum("has gone" in line for line in reports.items) == 1
        second.close()
    finally:
        midi.close()


def cc(channel: int, number: int, low: int = 0, high: int = 127) -> Control:
    return Control(CONTROL_CHANGE, channel, number, low, high)


def test_each_port_sets_its_own_controls_and_each_output_is_sent_its_own(jack):
    """Two controllers and two synths, each with controls of its own (as an IMPSY file's
    per-device tables give them), through one MidiLink."""
    from imps.perform.midi import MidiLink

    knobs, pads = VirtualMidiOut("knobs"), VirtualMidiOut("pads")
    bass, lead = VirtualSynth("bass"), VirtualSynth("lead")
    config = MidiConfig((PortControls("knobs", (cc(1, 1), cc(1, 2))),
                         PortControls("pads", (Control(NOTE_ON, 10), cc(10, 5)))),
                        (PortControls("bass", (cc(2, 20), cc(2, 21))),
                         PortControls("lead", (Control(NOTE_ON, 3), Control(PITCH_BEND, 3, high=PITCH_BEND_MAX)))),
                        "jack")
    controls = Recorder()
    midi = MidiLink(config, controls)
    midi.start()
    try:
        knobs.send_paced([[CC, 1, 100], [CC | 9, 5, 1]], rate=200)  # the second is a pad's message: not the knobs'
        pads.send_paced([[0x99, 60, 90], [CC | 9, 5, 127], [CC, 1, 3]], rate=200)  # the last is a knob's: not a pad's
        assert sorted(controls.wait_for(3)) == sorted([(0, 100 / 127), (0, 60 / 127), (1, 1.0)])
        midi.send([0.5, 1.0])
        assert bass.wait_for(2) == [[0xB1, 20, 64], [0xB1, 21, 127]]
        assert lead.wait_for(2) == [[0x92, 64, 127], [0xE2, 0x7F, 0x7F]]
        deadline = time.monotonic() + 5
        while sum(source.received for source in midi.inputs) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert midi.describe() == ("MIDI in from 'knobs:out', MIDI in from 'pads:out', MIDI out to 'bass:in', "
                                   "MIDI out to 'lead:in'")
        assert midi.summary_parts() == [
            "2 MIDI messages in from 'knobs:out'",
            "MIDI ignored from 'knobs:out' (not mapped): 1 control_change (channel 10, CC 5)",
            "3 MIDI messages in from 'pads:out'",
            "MIDI ignored from 'pads:out' (not mapped): 1 control_change (channel 1, CC 1)"]
    finally:
        midi.close()
        for port in (knobs, pads, bass, lead):
            port.close()
    assert sounding_notes(lead.messages) == set() and len(bass.messages) == 2  # closing ends the lead's note


def test_an_echo_is_looked_for_in_what_the_same_devices_output_was_sent(jack):
    """Feedback protection with two devices named both ways: a device's message is an echo
    only of what its own output was sent, so the other device's move is never swallowed."""
    from imps.perform.midi import MidiLink

    s1, s1_leds, k, k_leds = VirtualMidiOut("s1"), VirtualSynth("s1-leds"), VirtualMidiOut("k"), VirtualSynth("k-leds")
    config = MidiConfig((PortControls("s1", (cc(1, 1),)), PortControls("k", (cc(1, 1),))),
                        (PortControls("s1", (cc(1, 1),)), PortControls("k", (cc(1, 2),))), "jack",
                        feedback_protection=True, feedback_window=2.0)  # wide: k's move lands inside it
    controls = Recorder()
    midi = MidiLink(config, controls)
    midi.start()
    try:
        midi.send([0.5])  # CC 1 = 64 to s1, CC 2 = 64 to k
        s1_leds.wait_for(1)
        k_leds.wait_for(1)
        s1.send_paced([[CC, 1, 64]], rate=200)  # s1 echoing what it was sent
        k.send_paced([[CC, 1, 64]], rate=200)  # the musician on k, landing on the same value
        assert controls.wait_for(1) == [(0, 64 / 127)]
        deadline = time.monotonic() + 5
        while sum(source.received for source in midi.inputs) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [source.echoes_ignored for source in midi.inputs] == [1, 0] and len(controls.items) == 1
        assert "1 MIDI echoes of IMPS's own output ignored from 's1:out'" in midi.summary_parts()
    finally:
        midi.close()
        for port in (s1, s1_leds, k, k_leds):
            port.close()
