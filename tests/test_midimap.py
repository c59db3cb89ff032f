"""imps/perform/midimap.py: the mapping from flags and from IMPSY's [midi] table, values to
MIDI data and back, and one line naming whatever entry cannot be used."""

from __future__ import annotations

import pytest

from conftest import ROOT
from imps.core.errors import MidiMappingError
from imps.perform.midimap import (CONTROL_CHANGE, NOTE_ON, PITCH_BEND, PITCH_BEND_MAX, Control, default_mapping,
                                  read_mapping)

EXAMPLES = ROOT / "examples"


def write(tmp_path, text: str):
    path = tmp_path / "mapping.toml"
    path.write_text(text)
    return path


def test_by_default_dimension_d_takes_cc_1_to_d_minus_1_on_channel_1_in_and_out():
    mapping = default_mapping(8)
    assert mapping.inputs == mapping.outputs == tuple(Control(CONTROL_CHANGE, 1, cc) for cc in range(1, 9))
    assert mapping.in_device is None and mapping.out_device is None and not mapping.feedback_protection


def test_channel_and_numbers_can_be_given_without_a_file():
    mapping = default_mapping(3, channel=5, controllers=[20, 21, 7])
    assert mapping.inputs == tuple(Control(CONTROL_CHANGE, 5, cc) for cc in (20, 21, 7))


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
    assert mapping.inputs == tuple(Control(CONTROL_CHANGE, 11, cc) for cc in range(1, 9))
    assert mapping.outputs == tuple(Control(CONTROL_CHANGE, 1, cc, 1, 13) for cc in range(9, 17))
    assert mapping.in_device == mapping.out_device == "X-TOUCH MINI"


def test_the_eight_fader_example_reads():
    mapping = read_mapping(EXAMPLES / "eight-faders.toml", 8)
    assert mapping.inputs == tuple(Control(CONTROL_CHANGE, 1, cc) for cc in range(1, 9))
    assert mapping.outputs == tuple(Control(CONTROL_CHANGE, 2, cc) for cc in range(1, 9))
    assert mapping.in_device is None


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
    assert mapping.in_device == "S-1" and mapping.out_device == "X-TOUCH" and mapping.feedback_protection
    assert mapping.inputs == (Control(NOTE_ON, 3), Control(CONTROL_CHANGE, 3, 74))
    assert mapping.outputs == (Control(CONTROL_CHANGE, 1, 9, 0, 13), Control(NOTE_ON, 16))


def test_a_pitch_bend_is_its_14_bits_with_the_middle_at_half(tmp_path):
    path = write(tmp_path, '[midi]\ninput = [["pitch_bend", 3]]\noutput = [["pitch_bend", 4]]\n')
    mapping = read_mapping(path, 1)
    bend = mapping.inputs[0]
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
    ('[midi]\nin_device = ["A", "B"]\ninput = []\noutput = []\n', "names 2 devices"),
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
