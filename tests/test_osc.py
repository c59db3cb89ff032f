"""imps.perform.osc: message validation, rate-limited warnings, and the OSC server and sender
over real UDP sockets on localhost."""

from __future__ import annotations

import math
import socket
import struct
import threading
import time
import types

import numpy as np
import pytest
from pythonosc import osc_bundle_builder, osc_message_builder
from pythonosc.udp_client import SimpleUDPClient

from conftest import Recorder
from imps.core.cli import explain
from imps.core.errors import OSCError
from imps.core.notices import words
from imps.perform import osc
from imps.perform.osc import (INTERFACE, PREDICTION, BadArguments, OSCServer, PredictionSender, RateLimitedWarner,
                              is_loopback, parse_values)



def message(address: str, *args) -> bytes:
    builder = osc_message_builder.OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)
    return builder.build().dgram


# parse_values


def test_parse_values_accepts_the_right_number_of_floats():
    assert parse_values((0.25, 0.5, 1.0), 3) == [0.25, 0.5, 1.0]


def test_parse_values_accepts_ints_as_floats():
    values = parse_values((0, 1, 0.5), 3)
    assert values == [0.0, 1.0, 0.5]
    assert all(type(v) is float for v in values)


@pytest.mark.parametrize("args", [(), (0.5,), (0.5, 0.5, 0.5)])
def test_parse_values_rejects_the_wrong_count(args):
    with pytest.raises(BadArguments, match=f"expected 2 floats, got {len(args)} arguments"):
        parse_values(args, 2)


@pytest.mark.parametrize("bad", [True, False, "0.5", b"\x00", None, [0.5]])
def test_parse_values_rejects_non_numbers_and_bools(bad):
    with pytest.raises(BadArguments, match=f"expected 2 floats, got {type(bad).__name__} "):
        parse_values((0.5, bad), 2)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_parse_values_rejects_nan_and_infinity(bad):
    with pytest.raises(BadArguments, match="expected 2 finite floats"):
        parse_values((bad, 0.5), 2)


# RateLimitedWarner


@pytest.fixture
def clock(monkeypatch):
    """A settable monotonic clock for imps.perform.osc only (time itself is left alone)."""
    now = [100.0]
    monkeypatch.setattr(osc, "time", types.SimpleNamespace(monotonic=lambda: now[0]))
    return now


def test_warner_emits_once_per_interval_and_reports_how_many_were_held_back(clock):
    emitted = []
    warner = RateLimitedWarner(interval=1.0, notify=lambda notice: emitted.append(words(notice)))
    warner.warn("first")
    assert emitted == ["warning: first"]
    clock[0] += 0.5
    warner.warn("second")
    clock[0] += 0.4
    warner.warn("third")
    assert emitted == ["warning: first"]
    clock[0] += 0.1  # a whole interval after the first
    warner.warn("fourth")
    assert emitted == ["warning: first", "warning: fourth (2 more warnings held back)"]
    clock[0] += 0.3
    warner.warn("fifth")
    clock[0] += 5.0
    warner.warn("sixth")
    assert emitted[2:] == ["warning: sixth (1 more warnings held back)"]
    clock[0] += 5.0
    warner.warn("seventh")  # nothing held back since the last one: no count
    assert emitted[3:] == ["warning: seventh"]


def test_warner_with_a_tiny_interval_emits_every_warning():
    emitted = []
    warner = RateLimitedWarner(interval=0.0, notify=lambda notice: emitted.append(words(notice)))
    for n in range(5):
        warner.warn(f"w{n}")
    assert emitted == [f"warning: w{n}" for n in range(5)]


