#!/usr/bin/env python3
"""IMPS's OSC receive loop and sender against python-osc's own, as tables for docs/hand-written.md.

    python utils/benchmark_osc.py            # about half a minute

Both servers get the same strict validation (imps.perform.osc.RejectCountingDispatcher), so
only the receive loop differs: IMPS's thread sleeping in recvfrom() on a socket with
a 16 MB kernel queue, against python-osc's BlockingOSCUDPServer (socketserver) given
the same queue. On what matters on stage:

- fuzz: 10,000 packets, good and bad, at 5,000 a second: are all valid /interface
  messages handled, and is the server still up?
- flood: 20,000 /interface a second for 5 s from another process: how many are handled?
- stop: seconds from asking the server to stop to its thread ending (median and most
  of ten stops).
- idle: CPU used by the server over 5 s with nothing arriving.
- large: a well-formed 9,000-byte /interface message: is it parsed whole?

and the sender: IMPS's PredictionSender (the header built once) against python-osc's
SimpleUDPClient.send_message, for 8 floats.
"""

from __future__ import annotations

import bootstrap  # noqa: F401  (first: one BLAS thread as the server runs; tests/harness)

import argparse
import socket
import threading
import time

import numpy as np
from pythonosc.osc_server import BlockingOSCUDPServer
from pythonosc.udp_client import SimpleUDPClient

import harness
from imps.perform.osc import (INTERFACE, RECEIVE_BUFFER_BYTES, BadArguments, OSCServer, PredictionSender,
                              RateLimitedWarner, RejectCountingDispatcher, enlarge_receive_buffer, parse_values)
from harness import free_udp_port, paced

N_VALUES = 8

class Counted:
    """What a server's /interface handler saw."""

    def __init__(self):
        self.handled = 0
        self.largest = 0

    def interface(self, address, *args):
        """As the performance server's handler: only N_VALUES finite floats count."""
        self.largest = max(self.largest, len(args))
        try:
            parse_values(args, N_VALUES)
        except BadArguments:
            return
        self.handled += 1


class IMPSLoop:
    name = "IMPS (recvfrom thread)"

    def __init__(self, counted: Counted):
        self.port = free_udp_port()
        self.server = OSCServer("127.0.0.1", self.port, {INTERFACE: counted.interface},
                                RateLimitedWarner(notify=lambda notice: None))
        self.server.start()

    @property
    def serving(self) -> bool:
        return self.server.serving

    def stop(self) -> None:
        self.server.stop()


class PythonOSCLoop:
    name = "python-osc BlockingOSCUDPServer"

    def __init__(self, counted: Counted):
        dispatcher = RejectCountingDispatcher(lambda kind, message: None)
        dispatcher.map(INTERFACE, counted.interface)
        self.server = BlockingOSCUDPServer(("127.0.0.1", 0), dispatcher)
        enlarge_receive_buffer(self.server.socket)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def serving(self) -> bool:
        return self.thread.is_alive()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def settle(counted: Counted, expected: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while counted.handled < expected and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)


def measure(loop_class) -> dict:
    row = {}
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    counted = Counted()
    loop = loop_class(counted)
    packets = harness.packets(10_000, N_VALUES, seed=7)
    valid = sum(1 for p in packets if p.valid_values is not None)
    paced(lambda data: sender.sendto(data, ("127.0.0.1", loop.port)), [p.data for p in packets], 5000)
    settle(counted, valid)
    row["fuzz"] = f"{counted.handled:,} of {valid:,}, {'up' if loop.serving else 'DOWN'}"

    counted.handled = 0
    sent = harness.flood(loop.port, N_VALUES, rate=20_000, seconds=5)
    settle(counted, sent)
    row["flood"] = f"{counted.handled:,} of {sent:,}"

    values = [0.5] * 2250  # 2250 floats: a 9,000-byte message, well-formed OSC
    SimpleUDPClient("127.0.0.1", loop.port).send_message(INTERFACE, values)
    time.sleep(0.5)
    row["large"] = "parsed whole" if counted.largest == len(values) else "cut short at 8 kB, rejected"

    cpu_before = time.process_time()
    time.sleep(5.0)
    row["idle"] = f"{(time.process_time() - cpu_before) / 5.0 * 100:.2f}%"

    loop.stop()
    sender.close()
    stops = []
    for k in range(10):  # python-osc looks for a stop request every half second: sample that cycle
        loop = loop_class(Counted())
        time.sleep(0.05 * k)
        began = time.perf_counter()
        loop.stop()
        stops.append(time.perf_counter() - began)
    row["stop"] = f"{np.median(stops):.3f} / {max(stops):.3f}"
    return row


def send_times(send, reps: int) -> np.ndarray:
    values = [0.5] * N_VALUES
    times = np.empty(reps)
    for i in range(reps):
        began = time.perf_counter()
        send(values)
        times[i] = time.perf_counter() - began
    return times * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=20_000, help="sends timed per sender")
    args = parser.parse_args()
    print(f"\n### Receiving: the same strict validation, two loops, {RECEIVE_BUFFER_BYTES >> 20} MB kernel queue\n")
    print("| loop | fuzz: valid handled | flood: handled | 9 kB message | idle CPU | seconds to stop (median / max) |")
    print("| --- | --- | --- | --- | ---: | ---: |")
    for loop_class in (IMPSLoop, PythonOSCLoop):
        row = measure(loop_class)
        print(f"| {loop_class.name} | {row['fuzz']} | {row['flood']} | {row['large']} | {row['idle']} | "
              f"{row['stop']} |", flush=True)

    port = free_udp_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink:
        sink.bind(("127.0.0.1", port))
        ours = PredictionSender("127.0.0.1", port, N_VALUES)
        theirs = SimpleUDPClient("127.0.0.1", port)
        senders = {"IMPS PredictionSender": ours.send,
                   "python-osc SimpleUDPClient": lambda values: theirs.send_message("/prediction", values)}
        print(f"\n### Sending one /prediction of {N_VALUES} floats (µs)\n")
        print("| sender | median | p99 |")
        print("| --- | ---: | ---: |")
        for name, send in senders.items():
            times = send_times(send, args.reps)
            print(f"| {name} | {np.median(times):.1f} | {np.percentile(times, 99):.1f} |", flush=True)
        ours.close()


if __name__ == "__main__":
    main()
