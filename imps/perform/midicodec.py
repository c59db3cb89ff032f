"""MIDI's bytes for the three kinds of message IMPS maps (control change, note on, pitch
bend): a message's control and data, and the messages that play a prediction on the
mapping's outputs. Plain Python with no port, thread or clock: midimap turns values into
data, this module turns data into bytes and back, and midi.py moves the bytes.
"""

from __future__ import annotations

from typing import Sequence

from .midimap import CONTROL_CHANGE, NOTE_ON, PITCH_BEND, Control

# A message's first byte: its kind in the high four bits, its channel - 1 in the low four.
STATUS = {CONTROL_CHANGE: 0xB0, NOTE_ON: 0x90, PITCH_BEND: 0xE0}
NOTE_OFF = 0x80
NOTE_VELOCITY = 127  # of every note IMPS plays


def message(control: Control, data: int) -> list[int]:
    """The message that sets `control` to `data`; for notes, the note on of note `data`."""
    status = STATUS[control.kind] | control.channel - 1
    if control.kind == CONTROL_CHANGE:
        return [status, control.number, data]
    if control.kind == PITCH_BEND:
        return [status, data & 0x7F, data >> 7]  # 14 bits, the low seven first
    return [status, data, NOTE_VELOCITY]


def note_off(channel: int, note: int) -> list[int]:
    """The message that ends `note` on `channel` (1-16)."""
    return [NOTE_OFF | channel - 1, note, 0]


def decode(message: Sequence[int]) -> tuple[tuple[str, int, int | None] | None, int]:
    """A well-formed message's control, as Control.key, and the data that is its value;
    the key is None for a note that ends (a note off, or a note on of velocity 0) and for
    kinds IMPS does not map."""
    status, channel = message[0] & 0xF0, (message[0] & 0x0F) + 1
    if status == STATUS[CONTROL_CHANGE]:
        return (CONTROL_CHANGE, channel, message[1]), message[2]
    if status == STATUS[NOTE_ON] and message[2] > 0:
        return (NOTE_ON, channel, None), message[1]
    if status == STATUS[PITCH_BEND]:
        return (PITCH_BEND, channel, None), message[1] | message[2] << 7
    return None, 0


class PredictionEncoder:
    """Predictions as the messages that play them on `outputs`, remembering what the
    device was sent: a control change or pitch bend goes only where its data changed; a
    note on first ends the note its channel still sounds."""

    def __init__(self, outputs: Sequence[Control]):
        self.outputs = tuple(outputs)
        # Each output control's data last sent to the device, and when by the caller's
        # clock: one pair, so that the MIDI thread, looking for echoes, reads both at once.
        self.last_sent: dict[tuple, tuple[int, float]] = {}
        self.sounding: dict[int, int] = {}  # the note sounding on each channel (1-16)

    def messages(self, values: Sequence[float]) -> tuple[list[list[int]], dict[tuple, int]]:
        """The messages that play `values` (0-1), and each control's data they carry.
        The notes they start count as sounding at once; the data, once `sent` says so."""
        messages, carried = [], {}
        for control, value in zip(self.outputs, values):
            data = control.data(value)
            if control.kind == NOTE_ON:
                if control.channel in self.sounding:
                    messages.append(note_off(control.channel, self.sounding[control.channel]))
                self.sounding[control.channel] = data
            elif self.last_sent.get(control.key, (None,))[0] == data:
                continue
            messages.append(message(control, data))
            carried[control.key] = data
        return messages, carried

    def sent(self, carried: dict[tuple, int], when: float) -> None:
        """The messages carrying `carried` left for the device at `when`."""
        for key, data in carried.items():
            self.last_sent[key] = (data, when)

    def note_offs(self) -> list[list[int]]:
        """The messages that end every sounding note; none counts as sounding after."""
        messages = [note_off(channel, note) for channel, note in self.sounding.items()]
        self.sounding.clear()
        return messages

    def forget(self) -> None:
        """The device was away: it has forgotten what it was sent."""
        self.last_sent.clear()
        self.sounding.clear()
