"""What the three scripts share on the command line: flags, messages, exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable, NoReturn

from .sizes import DEFAULT_SIZE, MIN_DIMENSION, SIZES


def _colour(text: str, code: str, stream) -> str:
    if stream.isatty() and "NO_COLOR" not in os.environ:
        return f"\033[{code}m{text}\033[0m"
    return text


def say(message: str) -> None:
    print(message, flush=True)


def warn(message: str) -> None:
    print(f"{_colour('warning', '33', sys.stdout)}: {message}", flush=True)


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
    parser.add_argument("-d", "--dimension", type=dimension, default=2,
                        help="the model's dimension: the number of values in each /interface message plus 1 "
                             "for the time between events, at least 2 (default: %(default)s)")


def add_modelsize(parser: argparse.ArgumentParser) -> None:
    table = ", ".join(f"{name} {size.layers}x{size.units}" for name, size in SIZES.items())
    parser.add_argument("--modelsize", default=DEFAULT_SIZE, choices=list(SIZES), metavar="{" + ",".join(SIZES) + "}",
                        help=f"the model's size, LSTM layers x units: {table} (default: %(default)s)")


def run(main: Callable[[], int | None], errors: tuple[type[BaseException], ...]) -> NoReturn:
    """Run a script's main: the listed errors become one line and exit code 1,
    Ctrl-C exits quietly with 130."""
    try:
        sys.exit(main() or 0)
    except errors as error:
        fail(str(error))
    except KeyboardInterrupt:
        print(file=sys.stderr)
        fail("interrupted", code=130)
