"""Playing a running performance server from outside, as a musician's patch does:
free ports, predictive_music_model.py as a process of its own, packets sent at a
steady rate, and OSC packets good and bad (random and malformed packets mixed with
valid /interface messages), to show that the server survives whatever arrives.

Used by the benchmark and reliability scripts in utils/ and by the tests.
"""

from __future__ import annotations

import math
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pythonosc.osc_message_builder import OscMessageBuilder

from .sizes import log_glob

SERVER_SCRIPT = Path(__file__).resolve().parent.parent / "predictive_music_model.py"
READY = "Ctrl-C stops"  # the end of the line the server prints once it listens


def free_udp_port() -> int:
    """A UDP port on localhost that nothing is bound to right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def message(address: str, *args: tuple[str, object]) -> bytes:
    """An OSC message with explicitly typed arguments, e.g. ("f", 0.5)."""
    builder = OscMessageBuilder(address)
    for type_tag, value in args:
        builder.add_arg(value, type_tag)
    return builder.build().dgram


NTP_EPOCH_OFFSET = 2_208_988_800  # seconds from 1900 (NTP's epoch) to 1970
IMMEDIATELY = b"\x00" * 7 + b"\x01"


def an_hour_from_now() -> bytes:
    """An OSC time tag an hour ahead: a server honouring it would sit on the bundle."""
    return struct.pack(">II", int(time.time()) + NTP_EPOCH_OFFSET + 3600, 0)


def bundle(*contents: bytes, timetag: bytes = IMMEDIATELY) -> bytes:
    """An OSC bundle of messages or bundles, each element prefixed by its size."""
    return b"#bundle\x00" + timetag + b"".join(struct.pack(">i", len(c)) + c for c in contents)


@dataclass
class Packet:
    kind: str
    data: bytes
    valid_values: list[float] | None = None  # the /interface values a valid packet carries


def valid_interface(rng: np.random.Generator, n_values: int) -> Packet:
    values = [float(np.float32(v)) for v in rng.random(n_values)]
    return Packet("valid /interface", message("/interface", *(("f", v) for v in values)), values)


def malformed(rng: np.random.Generator, n_values: int) -> Packet:
    """One packet of a randomly chosen kind that the server must reject."""
    good = valid_interface(rng, n_values).data
    kinds = {
        "random bytes": lambda: rng.bytes(int(rng.integers(0, 200))),
        "wrong address": lambda: message("/" + "".join(rng.choice(list("abcxyz/"), 8)), ("f", 0.5)),
        "too few values": lambda: message("/interface", *(("f", 0.5),) * int(rng.integers(0, n_values))),
        "too many values": lambda: message("/interface", *(("f", 0.5),) * (n_values + int(rng.integers(1, 5)))),
        "strings": lambda: message("/interface", *(("s", "loud"),) * n_values),
        "ints and floats mixed with a blob": lambda: message(
            "/interface", *(("i", 1),) * (n_values - 1), ("b", b"\x00\x01")),
        "NaN": lambda: message("/interface", ("f", math.nan), *(("f", 0.5),) * (n_values - 1)),
        "infinity": lambda: message("/interface", *(("f", 0.5),) * (n_values - 1), ("f", math.inf)),
        "truncated": lambda: good[:int(rng.integers(1, len(good)))],
        "nested bundle of bad messages": lambda: bundle(
            bundle(message("/interface", ("s", "x")), timetag=an_hour_from_now()), message("/nowhere", ("f", 1.0))),
        "bad type tag": lambda: b"/interface\x00\x00,fZ\x00" + struct.pack(">ff", 0.5, 0.5),
    }
    kind = list(kinds)[int(rng.integers(len(kinds)))]
    return Packet(kind, kinds[kind]())


def packets(count: int, n_values: int, valid_fraction: float = 0.3, seed: int = 0) -> list[Packet]:
    """`count` packets, about `valid_fraction` of them valid /interface messages; a valid
    message also goes in a bundle now and then, which the server must accept."""
    rng = np.random.default_rng(seed)
    result = []
    for _ in range(count):
        if rng.random() < valid_fraction:
            packet = valid_interface(rng, n_values)
            if rng.random() < 0.1:
                packet = Packet("valid /interface in a future bundle", bundle(packet.data, timetag=an_hour_from_now()),
                                packet.valid_values)
            result.append(packet)
        else:
            result.append(malformed(rng, n_values))
    return result


class Stage:
    """predictive_music_model.py in a folder of its own, with a synth port to listen on."""

    def __init__(self, folder: Path, *flags: str, dimension: int = 9):
        self.folder = folder
        self.dimension = dimension
        self.port = free_udp_port()
        self.synth = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.synth.bind(("127.0.0.1", 0))
        self.process = subprocess.Popen(
            [sys.executable, str(SERVER_SCRIPT), "-d", str(dimension), "--log",
             "--serverip", "127.0.0.1", "--serverport", str(self.port), "--clientip", "127.0.0.1",
             "--clientport", str(self.synth.getsockname()[1]), *flags],
            cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.output: list[str] = []
        self._listening = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        if not self._listening.wait(30):
            raise RuntimeError("the server did not start:\n" + "\n".join(self.output))
        self.sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def _read(self):
        for line in self.process.stdout:
            self.output.append(line.rstrip())
            if READY in line:
                self._listening.set()

    def send(self, data: bytes) -> None:
        self.sender.sendto(data, ("127.0.0.1", self.port))

    @property
    def log(self) -> Path:
        return next((self.folder / "logs").glob(log_glob(self.dimension)))

    def logged_interface_lines(self) -> int:
        return self.log.read_bytes().count(b",interface,")

    def wait_for_lines(self, count: int, timeout: float = 30) -> int:
        """Wait until the log holds `count` of the musician's events; return how many it has."""
        deadline = time.monotonic() + timeout
        while (lines := self.logged_interface_lines()) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return lines

    def memory_mb(self, field: str = "VmRSS") -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(rf"{field}:\s+(\d+)", status).group(1)) / 1024

    def stop(self, sig: int = signal.SIGINT) -> tuple[int, float]:
        began = time.monotonic()
        self.process.send_signal(sig)
        code = self.process.wait(10)
        return code, time.monotonic() - began

    def summary(self) -> str:
        return next((line for line in self.output if line.startswith("stopped:")), "")


def paced(sender, packets, rate: float) -> None:
    """Send at about `rate` packets a second, in small bursts."""
    began = time.perf_counter()
    for i, data in enumerate(packets):
        sender(data)
        if i % 50 == 49:
            delay = began + (i + 1) / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
