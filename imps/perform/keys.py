"""Commands from the keyboard, for a musician on stage with no OSC sender at hand: single
keys, read from the terminal the server runs in, do what /mode, /reset and /pause do."""

from __future__ import annotations

import os
import select
import sys
import termios
import threading
import tty
from typing import TYPE_CHECKING, Callable, TextIO

if TYPE_CHECKING:
    from .interaction import Performance

KEYS_LINE = "Keys: m the next mode, r reset the model, space pause or resume."


def command_keys(performance: Performance) -> dict[str, Callable[[], None]]:
    """Each key and its command; m cycles, space toggles, so one key each is enough."""
    return {"m": lambda: performance.switch_mode(None), "r": performance.reset, " ": lambda: performance.pause(None)}


class KeyCommands:
    """Reads single keys from the terminal `fd` on a thread of its own, in cbreak mode
    (each key arrives as it is pressed, unechoed; Ctrl-C still interrupts), and calls
    the action of each key it knows, in either case. The thread sleeps in select() on the
    terminal and on a pipe that stop() writes to (no polling); stop() puts the terminal's
    settings back as they were."""

    def __init__(self, keys: dict[str, Callable[[], None]], fd: int):
        self._keys = keys
        self._fd = fd
        self._saved = termios.tcgetattr(fd)
        self._wake_read, self._wake_write = os.pipe()
        self._thread = threading.Thread(target=self._run, name="keys", daemon=True)

    @classmethod
    def for_terminal(cls, keys: dict[str, Callable[[], None]], stdin: TextIO = sys.stdin) -> KeyCommands | None:
        """Started on `stdin` when it is a terminal with this process in its foreground;
        otherwise None: in a pipe or a service there is no one to press keys, and a
        process in the background that changed or read the terminal would be stopped."""
        try:
            fd = stdin.fileno()
            if not os.isatty(fd) or os.tcgetpgrp(fd) != os.getpgrp():
                return None
        except (OSError, ValueError):  # no stdin, or a closed one
            return None
        reader = cls(keys, fd)
        reader.start()
        return reader

    def start(self) -> None:
        tty.setcbreak(self._fd)
        self._thread.start()

    def stop(self) -> None:
        os.write(self._wake_write, b"\0")
        self._thread.join(timeout=1.0)
        try:
            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
        except termios.error:
            pass  # the terminal has gone (closed or hung up): there is nothing to put back
        os.close(self._wake_read)
        os.close(self._wake_write)

    def _run(self) -> None:
        while True:
            ready, _, _ = select.select([self._fd, self._wake_read], [], [])
            if self._wake_read in ready:
                return
            try:
                data = os.read(self._fd, 64)
            except OSError:  # the terminal hung up
                return
            if not data:
                return
            # An arrow's escape sequence is a few keys none of which is a command.
            for key in data.decode(errors="replace"):
                action = self._keys.get(key.lower())
                if action is not None:
                    action()
