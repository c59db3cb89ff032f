#!/usr/bin/env python3
"""How fast and how punctual the performance server is, as tables for docs/performance.md.

    python utils/benchmark_performance.py            # everything, about two minutes
    python utils/benchmark_performance.py --only step --sizes xs s

- step: one whole prediction (event in, sampled event out) at dimension 9, numpy
  engine against the Keras-call path on the same weights, median and 99th percentile.
- sampler: drawing one event from a 9-d, 5-component mixture with IMPS's sampler and
  with keras-mdn-layer's sample_from_output, at the server's default temperatures.
- startup: launch of predictive_music_model.py to "listening" (socket bound, model loaded).
- idle: CPU used by the server over 10 s with nothing arriving, and how many times a
  second its threads were woken (exact, where CPU time comes in 10 ms ticks).
- timing: a musician sending 100 events a second in polyphony mode; how long after
  its scheduled time each /prediction leaves, as the server reports at exit.

--web closed|open runs startup, idle and timing (the server as a process) with the web
page on (--web 127.0.0.1:<a free port>): closed, no page open; open, a page watching
its event stream (/ws/watch) throughout, read and discarded as a browser tab would.
step and sampler time the engine in this process, with no server: --web leaves them as
they are. Default off: no --web, the figures as docs/performance.md has them.
"""

from __future__ import annotations

import bootstrap  # noqa: F401  (first: one BLAS thread as the server runs; tests/harness)

import argparse
import os
import re
import time
from pathlib import Path


import numpy as np

from imps.core.model import Mixture, sample
from imps.learn.keras_model import KerasMDRNN
from imps.perform.engine import NumpyMDRNN, Predictor
from harness import SERVER_SCRIPT, ServerProcess, cpu_seconds, free_udp_port, wakeups
from harness.web import WEB_MODES, Page
from imps.core.model import DEFAULT_SAMPLING, SIZES
from imps.core.weights import MDRNNWeights

DIMENSION = 9
WEB = "off"  # the web page while the server runs: --web
PAGES: list[Page] = []  # every server's page, to say what the watchers received


def time_predictions(predictor: Predictor, reps: int) -> np.ndarray:
    events = np.random.default_rng(0).random((reps, DIMENSION))
    for event in events[:20]:  # warm up
        predictor.predict(event)
    times = np.empty(reps)
    for i, event in enumerate(events):
        began = time.perf_counter()
        predictor.predict(event)
        times[i] = time.perf_counter() - began
    return times


