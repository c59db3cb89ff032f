"""What the performance server's threads tell the musician. Each thread hands its
callback a notice, a small dataclass of what happened (a value out of range, a capped
wait, a MIDI port gone, a log write that failed, ...); `words` turns every notice into
the line the musician reads, so that the wording and the advice in it (which flag, which
range) are written here once and the threads only count and tell.

In core, not perform, because the performance log (logs.py) is one of the tellers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from . import cli


class Notice:
    """Something a thread of the performance server tells the musician."""


# The performance log (core/logs.py).


@dataclass(frozen=True)
class LogContinued(Notice):
    """The log file reached its size limit; the log goes on in a new file."""
    full: Path
    max_bytes: int
    path: Path  # the new file


@dataclass(frozen=True)
class LogWriteFailed(Notice):
    """Writing the log failed: nothing more is written (told the first time only)."""
    path: Path
    reason: str


# The interaction loop (perform/interaction.py).


@dataclass(frozen=True)
class ValueOutOfRange(Notice):
    """The first of the musician's events with a value outside 0-1 (the rest are counted)."""
    value: float
    control: int  # counted from 1
    controls: int


@dataclass(frozen=True)
class WaitCapped(Notice):
    """The first predicted wait longer than --maxwait (the rest are counted)."""
    predicted: float  # seconds
    max_wait: float


@dataclass(frozen=True)
class TurnTaken(Notice):
    """Call and response changed turns."""
    model_plays: bool  # the response; else the musician's call


@dataclass(frozen=True)
class ModeSet(Notice):
    """/mode (or its key) switched the mode while playing."""
    mode: str


@dataclass(frozen=True)
class ModelChanged(Notice):
    """Another model plays from now on (chosen on the web page's library)."""
    name: str
    sampling_line: str  # its temperatures and where each came from


@dataclass(frozen=True)
class ModelReset(Notice):
    """/reset (or its key) cleared the model's memory of what was played."""


@dataclass(frozen=True)
class PauseSet(Notice):
    """/pause (or its key) stopped or resumed the model's playing."""
    paused: bool


@dataclass(frozen=True)
class NoModelToCommand(Notice):
    """A command for the model in user only, where none was loaded (told the first time only)."""
    command: str


@dataclass(frozen=True)
class EventShown(Notice):
    """An event, for --verbose: the musician's, or the model's (silent: predicted during
    the call, not played)."""
    dt: float  # seconds since the one before
    values: Sequence[float]
    by_model: bool
    silent: bool = False


# MIDI (perform/midi.py).


@dataclass(frozen=True)
class MidiPortGone(Notice):
    """A MIDI port went away; IMPS watches for it to come back."""
    direction: str  # "input" or "output"
    name: str
    wanted: str  # what the port's name is to contain when it comes back


@dataclass(frozen=True)
class MidiPortBack(Notice):
    """A MIDI port that had gone is back, and reconnected."""
    direction: str
    name: str


@dataclass(frozen=True)
class MidiPortsUnreadable(Notice):
    """The MIDI system cannot list its ports (told once for each new reason)."""
    reason: str


# Serial (perform/serial_link.py).

# The kinds of serial line that are not an event, each told of once (the first) and counted.
TOO_LONG, NOT_TEXT, WRONG_COUNT, NOT_A_NUMBER = "too long", "not text", "wrong count", "not a number"


@dataclass(frozen=True)
class SerialLineRejected(Notice):
    """The first serial line of a kind that is not an event (the rest are counted)."""
    kind: str  # TOO_LONG, NOT_TEXT, WRONG_COUNT or NOT_A_NUMBER
    detail: str
    count: int  # the numbers a line is to have


@dataclass(frozen=True)
class SerialPortGone(Notice):
    """The serial port went away (unplugged); IMPS opens it again when it is back."""
    device: str
    wanted: str


@dataclass(frozen=True)
class SerialPortBack(Notice):
    device: str


# OSC (perform/osc.py, perform/server.py).


@dataclass(frozen=True)
class OscRejected(Notice):
    """A message or packet that could not be used."""
    problem: str
    held_back: int = 0  # rejections since the last told, not told to spare the terminal


@dataclass(frozen=True)
class TemperaturesSet(Notice):
    """/temperature changed the sampling."""
    sigma: float
    pi: float


@dataclass(frozen=True)
class TimescaleSet(Notice):
    """/timescale changed how long each predicted wait lasts."""
    factor: float


