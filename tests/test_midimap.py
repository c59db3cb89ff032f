"""imps/perform/midimap.py: the mapping from flags and from IMPSY's [midi] table, values to
MIDI data and back, and one line naming whatever entry cannot be used."""

from __future__ import annotations

import tomllib

import pytest

from conftest import ROOT
from imps.core.errors import MidiMappingError
from imps.perform.midimap import (CONTROL_CHANGE, NOTE_ON, PITCH_BEND, PITCH_BEND_MAX, Control, DeviceControls,
                                  PortControls, default_mapping, port_controls, read_mapping)

EXAMPLES = ROOT / "examples"


def write(tmp_path, text: str):
    path = tmp_path / "mapping.toml"
    path.write_text(text)
    return path


def test_by_default_dimension_d_takes_cc_1_to_d_minus_1_on_channel_1_in_and_out():
    mapping = default_mapping(8)
    knobs = tuple(Control(CONTROL_CHANGE, 1, cc) for cc in range(1, 9))
    assert mapping.inputs == mapping.outputs == (DeviceControls(None, knobs),) and not mapping.feedback_protection


def test_channel_and_numbers_can_be_given_without_a_file():
    mapping = default_mapping(3, channel=5, controllers=[20, 21, 7])
    assert mapping.inputs[0].controls == tuple(Control(CONTROL_CHANGE, 5, cc) for cc in (20, 21, 7))


def test_values_are_data_over_127_and_go_back_to_the_nearest_step():
    control = Control(CONTROL_CHANGE, 1, 1)
    assert [control.value(d) for d in (0, 64, 127)] == [0.0, 64 / 127, 1.0]
    assert all(control.data(control.value(d)) == d for d in range(128))
    assert [control.data(v) for v in (0.0, 0.003, 0.004, 0.5, 1.0)] == [0, 0, 1, 64, 127]


def test_a_range_maps_its_low_and_high_data_to_0_and_1():
    ring = Control(CONTROL_CHANGE, 1, 9, 1, 13)
    assert (ring.data(0.0), ring.data(0.5), ring.data(1.0)) == (1, 7, 13)
    assert ring.value(13) == 1.0 and ring.value(0) < 0  # outside the range: outside 0-1, as the server then says


def test_the_x_touch_example_knobs_in_on_channel_11_rings_out_on_cc_9_to_16():
    mapping = read_mapping(EXAMPLES / "x-touch-mini.toml", 8)
    knobs = tuple(Control(CONTROL_CHANGE, 11, cc) for cc in range(1, 9))
    assert mapping.inputs == (DeviceControls("X-TOUCH MINI", knobs),)
    assert mapping.outputs == (DeviceControls("X-TOUCH MINI",
                                              tuple(Control(CONTROL_CHANGE, 1, cc, 1, 13) for cc in range(9, 17))),)


def test_the_eight_fader_example_reads():
    mapping = read_mapping(EXAMPLES / "eight-faders.toml", 8)
    assert mapping.inputs == (DeviceControls(None, tuple(Control(CONTROL_CHANGE, 1, cc) for cc in range(1, 9))),)
    assert mapping.outputs == (DeviceControls(None, tuple(Control(CONTROL_CHANGE, 2, cc) for cc in range(1, 9))),)


def test_impsy_forms_one_device_in_a_list_entries_per_device_feedback_protection(tmp_path):
    path = write(tmp_path, """
title = "other tables are IMPSY's own and left alone"
[model]
dimension = 3
[midi]
in_device = ["S-1"]
feedback_protection = true
input = [["note_on", 3], ["control_change", 3, 74]]
output."X-TOUCH" = [["control_change", 1, 9, 0, 13], ["note_on", 16]]
""")
    mapping = read_mapping(path, 2)
    assert mapping.feedback_protection
    assert mapping.inputs == (DeviceControls("S-1", (Control(NOTE_ON, 3), Control(CONTROL_CHANGE, 3, 74))),)
    assert mapping.outputs == (DeviceControls("X-TOUCH", (Control(CONTROL_CHANGE, 1, 9, 0, 13), Control(NOTE_ON, 16))),)


