"""Which MIDI message is which of IMPS's controls, and how its data becomes a value 0-1
and back: made from flags (default_mapping) or read from the [midi] table of an IMPSY
configuration file (read_mapping). Plain Python: reading a mapping needs no MIDI library.

An entry is written as in IMPSY, channels counted from 1:

    ["control_change", CHANNEL, CC]             a control change, data 0-127
    ["control_change", CHANNEL, CC, LOW, HIGH]  data LOW-HIGH is the value 0-1
    ["note_on", CHANNEL]                        the note number 0-127 is the value
    ["pitch_bend", CHANNEL]                     the bend, 14 bits (0-16383, 8192 the middle)
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..core.errors import MidiMappingError

CONTROL_CHANGE = "control_change"
NOTE_ON = "note_on"
PITCH_BEND = "pitch_bend"
KINDS = (CONTROL_CHANGE, NOTE_ON, PITCH_BEND)
CHANNELS = range(1, 17)
DEFAULT_CHANNEL = 1  # of the mapping without a file
# CC 120-127 are channel mode messages (all sound off, reset, all notes off, omni,
# mono, poly): sending one as a control would silence or reconfigure the synth.
CONTROLLERS = range(0, 120)
DATA_MAX = 127
PITCH_BEND_MAX = 16383  # 14 bits, in two data bytes
# The value of a control no message has set yet: the middle, where a knob's travel is
# even both ways. A first MIDI message sends it for every other control.
UNTOUCHED = 0.5


@dataclass(frozen=True)
class Control:
    """One MIDI control: a control change (channel, number), or the notes or the pitch
    bend of a channel."""
    kind: str
    channel: int  # 1-16, as musicians count
    number: int | None = None  # the controller number; None for note_on
    low: int = 0  # the data that is the value 0
    high: int = DATA_MAX  # the data that is the value 1

    @property
    def key(self) -> tuple[str, int, int | None]:
        """What identifies the control in a message, whatever its range."""
        return self.kind, self.channel, self.number

    def value(self, data: int) -> float:
        """Data 0-127 as IMPS's value; data outside LOW-HIGH falls outside 0-1, and the
        server treats it as any value out of range (logged as it came, clipped for the model)."""
        return (data - self.low) / (self.high - self.low)

    def data(self, value: float) -> int:
        """A value 0-1 as the nearest data step from LOW to HIGH."""
        return round(self.low + value * (self.high - self.low))

    def __str__(self) -> str:
        fields = [self.kind, self.channel] + ([self.number] if self.number is not None else []) + \
            ([self.low, self.high] if self.kind == CONTROL_CHANGE and (self.low, self.high) != (0, DATA_MAX) else [])
        return "[" + ", ".join(f'"{f}"' if isinstance(f, str) else str(f) for f in fields) + "]"


@dataclass(frozen=True)
class MidiMapping:
    inputs: tuple[Control, ...]  # one per control, in /interface order
    outputs: tuple[Control, ...]  # one per control, in /prediction order
    in_device: str | None = None  # from a mapping file; a flag naming a port wins
    out_device: str | None = None
    feedback_protection: bool = False  # as a mapping file's feedback_protection = true

    def input_index(self) -> dict[tuple, int]:
        """Each input control's key and its place among IMPS's values."""
        return {control.key: i for i, control in enumerate(self.inputs)}


def default_mapping(n_values: int, channel: int = DEFAULT_CHANNEL,
                    controllers: Sequence[int] | None = None) -> MidiMapping:
    """Control changes on one channel, in and out: CC 1 to n_values unless `controllers` are named."""
    controllers = list(controllers) if controllers is not None else list(range(1, n_values + 1))
    if len(controllers) != n_values:
        raise MidiMappingError(f"{len(controllers)} controller numbers were given for {n_values} controls",
                               count=True)
    controls = tuple(_checked([CONTROL_CHANGE, channel, cc], "controllers") for cc in controllers)
    _no_duplicates(controls, "controllers")
    return MidiMapping(controls, controls)


def read_mapping(path: Path | str, n_values: int) -> MidiMapping:
    """The [midi] table of an IMPSY configuration file, as a mapping for n_values controls."""
    path = Path(path)
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("midi")
    except OSError as error:
        raise MidiMappingError(f"cannot read {path} ({error.strerror or error})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise MidiMappingError(f"{path} is not a TOML file ({error})") from None
    if not isinstance(table, dict):
        raise MidiMappingError(f"{path} has no [midi] table")
    in_device, in_entries = _device_and_entries(table, "in_device", "input", path)
    out_device, out_entries = _device_and_entries(table, "out_device", "output", path)
    inputs = _controls(in_entries, "input", n_values, path)
    outputs = _controls(out_entries, "output", n_values, path)
    _no_duplicates(inputs, f"input in {path}")
    return MidiMapping(inputs, outputs, in_device, out_device, table.get("feedback_protection") is True)


def _device_and_entries(table: dict, device_key: str, entries_key: str, path: Path) -> tuple[str | None, list]:
    """One device and its entries. IMPSY also allows a list of devices and a table of
    entries per device; one device either way is honoured, more are refused."""
    device, entries = table.get(device_key), table.get(entries_key)
    if isinstance(device, list):
        if len(device) > 1:
            raise MidiMappingError(f"{path}: {device_key} names {len(device)} devices, {device!r}; IMPS plays "
                                   "one MIDI device each way")
        device = device[0] if device else None
    if isinstance(entries, dict):
        if len(entries) != 1:
            raise MidiMappingError(f"{path}: {entries_key} has entries for {len(entries)} devices, "
                                   f"{list(entries)!r}; IMPS plays one MIDI device each way")
        (named, entries), = entries.items()
        device = device or named
    if entries is None:
        raise MidiMappingError(f"{path}: the [midi] table has no {entries_key} list")
    if device is not None and not isinstance(device, str):
        raise MidiMappingError(f"{path}: {device_key} should be a port name, not {device!r}")
    return device, entries


def _controls(entries, which: str, n_values: int, path: Path) -> tuple[Control, ...]:
    if not isinstance(entries, list):
        raise MidiMappingError(f"{path}: {which} should be a list of entries, not {entries!r}")
    controls = tuple(_checked(entry, f"{which} entry {i + 1} in {path}") for i, entry in enumerate(entries))
    if len(controls) != n_values:
        raise MidiMappingError(f"{path}: {which} has {len(controls)} entries for {n_values} controls", count=True)
    return controls


def _checked(entry, where: str) -> Control:
    """An entry as a Control, or one line naming it and what is wrong."""
    def bad(problem: str) -> MidiMappingError:
        try:
            shown = json.dumps(entry)  # as it is written in the file
        except TypeError:
            shown = repr(entry)
        return MidiMappingError(f"{where}: {shown} {problem}")

    if not isinstance(entry, list) or not entry or not isinstance(entry[0], str):
        raise bad(f'is not an entry such as ["{CONTROL_CHANGE}", 1, 1] or ["{NOTE_ON}", 1]')
    kind, numbers = entry[0], entry[1:]
    if kind not in KINDS:
        raise bad(f"is a {kind} entry; IMPS maps {', '.join(KINDS[:-1])} and {KINDS[-1]}")
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers):
        raise bad("should hold whole numbers after its kind")
    shapes = {CONTROL_CHANGE: (2, 4), NOTE_ON: (1,), PITCH_BEND: (1,)}
    if len(numbers) not in shapes[kind]:
        form = ('["control_change", CHANNEL, CC] or ["control_change", CHANNEL, CC, LOW, HIGH]'
                if kind == CONTROL_CHANGE else f'["{kind}", CHANNEL]')
        raise bad(f"should be {form}")
    channel = numbers[0]
    if channel not in CHANNELS:
        raise bad(f"has channel {channel}; channels are 1-16")
    if kind == NOTE_ON:
        return Control(NOTE_ON, channel)
    if kind == PITCH_BEND:
        return Control(PITCH_BEND, channel, high=PITCH_BEND_MAX)
    number = numbers[1]
    if number not in CONTROLLERS:
        raise bad(f"has controller {number}; controls are CC 0-119 (120-127 are channel mode messages)")
    low, high = numbers[2:] if len(numbers) == 4 else (0, DATA_MAX)
    if not (0 <= low <= DATA_MAX and 0 <= high <= DATA_MAX and low != high):
        raise bad("has a data range outside 0-127 or of no width")
    return Control(CONTROL_CHANGE, channel, number, low, high)


def _no_duplicates(controls: Sequence[Control], where: str) -> None:
    seen: set = set()
    for control in controls:
        if control.key in seen:
            raise MidiMappingError(f"{where}: {control} is mapped twice; each input control needs its own message")
        seen.add(control.key)
