"""OSC in and out: validate what arrives, send predictions.

python-osc does the wire format. This module decides what a well-formed message is,
turns bad ones into rate-limited one-line warnings and counts, and keeps the server
from ever sleeping on a bundle's time tag (python-osc's strict timing would).
"""

from __future__ import annotations

import errno
import ipaddress
import math
import socket
import threading
import time
from collections import Counter
from typing import Callable

from pythonosc import osc_packet
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import BlockingOSCUDPServer
from pythonosc.udp_client import SimpleUDPClient

INTERFACE = "/interface"
PREDICTION = "/prediction"
TEMPERATURE = "/temperature"
TIMESCALE = "/timescale"


class OSCError(Exception):
    """A server that cannot start, with a message for the musician."""


class RateLimitedWarner:
    """Prints a warning at most once per `interval` seconds, saying how many like it
    were held back, so a flood of bad packets cannot flood the terminal."""

    def __init__(self, interval: float = 1.0, emit: Callable[[str], None] = print):
        self.interval = interval
        self.emit = emit
        self._last = -math.inf
        self._held = 0
        self._lock = threading.Lock()

    def warn(self, message: str) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._last < self.interval:
                self._held += 1
                return
            held, self._held, self._last = self._held, 0, now
        self.emit(f"warning: {message}" + (f" ({held} more warnings held back)" if held else ""))


def parse_values(args: tuple, count: int) -> list[float] | str:
    """The message's arguments as floats, or a description of what is wrong with them."""
    if len(args) != count:
        return f"expected {count} floats, got {len(args)} arguments"
    values = []
    for arg in args:
        if isinstance(arg, bool) or not isinstance(arg, (int, float)):
            return f"expected {count} floats, got {type(arg).__name__} {arg!r}"
        if not math.isfinite(arg):
            return f"expected {count} finite floats, got {arg!r}"
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
        # Handlers run at once whatever a bundle's time tag says: waiting on one would stall the server.
        if len(data) % 4:
            # OSC packets are whole 32-bit words; python-osc would zero-pad a cut-off float.
            self._on_reject("malformed packet", f"could not parse a {len(data)}-byte packet (OSC packets are whole 4-byte words)")
            return []
        try:
            packet = osc_packet.OscPacket(data)
        except (osc_packet.ParseError, UnicodeDecodeError) as error:  # python-osc decodes strings as UTF-8
            self._on_reject("malformed packet", f"could not parse a {len(data)}-byte packet ({error})")
            return []
        for timed_message in packet.messages:
            for handler in self.handlers_for_address(timed_message.message.address):
                handler.invoke(client_address, timed_message.message)
        return []


class _CountingUDPServer(BlockingOSCUDPServer):
    def verify_request(self, request, client_address) -> bool:
        # python-osc silently drops datagrams that do not start like OSC; let the dispatcher count them.
        return True


class OSCServer:
    """A UDP OSC server on its own thread. Its loop blocks in select() and wakes twice
    a second to check for shutdown: no busy waiting."""

    def __init__(self, ip: str, port: int, handlers: dict[str, Callable], warner: RateLimitedWarner | None = None,
                 port_flag: str = "--serverport"):
        self.rejects: Counter = Counter()
        self.warner = warner or RateLimitedWarner()
        dispatcher = RejectCountingDispatcher(self.reject)
        for address, handler in handlers.items():
            dispatcher.map(address, handler)
        try:
            self._server = _CountingUDPServer((ip, port), dispatcher)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise OSCError(f"port {port} on {ip} is already in use: close the other program or choose another "
                               f"port with {port_flag}") from None
            raise OSCError(f"cannot listen on {ip}:{port} ({error.strerror}): check the address and {port_flag}") from None
        self._thread = threading.Thread(target=self._server.serve_forever, name="osc-server", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        return self._server.server_address[:2]

    def reject(self, kind: str, message: str) -> None:
        self.rejects[kind] += 1
        self.warner.warn(message)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()


def is_loopback(ip: str) -> bool:
    """Whether every address `ip` names is this machine's own (IPv4 or IPv6)."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(ip, None, type=socket.SOCK_DGRAM)}
        return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)
    except (OSError, ValueError):
        return False


class PredictionSender:
    """Sends `/prediction x1 ... xN` to the synth."""

    def __init__(self, ip: str, port: int):
        self._client = SimpleUDPClient(ip, port)

    def send(self, values) -> None:
        self._client.send_message(PREDICTION, [float(v) for v in values])