def test_a_pitch_bend_is_its_14_bits_with_the_middle_at_half(tmp_path):
    path = write(tmp_path, '[midi]\ninput = [["pitch_bend", 3]]\noutput = [["pitch_bend", 4]]\n')
    mapping = read_mapping(path, 1)
    bend = mapping.inputs[0].controls[0]
    assert bend == Control(PITCH_BEND, 3, high=PITCH_BEND_MAX) and str(bend) == '["pitch_bend", 3]'
    assert (bend.value(0), bend.value(PITCH_BEND_MAX)) == (0.0, 1.0) and bend.data(0.5) == 8192


@pytest.mark.parametrize("entry, said", [
    ('["program_change", 3]', "is a program_change entry; IMPS maps control_change, note_on and pitch_bend"),
    ('["control_change", 17, 1]', "channel 17; channels are 1-16"),
    ('["control_change", 0, 1]', "channel 0; channels are 1-16"),
    ('["control_change", 1, 120]', "controller 120; controls are CC 0-119"),
    ('["control_change", 1]', '["control_change", CHANNEL, CC]'),
    ('["note_on", 1, 60]', '["note_on", CHANNEL]'),
    ('["pitch_bend", 1, 0]', '["pitch_bend", CHANNEL]'),
    ('["control_change", 1, 1.5]', "whole numbers"),
    ('["control_change", 1, 1, 5, 5]', "no width"),
    ('"cc1"', "is not an entry"),
])
def test_an_entry_that_cannot_be_used_is_named_in_one_line(tmp_path, entry, said):
    path = write(tmp_path, f'[midi]\ninput = [["control_change", 1, 1], {entry}]\n'
                           'output = [["control_change", 1, 1], ["control_change", 1, 2]]\n')
    with pytest.raises(MidiMappingError) as raised:
        read_mapping(path, 2)
    message = str(raised.value)
    assert "\n" not in message and "input entry 2" in message and f"{entry} " in message and said in message, message
    assert not raised.value.count


def test_a_count_of_entries_that_does_not_fit_the_dimension_says_so(tmp_path):
    path = write(tmp_path, '[midi]\ninput = [["control_change", 1, 1]]\noutput = [["control_change", 1, 1]]\n')
    with pytest.raises(MidiMappingError) as raised:
        read_mapping(path, 8)
    assert "input has 1 entries for 8 controls" in str(raised.value) and raised.value.count
    with pytest.raises(MidiMappingError) as raised:
        default_mapping(3, controllers=[1, 2])
    assert "2 controller numbers were given for 3 controls" in str(raised.value) and raised.value.count


@pytest.mark.parametrize("text, said", [
    ("[interaction]\nmode = 'callresponse'\n", "has no [midi] table"),
    ("[midi\n", "is not a TOML file"),
    ("[midi]\noutput = []\n", "has no input list"),
    ('[midi]\ninput = [["control_change", 1, 1], ["control_change", 1, 1]]\n'
     'output = [["control_change", 1, 1], ["control_change", 1, 2]]\n', "is mapped twice"),
])
def test_a_file_that_is_not_a_mapping_says_why(tmp_path, text, said):
    with pytest.raises(MidiMappingError) as raised:
        read_mapping(write(tmp_path, text), 2)
    assert said in str(raised.value)


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(MidiMappingError, match="cannot read"):
        read_mapping(tmp_path / "nowhere.toml", 2)


