"""What the scripts share on the command line: flags, messages, exit codes, and how to
put right each error the package raises, in the scripts' own terms (explain)."""

from __future__ import annotations

import argparse
import errno
import os
import re
import sys
from typing import Callable, NoReturn, TextIO

from . import errors
from .model import DEFAULT_DIMENSION, DEFAULT_SAMPLING, DEFAULT_SIZE, MIN_DIMENSION, SIZES

SERVER = "predictive_music_model.py"
READY = "Ctrl-C stops."  # ends the line the server prints once it listens
COLLATE = "generate_dataset.py"
TRAINER = "train_predictive_music_model.py"


def _colour(text: str, code: str, stream) -> str:
    if stream.isatty() and "NO_COLOR" not in os.environ:
        return f"\033[{code}m{text}\033[0m"
    return text


def say(message: str) -> None:
    print(message, flush=True)


def warning_line(message: str, stream: TextIO | None = None) -> str:
    """`warning: message`, the word coloured where `stream` is a terminal that shows
    colour; plain without a stream (the performance server's lines, which go out through
    its report)."""
    word = "warning" if stream is None else _colour("warning", "33", stream)
    return f"{word}: {message}"


def warn(message: str) -> None:
    print(warning_line(message, sys.stdout), flush=True)


def fail(message: str, code: int = 1) -> NoReturn:
    print(f"{_colour('error', '31', sys.stderr)}: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


class Parser(argparse.ArgumentParser):
    """An argparse parser whose complaints are one line, not usage and a traceback."""

    def error(self, message: str) -> NoReturn:
        fail(f"{message} (see {self.prog} --help)", code=2)


def dimension(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"dimension must be a whole number, not {text!r}") from None
    if value < MIN_DIMENSION:
        raise argparse.ArgumentTypeError(
            f"dimension must be at least {MIN_DIMENSION} (the number of interface values plus 1 for time), not {value}")
    return value


def add_dimension(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-d", "--dimension", type=dimension, default=DEFAULT_DIMENSION,
                        help="the model's dimension: the number of values in each /interface message plus 1 "
                             "for the time between events, at least 2 (default: %(default)s)")


def add_modelsize(parser: argparse.ArgumentParser, default: str | None = DEFAULT_SIZE,
                  default_text: str = "%(default)s") -> None:
    table = ", ".join(f"{name} {size.layers}x{size.units}" for name, size in SIZES.items())
    parser.add_argument("--modelsize", default=default, choices=list(SIZES), metavar="{" + ",".join(SIZES) + "}",
                        help=f"the model's size, LSTM layers x units: {table} (default: {default_text})")


def explain(error: BaseException) -> str:
    """The error's message and, for the package's own errors, how to put it right."""
    hint = None
    if isinstance(error, errors.WeightsMismatch):
        hint = (f"use --dimension={error.found_dimension} or another weights file" if error.wanted_size is None
                else "choose the matching --dimension/--modelsize or another weights file")
    elif isinstance(error, errors.DatasetDimensionMismatch):
        hint = f"use --dimension={error.found} or another dataset"
    elif isinstance(error, errors.NoDataset):
        hint = f"make one with {COLLATE}"
    elif isinstance(error, errors.DatasetNeedsPickle):
        hint = f"if you trust the file, pass --allow-pickle, or regenerate it with {COLLATE}"
    elif isinstance(error, errors.DatasetTooShort):
        hint = f"record more and run {COLLATE} again"
    elif isinstance(error, errors.NoLogs):
        hint = (f"record some with {SERVER} --dimension={error.dimension} --log" if error.folder_exists
                else f"record some with {SERVER} --log, or point --source at your logs")
    elif isinstance(error, errors.OSCError):
        hint = ("close the other program or choose another port with --serverport" if error.in_use
                else "check --serverip and --serverport")
    elif isinstance(error, errors.WebError):
        hint = "close the other program or choose another port with --web" if error.in_use else "check --web"
    elif isinstance(error, errors.WriteFailed):
        hint = ("make room on the disk (or raise the limit on file size) and run again" if error.room
                else "check that you may write there, and run again")
    elif isinstance(error, errors.FilesExist):
        hint = "choose another --out folder or pass --overwrite"
    elif isinstance(error, errors.MidiMappingError):
        hint = ("give one entry per control, or the --dimension that fits them (controls + 1)" if error.count
                else "correct it (docs/midi.md: Mapping controls)")
    elif isinstance(error, errors.MidiPortNotFound):
        hint = f"name one of them with {'--midiin' if error.direction == 'input' else '--midiout'}"
    elif isinstance(error, errors.MidiUnavailable):
        hint = ("install mido and python-rtmidi (pip install -r requirements.txt) and ALSA's library (Debian: "
                "libasound2)" if error.library_missing
                else "start the JACK server (jackd), or leave out --midiapi for ALSA" if error.api == "jack"
                else "load ALSA's sequencer (the snd-seq kernel module), or start a JACK server and add --midiapi jack")
    elif isinstance(error, errors.SerialPortNotFound):
        hint = "name one of them with --serial, or plug the device in (--seriallist lists them)"
    elif isinstance(error, errors.SerialOpenFailed):
        hint = ("on Linux, add yourself to the dialout group (sudo usermod -aG dialout $USER, then log in again)"
                if error.reason == os.strerror(errno.EACCES)
                else "close the other program using it (a serial monitor, another IMPS)"
                if error.reason == os.strerror(errno.EBUSY) else "check the device and --baud")
    elif isinstance(error, errors.SerialUnavailable):
        hint = "install pyserial (pip install -r requirements.txt)"
    return f"{error}: {hint}" if hint else str(error)


def controller_numbers(text: str) -> list[int]:
    """--midicc 1,2,3: whole numbers, in order (their range is the mapping's to check)."""
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"controller numbers are whole numbers separated by commas, such as "
                                         f"1,2,3, not {text!r}") from None


