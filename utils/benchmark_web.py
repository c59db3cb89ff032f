#!/usr/bin/env python3
"""The web page's cost and speed, as the table in docs/web.md.

    python utils/benchmark_web.py            # about half a minute

The real server script in polyphony (9 dimensions, the default model, /timescale 0 so
that a prediction is sent as soon as it is made) is measured from outside:

- latency: from sending an /interface to its /prediction arriving, median and 99th
  percentile, over UDP to the synth's socket and over the page's WebSocket (/ws/osc)
  back to the same client; UDP again with a page watching (/ws/watch), and UDP
  without --web at all, to show what the web costs the performance.
- load: the process's CPU time (user + system, from /proc) over some seconds, as a share
  of one core, and how many times a second its threads were woken (their voluntary
  context switches: exact, where CPU time comes in 10 ms ticks): idle with no page open,
  idle with a page open, and playing 200 events a second with and without a page watching.
"""

from __future__ import annotations

import bootstrap  # noqa: F401  (first: one BLAS thread as the server runs; tests/harness)

import argparse
import asyncio
import socket
import tempfile
import time
from pathlib import Path

import numpy as np
import websockets

from harness import ServerProcess, cpu_seconds, free_udp_port, latency_table, message, wakeups
from harness.web import Watcher, free_tcp_port

DIMENSION = 9


def interface(rng: np.random.Generator) -> bytes:
    return message("/interface", *(("f", float(v)) for v in rng.random(DIMENSION - 1)))


class Measured:
    """The script in polyphony, its OSC port, a synth socket, and its web port if any."""

    def __init__(self, folder: Path, web: bool):
        self.osc_port = free_udp_port()
        self.synth = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.synth.bind(("127.0.0.1", 0))
        self.synth.settimeout(5)
        self.web_port = free_tcp_port() if web else None
        self.server = ServerProcess("-d", str(DIMENSION), "--polyphony", "--nokeys", "--serverport",
                                    str(self.osc_port), "--clientport", str(self.synth.getsockname()[1]),
                                    *(["--web", str(self.web_port)] if web else []), cwd=folder)
        if not self.server.wait_ready(60):
            raise SystemExit("the server did not start:\n" + self.server.output)
        self.patch = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.send(message("/timescale", ("f", 0.0)))

    def send(self, packet: bytes) -> None:
        self.patch.sendto(packet, ("127.0.0.1", self.osc_port))

    def udp_latencies(self, count: int, gap: float) -> np.ndarray:
        rng = np.random.default_rng(0)
        times = []
        for _ in range(count):
            began = time.perf_counter()
            self.send(interface(rng))
            self.synth.recv(4096)
            times.append(time.perf_counter() - began)
            time.sleep(gap)
        return np.array(times)

    def load(self, seconds: float, rate: float = 0.0) -> tuple[float, float]:
        """The process's CPU over `seconds`, as a share of one core, and how many times a
        second its threads were woken, while `rate` events a second arrive."""
        pid = self.server.process.pid
        rng = np.random.default_rng(1)
        began, cpu, woken = time.monotonic(), cpu_seconds(pid), wakeups(pid)
        sent = 0
        while (now := time.monotonic()) < began + seconds:
            if rate:
                self.send(interface(rng))
                sent += 1
                time.sleep(max(0.0, began + sent / rate - time.monotonic()))
            else:
                time.sleep(began + seconds - now)
        elapsed = time.monotonic() - began
        return (cpu_seconds(pid) - cpu) / elapsed, (wakeups(pid) - woken) / elapsed

    def stop(self) -> None:
        self.server.stop()
        self.synth.close()
        self.patch.close()


async def ws_latencies(port: int, count: int, gap: float) -> np.ndarray:
    rng = np.random.default_rng(0)
    times = []
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/osc") as instrument:
        for _ in range(count):
            began = time.perf_counter()
            await instrument.send(interface(rng))
            await instrument.recv()
            times.append(time.perf_counter() - began)
            await asyncio.sleep(gap)
    return np.array(times)


def with_page(port: int, work):
    """`work()` while a page watches (/ws/watch, read as fast as it comes)."""
    with Watcher(port):
        return work()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=500, help="events timed per row (default: %(default)s)")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds of each CPU row (default: %(default)s)")
    args = parser.parse_args()
    gap = 0.01
    with tempfile.TemporaryDirectory() as folder:
        plain = Measured(Path(folder), web=False)
        try:
            udp_plain = plain.udp_latencies(args.count, gap)
            cpu_plain = plain.load(args.seconds), plain.load(args.seconds, 200)
        finally:
            plain.stop()
        web = Measured(Path(folder), web=True)
        try:
            udp_web = web.udp_latencies(args.count, gap)
            ws = asyncio.run(ws_latencies(web.web_port, args.count, gap))
            udp_watched = with_page(web.web_port, lambda: web.udp_latencies(args.count, gap))
            idle = web.load(args.seconds)
            idle_page = with_page(web.web_port, lambda: web.load(args.seconds))
            playing = web.load(args.seconds, 200)
            playing_page = with_page(web.web_port, lambda: web.load(args.seconds, 200))
        finally:
            web.stop()
    print(f"/interface to /prediction, {args.count} events, {DIMENSION} dimensions, polyphony, /timescale 0:\n")
    print(latency_table({"UDP, without --web": udp_plain, "UDP, --web, no page open": udp_web,
                         "UDP, --web, a page watching": udp_watched, "WebSocket (/ws/osc), --web": ws}))
    print(f"\nThe server process over {args.seconds:g} s: CPU as a share of one core, and its threads' wakeups a "
          "second:\n")
    print("| | idle: CPU | idle: wakeups/s | 200 events a second: CPU | wakeups/s |\n| --- | ---: | ---: | ---: | ---: |")
    for name, (quiet, busy) in {"without --web": cpu_plain, "--web, no page open": (idle, playing),
                                "--web, a page watching": (idle_page, playing_page)}.items():
        print(f"| {name} | {quiet[0]:.1%} | {quiet[1]:.1f} | {busy[0]:.1%} | {busy[1]:.0f} |")


if __name__ == "__main__":
    main()
