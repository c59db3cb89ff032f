"""A USB serial device made of the kernel's pseudo-terminal pair, for the serial tests
and utils/benchmark_serial.py: IMPS opens the pair's slave side, as it opens
/dev/ttyACM0, and the caller plays the sketch on the master side.

IMPS is given `path`, a link to the slave (as udev links /dev/serial/by-id/... to a
USB device), so that unplugging (closing the pair) and plugging in again (a new pair,
which the kernel may number differently) leaves the device at the same name, as a
replugged Arduino is.
"""

from __future__ import annotations

import os
import pty
import select
import time
import tty
from pathlib import Path


class PtyDevice:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._pending = b""
        self.plug()

    def plug(self) -> None:
        self.master, self._slave = pty.openpty()
        tty.setraw(self._slave)  # no echo, no line editing, no \r\n rewriting: bytes pass as over USB
        os.symlink(os.ttyname(self._slave), self.path)

    def unplug(self) -> None:
        """The device goes, as a pulled USB cable takes it: the name and the pair."""
        self.path.unlink()
        os.close(self.master)
        os.close(self._slave)
        self._pending = b""

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def read_lines(self, count: int, timeout: float = 10.0) -> list[bytes]:
        """Up to `count` lines IMPS wrote (without their `\\n`), waiting at most `timeout`
        seconds for them."""
        deadline = time.monotonic() + timeout
        while self._pending.count(b"\n") < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.master], [], [], remaining)[0]:
                break
            self._pending += os.read(self.master, 65536)
        *lines, self._pending = self._pending.split(b"\n")
        if len(lines) > count:
            self._pending = b"\n".join(lines[count:] + [self._pending])
            lines = lines[:count]
        return lines

    def close(self) -> None:
        if self.path.is_symlink():
            self.unplug()
