"""OSC in and out: validate what arrives, send predictions.

python-osc does the wire format. This module decides what a well-formed message is,
turns bad ones into rate-limited one-line warnings and counts, and keeps the server
from ever sleeping on a bundle's time tag (python-osc's strict timing would).
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import math
import socket
import struct
import threading
import time
from collections import Counter
from typing import Callable

from pythonosc import osc_packet
from pythonosc.parsing import osc_types
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_message_builder import OscMessageBuilder

from ..core.errors import OSCError
from ..core.notices import Notice, OscRejected, say

INTERFACE = "/interface"
PREDICTION = "/prediction"
TEMPERATURE = "/temperature"
TIMESCALE = "/timescale"
MODE = "/mode"
RESET = "/reset"
PAUSE = "/pause"


class RateLimitedWarner:
    """Tells `notify` of a rejection at most once per `interval` seconds, with how many
    like it were held back, so a flood of bad packets cannot flood the terminal."""

    def __init__(self, interval: float = 1.0, notify: Callable[[Notice], None] = say):
        self.interval = interval
        self.notify = notify
        self._last = -math.inf
        self._held = 0
        self._lock = threading.Lock()

    def warn(self, problem: str) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._last < self.interval:
                self._held += 1
                return
            held, self._held, self._last = self._held, 0, now
        self.notify(OscRejected(problem, held))


class BadArguments(ValueError):
    """A message whose arguments are not what its address takes; says what came."""


def parse_values(args: tuple, count: int) -> list[float]:
    """The message's arguments as `count` finite floats, or BadArguments."""
    if len(args) != count:
        raise BadArguments(f"expected {count} floats, got {len(args)} arguments")
    values = []
    for arg in args:
        if isinstance(arg, bool) or not isinstance(arg, (int, float)):
            raise BadArguments(f"expected {count} floats, got {type(arg).__name__} {arg!r}")
        if not math.isfinite(arg):
            raise BadArguments(f"expected {count} finite floats, got {arg!r}")
        values.append(float(arg))
    return values


class RejectCountingDispatcher(Dispatcher):
    """A dispatcher that counts what it cannot use instead of passing over it silently."""

    def __init__(self, on_reject: Callable[[str, str], None]):
        super().__init__(strict_timing=False)
        self._on_reject = on_reject
        self.set_default_handler(self._unknown_address)

    def _unknown_address(self, address: str, *args) -> None:
        self._on_reject("unknown address", f"messages to {address} are not understood")

    def call_handlers_for_packet(self, data: bytes, client_address):
        problem = _packet_problem(data)
        if problem is None:
            try:
                packet = osc_packet.OscPacket(data)
                problem = next(filter(None, (_message_problem(m.message.dgram) for m in packet.messages)), None)
            except Exception as error:  # any failure to parse untrusted bytes is a malformed packet
                problem = str(error) or type(error).__name__
        if problem is not None:
            self._on_reject("malformed packet", f"could not parse a {len(data)}-byte packet ({problem})")
            return []
        # Handlers run at once whatever a bundle's time tag says: waiting on one would stall the server.
        for timed_message in packet.messages:
            for handler in self.handlers_for_address(timed_message.message.address):
                handler.invoke(client_address, timed_message.message)
        return []


# Bytes each fixed-width OSC argument type takes; python-osc zero-pads a cut-off one.
_ARGUMENT_BYTES = {"i": 4, "f": 4, "c": 4, "r": 4, "m": 4, "d": 8, "h": 8, "t": 8,
                   "T": 0, "F": 0, "N": 0, "I": 0, "[": 0, "]": 0}
_VARIABLE_WIDTH = {"s", "b"}  # python-osc checks these lengths itself


def _packet_problem(data: bytes) -> str | None:
    if len(data) % 4:
        return "OSC packets are whole 4-byte words"
    if not data.startswith((b"/", b"#bundle\x00")):
        return "not an OSC message or bundle"
    return None


def _message_problem(dgram: bytes) -> str | None:
    """What python-osc lets through but OSC forbids: unknown type tags (which it skips)
    and arguments cut short (which it pads with zeros)."""
    _, index = osc_types.get_string(dgram, 0)
    if index >= len(dgram):
        return None  # no type tags, no arguments: an old-style message python-osc reads as such
    tags, index = osc_types.get_string(dgram, index)
    unknown = set(tags[1:]) - _ARGUMENT_BYTES.keys() - _VARIABLE_WIDTH
    if unknown:
        return f"unknown type tag {''.join(sorted(unknown))!r}"
    if not _VARIABLE_WIDTH & set(tags) and len(dgram) < index + sum(_ARGUMENT_BYTES[t] for t in tags[1:]):
        return "arguments cut short"
    return None


