"""Serial in and out: a microcontroller (an Arduino, a Teensy) on a USB serial port
prints one event a line, and IMPS writes each prediction back as a line.

A line is N numbers separated by commas or spaces (IMPSY's format), ended by `\\n` or
`\\r\\n`; --serialscale divides them, so a sketch can print analogRead as it is.
Predictions go out as N numbers with 4 decimals, on the player's thread with their
/prediction.

pyserial opens the port. This module is imported only when serial is asked for, so a
musician playing over OSC never needs pyserial.

One thread, `serial-in`, blocks in the port's read until bytes come (no polling; stop
cancels the read). A port that vanishes (USB unplugged) makes the read fail: the
thread says so once, closes it, and from then on tries once a second to open it again,
waiting on the stop event in between, as the MIDI port watcher does.
"""

from __future__ import annotations

import math
import os
import re
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Sequence

from ..core.errors import SerialOpenFailed, SerialPortNotFound, SerialUnavailable, reason_of
from ..core.notices import (NOT_A_NUMBER, NOT_TEXT, TOO_LONG, WRONG_COUNT, Notice, SerialLineRejected, SerialPortBack,
                            SerialPortGone, say)
from .config import SerialConfig

try:
    import serial
    from serial.tools import list_ports
except ImportError as missing:
    raise SerialUnavailable(f"pyserial cannot be loaded ({missing})") from None

MAX_LINE = 1024  # bytes; a longer line is not an event (a sketch that never prints a newline)
REOPEN_INTERVAL = 1.0  # seconds between tries to open a port that has gone
# What opening the port mid-line makes of the first line; counted, not warned of.
CUT_SHORT = "cut short by opening the port"
_SEPARATORS = re.compile(rb"[,\s]+")
_TEXT = re.compile(rb"[\x20-\x7e\t]*")  # printable ASCII: what a sketch's Serial.print writes


class BadLine(ValueError):
    """A line that is not an event: its kind and what it was."""

    def __init__(self, kind: str, detail: str):
        self.kind, self.detail = kind, detail
        super().__init__(f"{kind}: {detail}")


def parse_line(line: bytes, count: int, scale: float = 1.0) -> list[float]:
    """One line (without its end) as `count` finite numbers divided by `scale`, or BadLine
    naming its kind (imps.core.notices' TOO_LONG, NOT_TEXT, WRONG_COUNT, NOT_A_NUMBER).
    The values are not clipped here: the performance logs them as they came and tells
    of any outside 0-1."""
    if len(line) > MAX_LINE:
        raise BadLine(TOO_LONG, f"more than {MAX_LINE} bytes without a line end")
    if _TEXT.fullmatch(line) is None:
        raise BadLine(NOT_TEXT, _shown(line))
    fields = [field for field in _SEPARATORS.split(line) if field]
    if len(fields) != count:
        raise BadLine(WRONG_COUNT, f"{len(fields)} values in {_shown(line)}, {count} expected")
    values = []
    for field in fields:
        try:
            value = float(field)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):  # nan and inf read as floats, but are no position of a control
            raise BadLine(NOT_A_NUMBER, f"{field.decode()!r} in {_shown(line)}")
        values.append(value / scale)
    return values


def _shown(line: bytes) -> str:
    """The line as a warning quotes it: its first 60 bytes."""
    return repr(line[:60])[1:] + ("..." if len(line) > 60 else "")


def format_line(values: Sequence[float]) -> bytes:
    """A prediction as the line a sketch reads: its numbers with 4 decimals, then `\\n`."""
    return (",".join(f"{v:.4f}" for v in values) + "\n").encode()


class LineSplitter:
    """Bytes as they come off the port, cut into lines: a line end (`\\n`, with any `\\r`
    before it) closes one. Of a line longer than MAX_LINE only its first MAX_LINE + 1
    bytes are kept, enough for parse_line to call it too long, so a sketch that never
    ends a line cannot fill the memory."""

    def __init__(self):
        self._pending = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        *ended, rest = data.split(b"\n")
        lines = []
        for piece in ended:
            self._add(piece)
            lines.append(bytes(self._pending).removesuffix(b"\r"))
            self._pending.clear()
        self._add(rest)
        return lines

    def _add(self, piece: bytes) -> None:
        # + 2: a line of MAX_LINE bytes and its `\r`, and one byte more says it is too long.
        self._pending += piece[:max(0, MAX_LINE + 2 - len(self._pending))]


@dataclass(frozen=True)
class PortInfo:
    device: str
    description: str


def available_ports() -> list[PortInfo]:
    """The serial ports pyserial sees (USB serial devices, built-in UARTs)."""
    return [PortInfo(port.device, port.description) for port in sorted(list_ports.comports())]


def find_port(wanted: str) -> str | None:
    """The device to open: `wanted` itself where that path exists (a pty or a udev link,
    which pyserial does not list), else the first listed port whose device or
    description contains it (in any case)."""
    if os.path.exists(wanted):
        return wanted
    fragment = wanted.casefold()
    return next((port.device for port in available_ports()
                 if fragment in port.device.casefold() or fragment in port.description.casefold()), None)