# IMPSY's published example configurations (tests/fixtures/impsy, see its README), each
# read at its own [model] dimension: what loads, as (device, first entry) each way, or
# the one line that refuses it.
IMPSY = ROOT / "tests" / "fixtures" / "impsy"
IMPSY_EXAMPLES = {
    "config.toml": "{path}: output has 9 entries for 8 controls",
    "configs/AiC-alec-u2midipro.toml": ([("U2MIDI Pro", '["note_on", 1]')], [("U2MIDI Pro", '["note_on", 1]')]),
    "configs/AiC-charles-u6midipro.toml": ([("U6MIDI Pro MIDI 1", '["control_change", 1, 13]')],
                                           [("U6MIDI Pro MIDI 1", '["note_on", 1]')]),
    "configs/andromeda-ableton.toml": ([("Studio 24c", '["note_on", 1]')], [("Studio 24c", '["note_on", 1]')]),
    "configs/arturia-minilab3-analogV.toml": ([("Minilab3 MIDI", '["note_on", 1]')],
                                              [("IAC Driver Bus 1", '["note_on", 1]')]),
    "configs/default.toml": ([("X-TOUCH", '["control_change", 11, 1]')], [("Studio 1824c", '["note_on", 1]')]),
    "configs/microfreak.toml": ([("MicroFreak", '["note_on", 1]')], [("MicroFreak", '["note_on", 1]')]),
    "configs/op1-volca-fm.toml": 'input in {path}: ["note_on", 1] is mapped twice; each input control needs its '
                                 'own message',
    "configs/pd-workshop-example.toml": "{path} has no [midi] table",
    "configs/roland-p-6.toml": ([("P-6", '["note_on", 4]')], [("P-6", '["note_on", 4]')]),
    "configs/roland-s-1-quneo.toml": '{path}: thru_matrix."QuNeo" = ["S-1"] sends a device\'s messages straight on '
                                     'to outputs (MIDI thru); IMPS sends its outputs only predictions',
    "configs/roland-s-1-xtouch.toml": ([("S-1", '["note_on", 3]'), ("X-TOUCH", '["control_change", 11, 1]')],
                                       [("S-1", '["note_on", 3]'), ("X-TOUCH", '["control_change", 1, 9, 0, 13]')]),
    "configs/roland-s-1.toml": ([("S-1", '["control_change", 3, 13]')], [("S-1", '["note_on", 3]')]),
    "configs/serial-example.toml": "{path} has no [midi] table",
    "configs/user-only-example.toml": "{path} has no [midi] table",
    "configs/xtouch-to-volca-fm.toml": ([("X-TOUCH", '["control_change", 11, 1]')],
                                        [("Studio 1824c", '["note_on", 1]')]),
    "configs/xtouch-to-volca-keys.toml": ([("X-TOUCH", '["control_change", 11, 1]')],
                                          [("Studio 1824c", '["note_on", 1]')]),
    "impsy/data/default.toml": ([("X-TOUCH", '["control_change", 11, 1]')], [("Studio 1824c", '["note_on", 1]')]),
}


def test_every_published_impsy_example_is_listed():
    assert sorted(str(p.relative_to(IMPSY)) for p in IMPSY.rglob("*.toml")) == sorted(IMPSY_EXAMPLES)


@pytest.mark.parametrize("name", sorted(IMPSY_EXAMPLES))
def test_each_published_impsy_example_loads_or_is_refused_in_one_line(name):
    path = IMPSY / name
    n_values = tomllib.loads(path.read_text())["model"]["dimension"] - 1
    expected = IMPSY_EXAMPLES[name]
    if isinstance(expected, str):
        with pytest.raises(MidiMappingError) as raised:
            read_mapping(path, n_values)
        assert str(raised.value) == expected.format(path=path)
        return
    mapping = read_mapping(path, n_values)
    for devices, want in zip((mapping.inputs, mapping.outputs), expected):
        assert [(d.device, str(d.controls[0])) for d in devices] == want
        assert all(len(d.controls) == n_values for d in devices)


def test_several_devices_each_carry_their_own_controls_in_the_device_list_order():
    mapping = read_mapping(IMPSY / "configs" / "roland-s-1-xtouch.toml", 8)
    s1, xtouch = mapping.inputs
    assert s1.controls[:2] == (Control(NOTE_ON, 3), Control(CONTROL_CHANGE, 3, 19))
    assert xtouch.controls == tuple(Control(CONTROL_CHANGE, 11, cc) for cc in range(1, 9))
    assert mapping.outputs[1].controls == tuple(Control(CONTROL_CHANGE, 1, cc, 0, 13) for cc in range(9, 17))
    assert mapping.feedback_protection