def bench_step(sizes: list[str], reps: int, keras_reps: int) -> None:
    print(f"\n### One prediction, dimension {DIMENSION} (µs)\n")
    print("| size | numpy median | numpy p99 | keras median | keras p99 | keras / numpy |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name in sizes:
        weights = MDRNNWeights.random(DIMENSION, SIZES[name], seed=1)
        temps = DEFAULT_SAMPLING.pi_temp, DEFAULT_SAMPLING.sigma_temp
        fast = time_predictions(Predictor(NumpyMDRNN(weights), *temps, seed=0), reps) * 1e6
        slow = time_predictions(Predictor(KerasMDRNN(weights), *temps, seed=0), keras_reps) * 1e6
        print(f"| {name} | {np.median(fast):.1f} | {np.percentile(fast, 99):.1f} | {np.median(slow):.0f} | "
              f"{np.percentile(slow, 99):.0f} | {np.median(slow) / np.median(fast):.0f}x |", flush=True)


def start_server(*flags: str) -> tuple[ServerProcess, float, int]:
    """Launch the server; return it, the seconds until it said it was listening, and its port."""
    port = free_udp_port()
    page = Page(WEB)
    began = time.perf_counter()
    server = ServerProcess("-d", str(DIMENSION), "--serverip", "127.0.0.1", "--serverport", str(port), "--clientip",
                           "127.0.0.1", "--clientport", str(free_udp_port()), *flags, *page.flags,
                           cwd=SERVER_SCRIPT.parent)
    if not server.wait_ready():
        raise RuntimeError("the server did not start:\n" + server.output)
    seconds = time.perf_counter() - began
    page.open()  # a page watching from here (--web open) until the server has stopped
    server.page = page
    PAGES.append(page)
    return server, seconds, port


def stop_server(server: ServerProcess) -> str:
    server.stop()
    server.page.close()
    return server.output


def bench_startup(runs: int) -> None:
    print("\n### Start-up: launch to listening (s)\n")
    print("| engine | median | max |")
    print("| --- | ---: | ---: |")
    for engine in ("numpy", "keras"):
        times = []
        for _ in range(runs if engine == "numpy" else 2):
            process, seconds, _ = start_server("--polyphony", "--engine", engine)
            stop_server(process)
            times.append(seconds)
        print(f"| {engine} | {np.median(times):.2f} | {max(times):.2f} |", flush=True)


def bench_idle(seconds: float) -> None:
    print(f"\n### Idle: CPU over {seconds:.0f} s with nothing arriving\n")
    print("| mode | CPU (% of one core) | wakeups a second |")
    print("| --- | ---: | ---: |")
    for mode in ("--call", "--polyphony"):
        process, _, _ = start_server(mode)
        pid = process.process.pid
        cpu, woken = cpu_seconds(pid), wakeups(pid)
        time.sleep(seconds)
        cpu, woken = cpu_seconds(pid) - cpu, wakeups(pid) - woken
        stop_server(process)
        print(f"| {mode.strip('-')} | {100 * cpu / seconds:.2f} | {woken / seconds:.1f} |", flush=True)


def bench_timing(rate: float, seconds: float) -> None:
    from pythonosc.udp_client import SimpleUDPClient

    process, _, port = start_server("--polyphony")
    client = SimpleUDPClient("127.0.0.1", port)
    rng = np.random.default_rng(0)
    began = time.perf_counter()
    sent = 0
    while time.perf_counter() - began < seconds:
        client.send_message("/interface", [float(v) for v in rng.random(DIMENSION - 1)])
        sent += 1
        time.sleep(max(0.0, began + sent / rate - time.perf_counter()))
    time.sleep(1.0)  # let the last predictions fall due
    output = stop_server(process)
    found = re.search(r"(\d+) predictions sent.*?left ([\d.]+) ms \(median\), ([\d.]+) ms \(99th", output)
    print(f"\n### On time: {rate:.0f} events/s for {seconds:.0f} s in polyphony mode, the default 9-d model (xs)\n")
    print("| events sent | predictions sent | late by, median (ms) | late by, p99 (ms) |")
    print("| ---: | ---: | ---: | ---: |")
    print(f"| {sent} | {found.group(1)} | {found.group(2)} | {found.group(3)} |", flush=True)


def bench_sampler(reps: int) -> None:
    import keras_mdn_layer

    rng = np.random.default_rng(0)
    mixture = Mixture(rng.random((5, DIMENSION)), rng.random((5, DIMENSION)) + 0.1, rng.random(5))
    params = np.concatenate([mixture.mus.ravel(), mixture.sigmas.ravel(), mixture.pi_logits])
    draws = {
        "imps.core.model.sample": lambda: sample(mixture, DEFAULT_SAMPLING.pi_temp, DEFAULT_SAMPLING.sigma_temp, rng),
        "keras_mdn_layer.sample_from_output": lambda: keras_mdn_layer.sample_from_output(
            params, DIMENSION, 5, temp=DEFAULT_SAMPLING.pi_temp, sigma_temp=DEFAULT_SAMPLING.sigma_temp),
    }
    print(f"\n### Sampling one event from a {DIMENSION}-d, 5-component mixture (µs)\n")
    print("| sampler | median | p99 |")
    print("| --- | ---: | ---: |")
    for name, draw in draws.items():
        times = np.empty(reps)
        for i in range(reps):
            began = time.perf_counter()
            draw()
            times[i] = time.perf_counter() - began
        times *= 1e6
        print(f"| {name} | {np.median(times):.1f} | {np.percentile(times, 99):.1f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("step", "sampler", "startup", "idle", "timing"), nargs="*",
                        help="run only these benchmarks")
    parser.add_argument("--sizes", nargs="*", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--reps", type=int, default=5000, help="predictions timed per size, numpy engine")
    parser.add_argument("--keras-reps", type=int, default=300, help="predictions timed per size, Keras path")
    parser.add_argument("--web", choices=WEB_MODES, default="off",
                        help="the web page during startup, idle and timing (the server as a process; step and "
                             "sampler have no server): off, no --web (default); closed, --web and no page open; "
                             "open, --web and a page watching /ws/watch throughout")
    args = parser.parse_args()
    global WEB
    WEB = args.web
    chosen = set(args.only or ("step", "sampler", "startup", "idle", "timing"))
    if "step" in chosen:
        bench_step(args.sizes, args.reps, args.keras_reps)
    if "sampler" in chosen:
        bench_sampler(args.reps)
    if "startup" in chosen:
        bench_startup(runs=5)
    if "idle" in chosen:
        bench_idle(10.0)
    if "timing" in chosen:
        bench_timing(100.0, 10.0)
    if PAGES and WEB != "off":
        watched = f", its watchers received {sum(p.received for p in PAGES):,} messages" if WEB == "open" else ""
        print(f"\nWeb page {WEB}: {len(PAGES)} server(s) run with --web 127.0.0.1:<port>{watched}.")


if __name__ == "__main__":
    main()