class SerialLink:
    """A performance's serial port: lines in become `on_event(values)` on the serial
    thread, `send` writes predictions, `notify` hears of bad lines and of the port going
    and coming back, and the counts go to the summary."""

    def __init__(self, config: SerialConfig, count: int, on_event: Callable[[list[float]], None],
                 notify: Callable[[Notice], None] = say):
        self.config, self.count, self.on_event, self.notify = config, count, on_event, notify
        self.received = 0  # events read and handed on
        self.rejected: Counter = Counter()  # bad lines by kind
        self.unsent = 0  # predictions not written: the port gone, or the device not reading
        self.times_gone = 0
        self._first_line = True  # the port has just opened: its first line may be a fragment
        self._tail = b""  # what the device had no room for of the last prediction, written first
        self._output_lock = threading.Lock()  # the player's writes, the serial thread's reopening
        self._stopping = threading.Event()
        device = find_port(config.port)
        if device is None:
            raise SerialPortNotFound(config.port, [f"{p.device} ({p.description})" for p in available_ports()])
        try:
            self.port = self._open(device)
        except OSError as error:  # pyserial's SerialException is one
            raise SerialOpenFailed(device, reason_of(error)) from None
        self.device = device
        self._reader = threading.Thread(target=self._run, name="serial-in", daemon=True)

    def _open(self, device: str) -> serial.Serial:
        """The port open, its stale input dropped."""
        # No timeout: the read blocks until bytes come, and stop cancels it. Exclusive: a
        # second IMPS (or a serial monitor) on the same port is refused, not left to take
        # half the lines.
        port = serial.Serial(device, self.config.baud, timeout=None, exclusive=True)
        port.reset_input_buffer()  # readings queued before IMPS listened are not this performance's
        return port

    def start(self) -> None:
        self._reader.start()

    # The serial thread.
    def _run(self) -> None:
        while not self._stopping.is_set():
            if self.port is None:
                self._reopen()
                continue
            try:
                self._read(self.port)
            except (serial.SerialException, OSError):
                if self._stopping.is_set():
                    return
                self._gone()

    def _read(self, port: serial.Serial) -> None:
        """Read the port, freshly opened, until it fails or the link stops."""
        splitter = LineSplitter()
        self._first_line = True
        while not self._stopping.is_set():
            data = port.read(1)  # blocks until a byte comes, the port fails, or stop cancels it
            if data and port.in_waiting:
                data += port.read(port.in_waiting)
            for line in splitter.feed(data):
                self._line(line)

    def _line(self, line: bytes) -> None:
        first, self._first_line = self._first_line, False
        try:
            values = parse_line(line, self.count, self.config.scale)
        except BadLine as bad:
            if first and bad.kind in (WRONG_COUNT, NOT_A_NUMBER, NOT_TEXT):
                self.rejected[CUT_SHORT] += 1  # the port opened mid-line: no fault of the sketch's
                return
            self.rejected[bad.kind] += 1
            if self.rejected[bad.kind] == 1:
                self.notify(SerialLineRejected(bad.kind, bad.detail, self.count))
            return
        self.received += 1
        try:
            self.on_event(values)
        except Exception as error:  # whatever goes wrong with one event must never end the input
            self.rejected[f"not handled ({type(error).__name__}: {error})"] += 1

    def _gone(self) -> None:
        with self._output_lock:
            port, self.port = self.port, None
        port.close()
        self.times_gone += 1
        self.notify(SerialPortGone(self.device, self.config.port))

    def _reopen(self) -> None:
        if self._stopping.wait(REOPEN_INTERVAL):
            return
        device = find_port(self.config.port)
        if device is None:
            return
        try:
            port = self._open(device)
        except OSError:  # there, but not ready (udev still setting it up): the next try
            return
        with self._output_lock:
            self.port, self.device, self._tail = port, device, b""
        self.notify(SerialPortBack(device))

    # The player's thread.
    def send(self, values: Sequence[float]) -> None:
        """Write a prediction's line without ever waiting on the device: a device that is
        not reading gets no more than its buffer holds, and the rest are counted."""
        with self._output_lock:
            if self.port is None:
                self.unsent += 1
                return
            line = format_line(values)
            try:
                if self._tail:
                    self._tail = self._tail[self._write(self._tail):]
                if self._tail:
                    self.unsent += 1
                    return
                self._tail = line[self._write(line):]  # the rest of a line cut short goes first next time
            except OSError:  # the port went: the serial thread finds out and says so
                self.unsent += 1

    def _write(self, data: bytes) -> int:
        try:
            return os.write(self.port.fileno(), data)  # pyserial opened it non-blocking
        except BlockingIOError:
            return 0

    def stop_input(self) -> None:
        self._stopping.set()
        if self._reader.is_alive():
            with self._output_lock:
                port = self.port
            if port is not None:
                port.cancel_read()
            self._reader.join(timeout=2 * REOPEN_INTERVAL)

    def close(self) -> None:
        """Stop reading and close the port (after the player has stopped)."""
        self.stop_input()
        with self._output_lock:
            port, self.port = self.port, None
        if port is not None:
            port.close()

    def describe(self) -> str:
        return f"serial on {self.device} at {self.config.baud} baud" + \
            (f" (values divided by {self.config.scale:g})" if self.config.scale != 1 else "")

    def summary_parts(self) -> list[str]:
        parts = [f"{self.received} serial events in"]
        if self.rejected:
            parts.append("serial lines rejected: " + ", ".join(f"{n} {kind}" for kind, n in sorted(self.rejected.items())))
        if self.times_gone:
            parts.append(f"serial port gone {self.times_gone} time{'s' if self.times_gone > 1 else ''}")
        if self.unsent:
            parts.append(f"{self.unsent} predictions not written to serial (port gone or device not reading)")
        return parts