def test_one_list_of_entries_with_several_devices_is_each_ones(tmp_path):
    mapping = read_mapping(write(tmp_path, '[midi]\nin_device = ["A", "B"]\ninput = [["control_change", 1, 1]]\n'
                                           'output = [["note_on", 2]]\n'), 1)
    assert mapping.inputs == (DeviceControls("A", (Control(CONTROL_CHANGE, 1, 1),)),
                              DeviceControls("B", (Control(CONTROL_CHANGE, 1, 1),)))
    assert mapping.outputs == (DeviceControls(None, (Control(NOTE_ON, 2),)),)


TWO = '[midi]\nin_device = ["A", "B"]\ninput.A = [["control_change", 1, 1]]\ninput.B = [["control_change", 2, 1]]\n'


@pytest.mark.parametrize("text, said", [
    (TWO + 'out_device = ["A"]\noutput.A = [["note_on", 1]]\noutput.C = [["note_on", 2]]\n',
     'output."C" has entries for a device out_device does not name (out_device = ["A"])'),
    ('[midi]\nin_device = ["A", "B"]\ninput.A = [["control_change", 1, 1]]\noutput = [["note_on", 1]]\n',
     'in_device names \'B\', and input has no entries for it (input."B" = [...])'),
    ('[midi]\nin_device = ["A", "A"]\ninput = [["control_change", 1, 1]]\noutput = [["note_on", 1]]\n',
     "in_device names 'A' twice"),
    ('[midi]\nin_device = ["A", 3]\ninput = [["control_change", 1, 1]]\noutput = [["note_on", 1]]\n',
     "in_device should be a port name, not 3"),
    ('[midi]\ninput = {}\noutput = [["note_on", 1]]\n', "input has entries for no device"),
    (TWO.replace('input.B = [["control_change", 2, 1]]', 'input.B = [["program_change", 2]]') +
     'output = [["note_on", 1]]\n', 'input."B" entry 1 in {path}: ["program_change", 2] is a program_change entry'),
    (TWO.replace('input.B = [["control_change", 2, 1]]', 'input.B = [["control_change", 2, 1], ["note_on", 1]]') +
     'output = [["note_on", 1]]\n', 'input."B" has 2 entries for 1 controls'),
])
def test_several_devices_that_cannot_be_used_name_the_entry_in_one_line(tmp_path, text, said):
    path = write(tmp_path, text)
    with pytest.raises(MidiMappingError) as raised:
        read_mapping(path, 1)
    assert said.format(path=path) in str(raised.value) and "\n" not in str(raised.value)


def test_a_control_mapped_twice_on_one_of_several_devices_names_the_device(tmp_path):
    path = write(tmp_path, '[midi]\nin_device = ["A", "B"]\ninput.A = [["note_on", 1], ["note_on", 2]]\n'
                           'input.B = [["note_on", 1], ["note_on", 1]]\noutput = [["note_on", 1], ["note_on", 2]]\n')
    with pytest.raises(MidiMappingError) as raised:
        read_mapping(path, 2)
    assert str(raised.value) == (f'input."B" in {path}: ["note_on", 1] is mapped twice; each input control needs its '
                                 'own message')


def test_ports_come_from_the_file_or_from_the_flags_one_per_device():
    one, two = (Control(CONTROL_CHANGE, 1, 1),), (Control(CONTROL_CHANGE, 2, 1),)
    single, several = (DeviceControls(None, one),), (DeviceControls("A", one), DeviceControls("B", two))
    assert port_controls(single, [], "--midiin") == ()
    assert port_controls(single, ["x", "y"], "--midiin") == (PortControls("x", one), PortControls("y", one))
    assert port_controls(several, [], "--midiin") == (PortControls("A", one), PortControls("B", two))
    assert port_controls(several, ["x", "y"], "--midiin") == (PortControls("x", one), PortControls("y", two))
    with pytest.raises(MidiMappingError) as raised:
        port_controls(several, ["x"], "--midiout")
    assert str(raised.value) == ("--midiout names 1 port for the mapping's 2 devices ('A', 'B'); give it once per "
                                 "device, in that order, or not at all")
    with pytest.raises(MidiMappingError, match="--midiin names 'x' twice; each port is opened once"):
        port_controls(single, ["x", "x"], "--midiin")