_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmg]?)b?", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "k": 1000, "m": 1000 ** 2, "g": 1000 ** 3}


def file_size(text: str) -> int:
    """A size in bytes from 100MB, 500kB, 2GB or 20000 (bytes); k, M and G are powers of 1000."""
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"a size is a number and a unit, such as 100MB, 500kB or 2GB, not {text!r}")
    return round(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()])


def add_allow_pickle(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--allow-pickle", action="store_true",
                        help="allow an original IMPS dataset (object array 'perfs'), which loads with pickle: "
                             "only for files you trust, since pickle can run code")


def add_temperatures(parser: argparse.ArgumentParser) -> None:
    """--sigmatemp and --pitemp, None when not given (model.resolve_sampling)."""
    parser.add_argument("--sigmatemp", type=float, default=None,
                        help="sigma temperature: how far samples stray from the model's means (default: the "
                             f"setting stored with the model, else {DEFAULT_SAMPLING.sigma_temp:g})")
    parser.add_argument("--pitemp", type=float, default=None,
                        help="pi temperature: how freely the model picks among its mixture components (default: "
                             f"the setting stored with the model, else {DEFAULT_SAMPLING.pi_temp:g})")


def run(main: Callable[[], int | None], expected: tuple[type[BaseException], ...] = ()) -> NoReturn:
    """Run a script's main: the package's errors and the `expected` ones become one line
    and exit code 1 (2 for a MIDI or serial port that matches nothing, as for a wrong flag); Ctrl-C
    exits quietly with 130."""
    try:
        sys.exit(main() or 0)
    except (errors.MidiPortNotFound, errors.SerialPortNotFound) as error:
        fail(explain(error), code=2)
    except (errors.IMPSError, *expected) as error:
        fail(explain(error))
    except KeyboardInterrupt:
        print(file=sys.stderr)
        fail("interrupted", code=130)
