"""Random and malformed OSC packets, mixed with valid /interface messages, for
testing that the performance server survives whatever arrives.

Used by utils/reliability.py and tests/test_reliability.py.
"""

from __future__ import annotations

import math
import struct
import time
from dataclasses import dataclass

import numpy as np
from pythonosc.osc_message_builder import OscMessageBuilder


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