def test_warner_counts_every_warning_from_many_threads(clock):
    emitted = []
    warner = RateLimitedWarner(interval=1.0, notify=lambda notice: emitted.append(words(notice)))
    start = threading.Barrier(8)

    def flood():
        start.wait()
        for _ in range(50):
            warner.warn("flood")

    threads = [threading.Thread(target=flood) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert emitted == ["warning: flood"]
    clock[0] += 1.0
    warner.warn("after")
    assert emitted[1] == "warning: after (399 more warnings held back)"


# OSCServer


class Harness:
    """An OSCServer on a free localhost port with recording handlers and warnings."""

    def __init__(self, port: int, addresses=(INTERFACE, "/other")):
        self.calls = Recorder()
        self.warnings = Recorder(whole_call=False)
        handlers = {address: self.calls for address in addresses}
        warner = RateLimitedWarner(interval=0.0, notify=lambda notice: self.warnings.add(words(notice)))
        self.server = OSCServer("127.0.0.1", port, handlers, warner)
        self.port = port
        self.client = SimpleUDPClient("127.0.0.1", port)
        self.raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def send_raw(self, data: bytes) -> None:
        self.raw.sendto(data, ("127.0.0.1", self.port))

    def close(self) -> None:
        self.raw.close()
        self.server.stop()


@pytest.fixture
def harness(udp_port):
    h = Harness(udp_port)
    h.server.start()
    yield h
    h.close()


def test_server_address_is_where_it_listens(harness, udp_port):
    assert harness.server.address == ("127.0.0.1", udp_port)


def test_server_calls_the_handler_mapped_to_each_address(harness):
    harness.client.send_message(INTERFACE, [0.25, 0.5])
    harness.client.send_message("/other", [1.0])
    calls = harness.calls.wait_for(2)
    assert calls == [(INTERFACE, 0.25, 0.5), ("/other", 1.0)]
    assert not harness.server.rejects
    assert harness.warnings.items == []


def test_server_counts_messages_to_unknown_addresses(harness):
    harness.client.send_message("/nobody/listens", [0.5])
    harness.client.send_message(INTERFACE, [0.5])  # is served after the unknown one
    assert harness.calls.wait_for(1) == [(INTERFACE, 0.5)]
    assert harness.server.rejects == {"unknown address": 1}
    assert len(harness.warnings.items) == 1
    assert "/nobody/listens" in harness.warnings.items[0]
    assert harness.warnings.items[0].startswith("warning: ")


GOOD = message(INTERFACE, 0.25, 0.5)  # /interface\0\0 ,ff\0 float float: 24 bytes
BUNDLE = b"#bundle\x00" + b"\x00" * 7 + b"\x01" + struct.pack(">i", len(GOOD)) + GOOD
MALFORMED = {
    "not osc at all": b"\x00\x01garbage\xff",
    "text": b"hello there",
    "empty": b"",
    "truncated address": GOOD[:7],
    "truncated type tags": GOOD[:13],
    "truncated first float": GOOD[:16],
    "last float cut short": GOOD[:-2],
    "double without its bytes": b"/interface\x00\x00,d\x00\x00\x00\x00",
    "address not utf-8": b"/\xff\xfe\x00,f\x00\x00" + struct.pack(">f", 0.5),
    "string argument not utf-8": b"/interface\x00\x00,s\x00\x00\xc3\x28\x00\x00",
    "truncated bundle time tag": BUNDLE[:12],
    "truncated bundle element": BUNDLE[:24],
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_server_counts_a_malformed_packet_and_keeps_serving(harness, name):
    harness.send_raw(MALFORMED[name])
    harness.client.send_message(INTERFACE, [0.75, 1.0])
    assert harness.calls.wait_for(1) == [(INTERFACE, 0.75, 1.0)]
    assert harness.server.rejects == {"malformed packet": 1}
    assert len(harness.warnings.items) == 1
    assert "could not parse" in harness.warnings.items[0]
    assert f"{len(MALFORMED[name])}-byte packet" in harness.warnings.items[0]


def test_server_survives_a_flood_of_garbage(harness):
    rng = np.random.default_rng(0)
    not_osc = [b"\x00" + rng.bytes(int(n)) for n in rng.integers(0, 40, 100)]
    osc_like = [b"/" + rng.bytes(int(n)) for n in rng.integers(0, 40, 100)]
    for packet in not_osc:
        harness.send_raw(packet)
    harness.client.send_message(INTERFACE, [0.5, 0.5])
    assert harness.calls.wait_for(1) == [(INTERFACE, 0.5, 0.5)]
    assert harness.server.rejects == {"malformed packet": len(not_osc)}
    for packet in osc_like:
        harness.send_raw(packet)
    harness.client.send_message(INTERFACE, [0.25, 0.25])
    calls = harness.calls.wait_for(2)
    # The server still answers, and every garbage packet was either counted or (if it happened
    # to parse) handed to a handler: none vanished silently.
    assert calls[-1] == (INTERFACE, 0.25, 0.25)
    accounted = len(calls) - 2 + sum(harness.server.rejects.values()) - len(not_osc)
    assert accounted >= len(osc_like)
    assert set(harness.server.rejects) <= {"malformed packet", "unknown address"}


def test_a_good_bundle_is_handled(harness):
    harness.send_raw(BUNDLE)
    assert harness.calls.wait_for(1) == [(INTERFACE, 0.25, 0.5)]
    assert not harness.server.rejects


def test_a_bundle_time_tag_in_the_far_future_is_handled_at_once(harness):
    bundle = osc_bundle_builder.OscBundleBuilder(time.time() + 3600.0)
    bundle.add_content(osc_message_builder.OscMessageBuilder(INTERFACE).build())
    builder = osc_message_builder.OscMessageBuilder(INTERFACE)
    builder.add_arg(0.125)
    bundle.add_content(builder.build())
    harness.client.send(bundle.build())
    # An hour's time tag: if the server waited on it, this would time out.
    calls = harness.calls.wait_for(2)
    assert sorted(calls) == [(INTERFACE,), (INTERFACE, 0.125)]
    # and it is not asleep on it either: the next message is served too
    harness.client.send_message("/other", [0.5])
    assert harness.calls.wait_for(3)[2] == ("/other", 0.5)
    assert not harness.server.rejects


def test_a_nested_bundle_reaches_its_handlers(harness):
    inner = osc_bundle_builder.OscBundleBuilder(time.time() + 60.0)
    inner.add_content(osc_message_builder.OscMessageBuilder("/other").build())
    outer = osc_bundle_builder.OscBundleBuilder(osc_bundle_builder.IMMEDIATELY)
    outer.add_content(inner.build())
    harness.client.send(outer.build())
    assert harness.calls.wait_for(1) == [("/other",)]


def test_port_already_in_use_names_the_port_and_the_flag(udp_port):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", udp_port))
        with pytest.raises(OSCError) as caught:
            OSCServer("127.0.0.1", udp_port, {})
    error = caught.value
    assert (error.ip, error.port, error.in_use) == ("127.0.0.1", udp_port, True)
    assert str(error) == f"port {udp_port} on 127.0.0.1 is already in use"
    assert explain(error) == f"{error}: close the other program or choose another port with --serverport"


def test_an_address_that_is_not_this_machines_is_an_oscerror(udp_port):
    with pytest.raises(OSCError) as caught:
        OSCServer("192.0.2.1", udp_port, {})  # TEST-NET-1: never a local address
    assert str(caught.value).startswith(f"cannot listen on 192.0.2.1:{udp_port} (")
    assert not caught.value.in_use
    assert explain(caught.value).endswith(": check --serverip and --serverport")


def test_stop_frees_the_port(udp_port):
    server = OSCServer("127.0.0.1", udp_port, {})
    server.start()
    server.stop()
    again = OSCServer("127.0.0.1", udp_port, {})  # would raise "already in use" if still bound
    again.stop()  # never started: stop only closes


# PredictionSender


def test_prediction_sender_sends_floats_to_prediction(osc_receiver):
    sender = PredictionSender("127.0.0.1", osc_receiver.port, 3)
    sender.send(np.array([0.25, 0.5, 1.0]))
    sender.send([0, 1, 0])  # ints go out as floats, as a synth patch expects
    sender.send(np.array([0.5, 0.75, 0.125], np.float32))
    messages = osc_receiver.wait_for(3)
    assert [(address, args) for _, address, args in messages] == [
        (PREDICTION, (0.25, 0.5, 1.0)),
        (PREDICTION, (0.0, 1.0, 0.0)),
        (PREDICTION, (0.5, 0.75, 0.125)),
    ]
    for _, _, args in messages:
        assert all(type(v) is float for v in args)


def test_prediction_sender_bytes_are_what_python_osc_builds():
    from pythonosc.osc_message_builder import OscMessageBuilder

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as synth:
        synth.bind(("127.0.0.1", 0))
        PredictionSender("127.0.0.1", synth.getsockname()[1], 2).send([0.25, 1.0])
        builder = OscMessageBuilder(PREDICTION)
        builder.add_arg(0.25, "f")
        builder.add_arg(1.0, "f")
        assert synth.recv(1024) == builder.build().dgram


# is_loopback


@pytest.mark.parametrize("ip", ["127.0.0.1", "localhost", "127.0.0.2"])
def test_loopback_addresses(ip):
    assert is_loopback(ip) is True


@pytest.mark.parametrize("ip", ["192.0.2.1", "0.0.0.0", "10.1.2.3", "256.1.1.1", "not a host name!"])
def test_other_addresses_are_not_loopback(ip):
    assert is_loopback(ip) is False
