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
class DeviceControls:
    """The controls one device carries, as in IMPSY: its entry i is IMPS's control i."""
    device: str | None  # the port name the file gives (a flag naming a port wins); None: only flags name it
    controls: tuple[Control, ...]


@dataclass(frozen=True)
class PortControls:
    """A port to open, the first whose name contains `wanted` (any case), and the controls it carries."""
    wanted: str
    controls: tuple[Control, ...]


@dataclass(frozen=True)
class MidiMapping:
    inputs: tuple[DeviceControls, ...]  # each input device's controls, in /interface order
    outputs: tuple[DeviceControls, ...]  # each output device's controls, in /prediction order
    feedback_protection: bool = False  # as a mapping file's feedback_protection = true


def default_mapping(n_values: int, channel: int = DEFAULT_CHANNEL,
                    controllers: Sequence[int] | None = None) -> MidiMapping:
    """Control changes on one channel, in and out: CC 1 to n_values unless `controllers` are named."""
    controllers = list(controllers) if controllers is not None else list(range(1, n_values + 1))
    if len(controllers) != n_values:
        raise MidiMappingError(f"{len(controllers)} controller numbers were given for {n_values} controls",
                               count=True)
    controls = tuple(_checked([CONTROL_CHANGE, channel, cc], "controllers") for cc in controllers)
    _no_duplicates(controls, "controllers")
    return MidiMapping((DeviceControls(None, controls),), (DeviceControls(None, controls),))


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
    if isinstance(thru := table.get("thru_matrix"), dict) and thru:
        (device, outputs), *_ = thru.items()
        raise MidiMappingError(f"{path}: thru_matrix.{json.dumps(device)} = {json.dumps(outputs)} sends a device's "
                               "messages straight on to outputs (MIDI thru); IMPS sends its outputs only predictions")
    return MidiMapping(_devices(table, "in_device", "input", n_values, path),
                       _devices(table, "out_device", "output", n_values, path),
                       table.get("feedback_protection") is True)


def port_controls(devices: Sequence[DeviceControls], wanted: Sequence[str], flag: str) -> tuple[PortControls, ...]:
    """The ports to open one way, each with its controls. Ports named by `flag` (given
    once or more) win over the file's: with one device's controls, every such port
    carries them; with several, one flag names each device's port, in the file's order.
    Raises MidiMappingError when the flags and the devices do not pair up."""
    if not wanted:
        return tuple(PortControls(d.device, d.controls) for d in devices if d.device is not None)
    if twice := next((w for i, w in enumerate(wanted) if w in wanted[:i]), None):
        raise MidiMappingError(f"{flag} names {twice!r} twice; each port is opened once")
    if len(devices) == 1:
        return tuple(PortControls(w, devices[0].controls) for w in wanted)
    if len(wanted) != len(devices):
        names = ", ".join(repr(d.device) for d in devices)
        raise MidiMappingError(f"{flag} names {len(wanted)} port{'s' * (len(wanted) != 1)} for the mapping's "
                               f"{len(devices)} devices ({names}); give it once per device, in that order, or not "
                               "at all")
    return tuple(PortControls(w, d.controls) for w, d in zip(wanted, devices))


def _devices(table: dict, device_key: str, entries_key: str, n_values: int,
             path: Path) -> tuple[DeviceControls, ...]:
    """Each device's controls one way. IMPSY names one device (a name, or a list of one)
    with one list of entries, or several in a list with a table of entries per device
    (`input."S-1" = [...]`); a list of entries with several devices is each one's."""
    named, entries = _device_names(table.get(device_key), device_key, path), table.get(entries_key)
    if entries is None:
        raise MidiMappingError(f"{path}: the [midi] table has no {entries_key} list")
    if isinstance(entries, dict):
        for device in entries:
            if named and device not in named:
                raise MidiMappingError(f"{path}: {entries_key}.{json.dumps(device)} has entries for a device "
                                       f"{device_key} does not name ({device_key} = {json.dumps(named)})")
        for device in named:
            if device not in entries:
                raise MidiMappingError(f"{path}: {device_key} names {device!r}, and {entries_key} has no entries "
                                       f"for it ({entries_key}.{json.dumps(device)} = [...])")
        lists = [(device, entries[device]) for device in named or entries]
        if not lists:
            raise MidiMappingError(f"{path}: {entries_key} has entries for no device")
    else:
        lists = [(device, entries) for device in named] or [(None, entries)]
    devices = []
    for device, listed in lists:
        # Named only where there are several, so that one device's lines read as they always have.
        which = f"{entries_key}.{json.dumps(device)}" if len(lists) > 1 else entries_key
        controls = _controls(listed, which, n_values, path)
        if entries_key == "input":
            _no_duplicates(controls, f"{which} in {path}")
        devices.append(DeviceControls(device, controls))
    return tuple(devices)


def _device_names(value, device_key: str, path: Path) -> list[str]:
    """in_device or out_device: a port name, or a list of them (IMPSY's own form)."""
    names = value if isinstance(value, list) else [] if value is None else [value]
    for i, name in enumerate(names):
        if not isinstance(name, str):
            raise MidiMappingError(f"{path}: {device_key} should be a port name, not {name!r}")
        if name in names[:i]:
            raise MidiMappingError(f"{path}: {device_key} names {name!r} twice")
    return names


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
