#!/usr/bin/env python3
"""Serial latency, as a table for docs/serial.md: a sketch's line in, IMPS's prediction
out as a line, at /timescale 0 in polyphony mode (every event is answered at once), the
default 9-d model.

    python utils/benchmark_serial.py                # about ten seconds
    python utils/benchmark_serial.py --events 5000

The serial device is the kernel's pseudo-terminal pair (tests/harness/pty_device.py):
the performance server runs in this process with --serial on the pair's slave side,
and this script plays the sketch on the master side. It writes one line, waits until
the whole answer line has come back, and writes the next 5 ms later. The time is the round trip,
from the write returning to the answer's line end read: IMPS's serial thread, the
model, the player, and the pty in both directions (a USB cable adds its polling
interval each way, 1 ms for a full-speed device).
"""

from __future__ import annotations

import bootstrap  # noqa: F401  (first: one BLAS thread as the server runs; the harness)

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from harness import free_udp_port, latency_table
from harness.pty_device import PtyDevice

from imps.perform.config import SerialConfig, ServerConfig
from imps.perform.interaction import POLYPHONY
from imps.perform.model_choice import model_to_play
from imps.perform.server import PerformanceServer

DIMENSION = 9
WARM_UP = 20  # events before the timing starts
# Between an answer and the next line: a sketch printing 200 lines a second. Sooner, the
# player's 1 ms between two sends (interaction.MIN_SEND_INTERVAL) would be timed, not IMPS.
GAP = 0.005


def measure(events: int) -> tuple[np.ndarray, int, str]:
    """The round trips (seconds), how many events went unanswered within a second, and
    the weights that played."""
    with tempfile.TemporaryDirectory() as folder:
        device = PtyDevice(Path(folder) / "ttyACM-benchmark")
        config = ServerConfig(dimension=DIMENSION, mode=POLYPHONY, server_ip="127.0.0.1", server_port=free_udp_port(),
                              client_ip="127.0.0.1", client_port=free_udp_port(),
                              serial=SerialConfig(str(device.path)))
        model = model_to_play(config)
        server = PerformanceServer(config, model.predictor, report=lambda line: None)
        server.performance.timescale = 0.0  # as /timescale 0: each answer leaves as soon as it is made
        server.start()
        round_trips, unanswered = [], 0
        try:
            rng = np.random.default_rng(0)
            for i in range(WARM_UP + events):
                line = (",".join(f"{v:.4f}" for v in rng.random(DIMENSION - 1)) + "\n").encode()
                device.write(line)
                sent = time.perf_counter()
                if not device.read_lines(1, timeout=1.0):
                    unanswered += 1
                    continue
                if i >= WARM_UP:
                    round_trips.append(time.perf_counter() - sent)
                time.sleep(GAP)
        finally:
            server.stop()
            device.close()
    return np.array(round_trips), unanswered, model.chosen.path.name


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    args = parser.parse_args()
    round_trips, unanswered, weights = measure(args.events)
    print(f"#### serial line in to line out, /timescale 0, polyphony, {weights}: {len(round_trips)} events (after "
          f"{WARM_UP} to warm up), through a pty pair\n")
    print(latency_table({"round trip, line in to line out": round_trips}))
    if unanswered:
        print(f"\n{unanswered} events had no answer within a second")


if __name__ == "__main__":
    main()