# What to do about each kind of bad serial line.
_SERIAL_ADVICE = {
    TOO_LONG: "End each event with a line end (Serial.println)",
    NOT_TEXT: "Set --baud to the sketch's Serial.begin speed (bytes like these are what a mismatch reads)",
    WRONG_COUNT: "Print {count} numbers a line ({count} is --dimension {dimension} less 1), or start IMPS with "
                 "--dimension one more than the numbers your sketch prints",
    NOT_A_NUMBER: "Print numbers only, separated by commas or spaces",
}


def words(notice: Notice) -> str:
    """The line the musician reads for `notice`."""
    match notice:
        case LogContinued(full, max_bytes, path):
            return f"log: {full} reached {max_bytes:,} bytes; going on in {path}"
        case LogWriteFailed(path, reason):
            return cli.warning_line(f"could not write to the log {path} ({reason}). IMPS plays on without logging: "
                                    "every line before this one is in the log whole, the lines from now on are not "
                                    "written, and the summary at the end counts them")
        case ValueOutOfRange(value, control, controls):
            return cli.warning_line(f"/interface value {value:g} for control {control} of {controls} is outside 0-1. "
                                    "The log keeps what you sent; the model (and any dataset made from the log) use it "
                                    "clipped to 0-1. Scale your controls to 0-1 (a MIDI value 0-127 divided by 127; "
                                    "over serial, --serialscale divides raw readings). Said once; the summary at the "
                                    "end counts them")
        case WaitCapped(predicted, max_wait):
            return cli.warning_line(f"the model predicted a wait of {predicted:.1f} s before its next event; it waits "
                                    f"{max_wait:g} s instead, the longest wait allowed, and goes on from there (so it "
                                    "never falls silent for long). Said once; the summary at the end counts capped "
                                    "waits")
        case TurnTaken(model_plays):
            return ("call and response: the model plays (response)" if model_plays
                    else "call and response: the musician plays (call)")
        case ModeSet(mode):
            return f"mode: {mode}"
        case ModelChanged(name, sampling_line):
            return f"now playing {name}, from a fresh start; {sampling_line}"
        case ModelReset():
            return "model reset: it plays on from a fresh start, as at the beginning of a piece"
        case PauseSet(paused):
            return ("paused: the model sends nothing until resumed; your playing is still logged" if paused
                    else "resumed: the model plays again")
        case NoModelToCommand(command):
            return cli.warning_line(f"{command}: user only has no model to switch, reset or pause; start IMPS in "
                                    "another mode to use /mode, /reset and /pause. Said once")
        case EventShown(dt, values, by_model, silent):
            who = ("model (silent)" if silent else "model") if by_model else "user"
            return f"{who}: dt {dt:.3f} " + " ".join(f"{v:.3f}" for v in values)
        case MidiPortGone(direction, name, wanted):
            return (f"MIDI {direction} {name!r} has gone: IMPS plays on over OSC and reconnects when a port named "
                    f"like {wanted!r} appears again")
        case MidiPortBack(direction, name):
            return f"MIDI {direction} {name!r} is back: reconnected"
        case MidiPortsUnreadable(reason):
            return cli.warning_line(f"the MIDI ports cannot be read ({reason}); IMPS plays on over OSC")
        case SerialLineRejected(kind, detail, count):
            return cli.warning_line(f"serial line dropped, {kind}: {detail}. " + _SERIAL_ADVICE[kind].format(
                count=count, dimension=count + 1) + ". Said for the first line of each kind; the summary at the end "
                "counts them")
        case SerialPortGone(device, wanted):
            return (f"serial port {device} has gone: IMPS plays on without it and opens {wanted} again as soon as it "
                    "returns")
        case SerialPortBack(device):
            return f"serial port {device} is back: reading and writing again"
        case OscRejected(problem, held_back):
            return cli.warning_line(problem + (f" ({held_back} more warnings held back)" if held_back else ""))
        case TemperaturesSet(sigma, pi):
            return f"temperatures: sigma {sigma:g}, pi {pi:g}"
        case TimescaleSet(factor):
            return f"timescale: {factor:g}"
    raise TypeError(f"no words for {notice!r}")


def say(notice: Notice) -> None:
    """Print the notice's words: what a thread tells when nobody else is told to listen."""
    cli.say(words(notice))
