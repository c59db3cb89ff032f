"""imps/perform/midicodec.py: MIDI's bytes for a control's data and back, and the messages
that play a prediction, without ports (tests/test_midi.py sends them through JACK)."""

from __future__ import annotations

import pytest

from imps.perform.midicodec import PredictionEncoder, decode, message, note_off
from imps.perform.midimap import CONTROL_CHANGE, NOTE_ON, PITCH_BEND, PITCH_BEND_MAX, Control, default_mapping

CC = 0xB0


def test_a_control_change_is_its_status_and_channel_controller_and_data():
    assert message(Control(CONTROL_CHANGE, 1, 7), 100) == [0xB0, 7, 100]
    assert message(Control(CONTROL_CHANGE, 16, 119, 1, 13), 13) == [0xBF, 119, 13]


def test_a_pitch_bend_is_14_bits_low_seven_first():
    bend = Control(PITCH_BEND, 2, high=PITCH_BEND_MAX)
    assert message(bend, 8192) == [0xE1, 0, 64]
    assert message(bend, PITCH_BEND_MAX) == [0xE1, 0x7F, 0x7F]
    assert message(bend, 0) == [0xE1, 0, 0]


def test_a_note_is_played_at_full_velocity_and_ended_with_velocity_0():
    assert message(Control(NOTE_ON, 3), 60) == [0x92, 60, 127]
    assert note_off(3, 60) == [0x82, 60, 0]


@pytest.mark.parametrize("control", [Control(CONTROL_CHANGE, 5, 74), Control(NOTE_ON, 16),
                                     Control(PITCH_BEND, 1, high=PITCH_BEND_MAX)], ids=str)
def test_every_message_decodes_to_its_control_and_data(control):
    for data in range(control.low if control.kind != NOTE_ON else 1, control.high + 1):
        assert decode(message(control, data)) == (control.key, data)


def test_note_ends_and_kinds_not_mapped_decode_to_no_control():
    assert decode([0x90, 60, 0]) == (None, 0)  # a note on of velocity 0 ends the note
    assert decode(note_off(1, 60)) == (None, 0)
    for other in ([0xF8], [0xF0, 0x7D, 0x01, 0xF7], [0xC0, 5], [0xA0, 60, 10], [0xD0, 10]):
        assert decode(other) == (None, 0)


# PredictionEncoder


def played(encoder: PredictionEncoder, *predictions, when: float = 0.0) -> list[list[int]]:
    """Every message the predictions send, each sent at `when`."""
    messages = []
    for values in predictions:
        sending, carried = encoder.messages(values)
        encoder.sent(carried, when)
        messages += sending
    return messages


def test_predictions_send_only_changed_controls_rounded_to_the_nearest_step():
    encoder = PredictionEncoder(default_mapping(3).outputs[0].controls)
    sent = played(encoder, [0.0, 0.5, 1.0],
                  [0.0, 0.5, 0.999],  # 0.999 rounds to 127 again: nothing changed
                  [0.004, 0.5, 0.2])  # 0.004 rounds to 1
    assert sent == [[CC, 1, 0], [CC, 2, 64], [CC, 3, 127], [CC, 1, 1], [CC, 3, 25]]


def test_a_range_maps_values_onto_its_data():
    encoder = PredictionEncoder((Control(CONTROL_CHANGE, 1, 9, 1, 13),))
    assert played(encoder, [0.0], [1.0], [0.5]) == [[CC, 9, 1], [CC, 9, 13], [CC, 9, 7]]


def test_what_was_sent_and_when_is_remembered_for_echoes():
    encoder = PredictionEncoder((Control(CONTROL_CHANGE, 1, 1), Control(PITCH_BEND, 2, high=PITCH_BEND_MAX)))
    played(encoder, [0.5, 0.5], when=3.0)
    played(encoder, [0.5, 1.0], when=4.0)
    assert encoder.last_sent == {(CONTROL_CHANGE, 1, 1): (64, 3.0), (PITCH_BEND, 2, None): (PITCH_BEND_MAX, 4.0)}


def test_a_prediction_that_did_not_leave_is_sent_again():
    encoder = PredictionEncoder(default_mapping(1).outputs[0].controls)
    encoder.messages([0.5])  # the port refused it: never `sent`
    assert played(encoder, [0.5]) == [[CC, 1, 64]]


def test_a_note_ends_its_channels_previous_note_and_note_offs_end_every_sounding_note():
    encoder = PredictionEncoder((Control(NOTE_ON, 3), Control(NOTE_ON, 4)))
    assert played(encoder, [0.5, 0.0], [1.0, 0.0]) == [[0x92, 64, 127], [0x93, 0, 127],
                                                       [0x82, 64, 0], [0x92, 127, 127], [0x83, 0, 0], [0x93, 0, 127]]
    assert encoder.note_offs() == [[0x82, 127, 0], [0x83, 0, 0]]
    assert encoder.note_offs() == []  # none sounds any more


def test_a_device_that_was_away_is_sent_everything_again_and_no_note_is_ended():
    encoder = PredictionEncoder((Control(CONTROL_CHANGE, 1, 1), Control(NOTE_ON, 2)))
    played(encoder, [0.5, 0.5])
    encoder.forget()
    assert encoder.last_sent == {} and encoder.note_offs() == []
    assert played(encoder, [0.5, 0.5]) == [[CC, 1, 64], [0x91, 64, 127]]
