#!/usr/bin/env python3
"""MIDI latency, as a table for docs/midi.md: a controller's control change in, IMPS's
prediction out as control changes, at /timescale 0 in polyphony mode (every event is
answered at once), the default 9-d model.

    python utils/benchmark_midi.py                  # about half a minute
    python utils/benchmark_midi.py --period 256     # another JACK period

It starts a JACK server of its own (dummy backend, 48 kHz, --period frames) and, in this
process, the performance server with MIDI in from a virtual controller port and out to a
virtual synth port. One control change is sent at a time, and the next only once the
synth has heard the answer. Two times per event:

- IMPS's own: from rtmidi handing IMPS the message to IMPS's last send_message for its
  answer returning (the MIDI link's own stamps, inside the process);
- the round trip through jackd: from the controller's send_message to the synth hearing
  the first control change of the answer, which adds up to a JACK period each way.
"""

from __future__ import annotations

import bootstrap  # noqa: F401  (first: one BLAS thread as the server runs; the harness)

import argparse
import os
import socket
import threading
import time

import numpy as np
from harness import JackServer, VirtualMidiIn, VirtualMidiOut, free_udp_port, latency_table, message

from imps.perform.config import MidiConfig, ServerConfig
from imps.perform.interaction import POLYPHONY
from imps.perform.midimap import default_mapping, port_controls
from imps.perform.model_choice import model_to_play
from imps.perform.osc import TIMESCALE

DIMENSION = 9


def measure(events: int, period: int) -> tuple[np.ndarray, np.ndarray, int, str]:
    """IMPS's own times and the round trips (seconds), how many events went unanswered,
    and the weights that played."""
    jack = JackServer(f"imps-benchmark-{os.getpid()}", period=period)
    os.environ["JACK_DEFAULT_SERVER"], os.environ["JACK_NO_START_SERVER"] = jack.name, "1"
    from imps.perform.server import PerformanceServer

    heard = threading.Event()
    arrival = [0.0]

    def on_message(data: list[int], arrived: float) -> None:
        if not heard.is_set():
            arrival[0] = arrived
            heard.set()

    controller = VirtualMidiOut("controller")
    synth = VirtualMidiIn("synth", on_message)
    port = free_udp_port()
    mapping = default_mapping(DIMENSION - 1)
    config = ServerConfig(dimension=DIMENSION, mode=POLYPHONY, server_ip="127.0.0.1", server_port=port,
                          client_ip="127.0.0.1", client_port=free_udp_port(),
                          midi=MidiConfig(port_controls(mapping.inputs, ["controller"], "--midiin"),
                                          port_controls(mapping.outputs, ["synth"], "--midiout"), "jack"))
    model = model_to_play(config)
    server = PerformanceServer(config, model.predictor, report=lambda line: None)
    server.start()
    own, round_trip, unanswered = [], [], 0
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as osc:
            osc.sendto(message(TIMESCALE, ("f", 0.0)), ("127.0.0.1", port))
        while server.performance.timescale != 0.0:
            time.sleep(0.01)
        rng = np.random.default_rng(0)
        for i in range(events):
            heard.clear()
            sent = time.monotonic()
            controller.send([0xB0, 1 + i % 8, int(rng.integers(128))])
            if not heard.wait(1.0):
                unanswered += 1  # an answer that changed no control sends nothing
                continue
            time.sleep(0.005)  # let the rest of the answer go out before the next event
            if i >= 20:  # after the warm-up
                own.append(server.midi.last_send - server.midi.last_arrival)
                round_trip.append(arrival[0] - sent)
            time.sleep(0.01)
    finally:
        server.stop()
        synth.close()
        controller.close()
        jack.stop()
    return np.array(own), np.array(round_trip), unanswered, model.chosen.path.name


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--period", type=int, default=64, help="JACK period in frames at 48 kHz (default: 64)")
    args = parser.parse_args()
    own, round_trip, unanswered, weights = measure(args.events, args.period)
    period_ms = args.period / 48000 * 1000
    print(f"#### MIDI in to MIDI out, /timescale 0, polyphony, {weights}: {len(own)} events (after 20 to warm "
          f"up), jackd -d dummy -r 48000 -p {args.period} ({period_ms:.2f} ms a period)\n")
    print(latency_table({"IMPS's own (inside the process)": own, "round trip through jackd": round_trip}))
    if unanswered:
        print(f"\n{unanswered} events had an answer that changed no control, so sent nothing")


if __name__ == "__main__":
    main()