class _QuietUnknownTypeTags(logging.Filter):
    """python-osc warns on the root logger, once per packet, about type tags it does not
    know; such packets are rejected and counted here instead, so drop its warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno == logging.WARNING and record.getMessage().startswith("Unhandled parameter type"))


logging.getLogger().addFilter(_QuietUnknownTypeTags())


RECEIVE_BUFFER_BYTES = 16 * 1024 * 1024  # seconds of a flood, queued by the kernel, not dropped


class OSCServer:
    """A UDP OSC server on its own thread. The thread sleeps in recvfrom() until a packet
    arrives (no polling); stop() wakes it with an empty datagram to itself."""

    def __init__(self, ip: str, port: int, handlers: dict[str, Callable], warner: RateLimitedWarner | None = None):
        self.rejects: Counter = Counter()
        self.warner = warner or RateLimitedWarner()
        self.dispatcher = RejectCountingDispatcher(self.reject)
        for address, handler in handlers.items():
            self.dispatcher.map(address, handler)
        self._stopping = False
        try:
            family, _, _, _, address = socket.getaddrinfo(ip, port, type=socket.SOCK_DGRAM)[0]
            self._socket = socket.socket(family, socket.SOCK_DGRAM)
            enlarge_receive_buffer(self._socket)
            self._socket.bind(address)
        except OSError as error:
            if getattr(self, "_socket", None) is not None:
                self._socket.close()
            raise OSCError(ip, port, error.errno == errno.EADDRINUSE, error.strerror or str(error)) from None
        self._thread = threading.Thread(target=self._serve, name="osc-server", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        return self._socket.getsockname()[:2]

    def reject(self, kind: str, message: str) -> None:
        self.rejects[kind] += 1
        self.warner.warn(message)

    def _serve(self) -> None:
        while True:
            try:
                data, client = self._socket.recvfrom(65536)
            except OSError:
                return  # the socket was closed
            if self._stopping:
                return
            self.handle(data, client)

    def handle(self, data: bytes, client) -> None:
        """One packet, from this socket or another way in (the web's WebSocket): checked,
        counted and dispatched alike."""
        try:
            self.dispatcher.call_handlers_for_packet(data, client)
        except Exception as error:  # a handler's failure must not end the performance
            self.reject("handler error", f"a message could not be handled ({type(error).__name__}: {error})")

    def start(self) -> None:
        self._thread.start()

    @property
    def serving(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        self._stopping = True
        if self._thread.is_alive():
            host, port = self.address
            wake_host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
            with socket.socket(self._socket.family, socket.SOCK_DGRAM) as waker:
                waker.sendto(b"", (wake_host, port))
            self._thread.join(timeout=1.0)
        self._socket.close()


def enlarge_receive_buffer(sock: socket.socket) -> None:
    """Ask for a large kernel queue; as root, past the system's usual cap."""
    for option in (getattr(socket, "SO_RCVBUFFORCE", None), socket.SO_RCVBUF):
        if option is None:
            continue
        try:
            sock.setsockopt(socket.SOL_SOCKET, option, RECEIVE_BUFFER_BYTES)
            return
        except OSError:
            continue


def is_loopback(ip: str) -> bool:
    """Whether every address `ip` names is this machine's own (IPv4 or IPv6)."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(ip, None, type=socket.SOCK_DGRAM)}
        return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)
    except (OSError, ValueError):
        return False


class PredictionSender:
    """Sends `/prediction x1 ... xN` to the synth. python-osc encodes the address and type
    tags once; each send only packs the floats, an order of magnitude cheaper than
    building the message anew, which matters when a flood of input is being answered."""

    def __init__(self, ip: str, port: int, n_values: int):
        message = OscMessageBuilder(PREDICTION)
        for _ in range(n_values):
            message.add_arg(0.0, OscMessageBuilder.ARG_TYPE_FLOAT)
        self._header = message.build().dgram[:-4 * n_values]
        self._floats = struct.Struct(f">{n_values}f")
        self._address = socket.getaddrinfo(ip, port, type=socket.SOCK_DGRAM)[0]
        self._socket = socket.socket(self._address[0], socket.SOCK_DGRAM)

    def packet(self, values) -> bytes:
        """The /prediction message's bytes, as sent to the synth (and to browser instruments)."""
        return self._header + self._floats.pack(*values)

    def send(self, values) -> None:
        self._socket.sendto(self._header + self._floats.pack(*values), self._address[4])

    def close(self) -> None:
        self._socket.close()
