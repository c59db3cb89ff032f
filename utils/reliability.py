#!/usr/bin/env python3
"""Stage reliability: what the performance server survives, as tables for docs/reliability.md.

    python utils/reliability.py                  # all but the soak, about a minute
    python utils/reliability.py fuzz --packets 20000
    python utils/reliability.py soak --minutes 60

- fuzz: random and malformed packets mixed with valid /interface messages; the server
  must stay up, log every valid message and nothing else, and count the rest.
- flood: another process sends valid /interface messages as fast as asked; memory must
  stay bounded, every message must be logged, and a normal message must still be
  answered quickly afterwards.
- crash: kill -9 while messages are being logged; the log must hold whole lines and
  generate_dataset.py must read it.
- stop: Ctrl-C and SIGTERM while playing; exit code and time to exit.
- soak (only when named; `--minutes`, 60 by default): an installation's hours. One
  server in battle mode plays by itself and logs; another, in polyphony, is sent 50
  events a second and answers each; memory after the first minute and at the end,
  round trips in the first and the last ten minutes, the longest silence in battle
  mode, every prediction in the logs, and generate_dataset.py reading them.

Each runs predictive_music_model.py as a separate process, as on stage. With --web
closed, each server also has its web page on (--web 127.0.0.1:<a free port>) and no page
open; with --web open, a page also watches its event stream (/ws/watch) from start-up
until the server has stopped, read and discarded as a browser tab would. Default off: no
--web, the figures as docs/reliability.md has them.
"""

from __future__ import annotations

import bootstrap  # noqa: F401  (first: one BLAS thread as the server runs; tests/harness)

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

import harness
from imps.core.logs import read_log
from harness import ROOT, drain, paced
from harness.web import WEB_MODES, Page

DIMENSION = 9
WEB = "off"  # the web page while each server runs: --web
PAGES: list[Page] = []  # every server's page, to say what the watchers received


class Stage(harness.Stage):
    """harness.Stage with the web page as --web asks: `page`, open once the server is ready,
    closed once it has stopped (so a stop is timed with the page still watching)."""

    def __init__(self, folder: Path, *flags: str):
        self.page = Page(WEB)
        PAGES.append(self.page)
        super().__init__(folder, *flags, *self.page.flags)
        self.page.open()

    def stop_timed(self, sig: int = signal.SIGINT) -> tuple[int, float]:
        try:
            return super().stop_timed(sig)  # the server's exit only: the page closes after
        finally:
            self.page.close()


def fuzz(count: int, rate: float) -> None:
    packets = harness.packets(count, DIMENSION - 1, seed=7)
    valid = [p.valid_values for p in packets if p.valid_values is not None]
    with tempfile.TemporaryDirectory() as folder:
        stage = Stage(Path(folder), "--polyphony")
        paced(stage.send, [p.data for p in packets], rate)
        stage.wait_for_lines(len(valid))
        alive = stage.process.poll() is None
        code, _ = stage.stop_timed()
        events = read_log(stage.log, DIMENSION - 1).events
        logged = [e.values for e in events if e.source == "interface"]
        matches = len(logged) == len(valid) and np.allclose(logged, valid)
        rejected = re.search(r"rejected: ([^;]*)", stage.summary())
    print(f"\n### Fuzz: {count:,} packets at {rate:,.0f} a second, polyphony mode\n")
    print("| packets | valid /interface | logged /interface | logged = valid | up throughout | exit code | rejected |")
    print("| ---: | ---: | ---: | --- | --- | ---: | --- |")
    print(f"| {count:,} | {len(valid):,} | {len(logged):,} | {'yes' if matches else 'NO'} | "
          f"{'yes' if alive else 'NO'} | {code} | {rejected.group(1) if rejected else 'none'} |", flush=True)


def flood(rate: float, seconds: float) -> None:
    with tempfile.TemporaryDirectory() as folder:
        stage = Stage(Path(folder), "--polyphony")
        paced(stage.send, [harness.valid_interface(np.random.default_rng(i), DIMENSION - 1).data
                           for i in range(200)], 1000)  # warm up
        stage.wait_for_lines(200)
        before = stage.memory_mb()
        sent = harness.flood(stage.port, DIMENSION - 1, rate, seconds)
        stage.wait_for_lines(200 + sent, timeout=60)
        after = stage.memory_mb()
        peak = stage.memory_mb("VmHWM")
        time.sleep(2.0)  # let predictions from the flood fall due
        stage.send(harness.message("/timescale", ("f", 0.0)))  # the answer's own dt must not count
        time.sleep(0.2)
        drain(stage.synth, quiet=0.2)
        stage.synth.settimeout(5)
        began = time.perf_counter()
        stage.send(harness.valid_interface(np.random.default_rng(0), DIMENSION - 1).data)
        stage.synth.recv(4096)
        answer_ms = (time.perf_counter() - began) * 1000
        code, _ = stage.stop_timed()
        # The warm-up messages and the one answered afterwards are not part of the flood.
        logged = sum(1 for e in read_log(stage.log, DIMENSION - 1).events if e.source == "interface") - 201
    print(f"\n### Flood: {rate:,.0f} /interface a second for {seconds:.0f} s, polyphony mode\n")
    print("| sent | logged | all logged | RSS before (MB) | RSS after (MB) | growth (MB) | peak RSS (MB) "
          "| answer afterwards (ms) | exit code |")
    print("| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    print(f"| {sent:,} | {logged:,} | {'yes' if logged == sent else 'NO'} | {before:.0f} | {after:.0f} | "
          f"{after - before:.0f} | {peak:.0f} | {answer_ms:.1f} | {code} |", flush=True)
    print(f"\n{stage.summary()}")


def crash(messages: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        stage = Stage(Path(folder), "--only")
        packets = [harness.valid_interface(np.random.default_rng(i), DIMENSION - 1).data for i in range(messages)]
        sending = threading.Thread(target=paced, args=(stage.send, packets, 2000))
        sending.start()
        stage.wait_for_lines(messages // 2)
        stage.process.kill()  # SIGKILL mid-stream
        stage.process.wait()
        stage.page.close()
        sending.join()
        raw = stage.log.read_bytes()
        lines = raw.count(b"\n") + (not raw.endswith(b"\n"))
        whole = raw.endswith(b"\n")
        contents = read_log(stage.log, DIMENSION - 1)
        result = subprocess.run([sys.executable, str(ROOT / "generate_dataset.py"), "-d", str(DIMENSION)],
                                cwd=folder, capture_output=True, text=True)
        found = re.search(r"(\d+) events,", result.stdout)
    print(f"\n### Crash: kill -9 while logging {messages:,} messages at 2,000 a second\n")
    print("| lines on disk | ends with a whole line | lines readable | generate_dataset exit | dataset events |")
    print("| ---: | --- | ---: | ---: | ---: |")
    print(f"| {lines:,} | {'yes' if whole else 'no (one partial line)'} | {len(contents.events):,} | "
          f"{result.returncode} | {found.group(1) if found else '-'} |", flush=True)


def stop() -> None:
    print("\n### Clean stop while playing (polyphony mode, 200 events a second)\n")
    print("| signal | exit code | seconds to exit | log ends with a whole line | summary printed |")
    print("| --- | ---: | ---: | --- | --- |")
    for sig in (signal.SIGINT, signal.SIGTERM):
        with tempfile.TemporaryDirectory() as folder:
            stage = Stage(Path(folder), "--polyphony")
            packets = [harness.valid_interface(np.random.default_rng(i), DIMENSION - 1).data for i in range(200)]
            paced(stage.send, packets, 200)
            code, seconds = stage.stop_timed(sig)
            whole = stage.log.read_bytes().endswith(b"\n")
            print(f"| {signal.Signals(sig).name} | {code} | {seconds:.2f} | {'yes' if whole else 'NO'} | "
                  f"{'yes' if stage.summary() else 'NO'} |", flush=True)


def duration(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 and seconds % 60 == 0 else f"{seconds:.0f} s"


def soak(minutes: float) -> None:
    seconds = minutes * 60
    warmup = min(60.0, seconds / 3)
    window = min(600.0, seconds / 3)
    with tempfile.TemporaryDirectory() as folder:
        result = harness.soak(Path(folder), seconds, warmup, window)
        dataset = subprocess.run([sys.executable, str(ROOT / "generate_dataset.py"), "-d", str(DIMENSION)],
                                 cwd=folder, capture_output=True, text=True)
        logged = {name: read_log(stage.log, DIMENSION - 1) for name, stage in result.stages.items()}
    found = re.search(r"(\d+) events,", dataset.stdout)
    print(f"\n### Soak: {duration(seconds)}, battle mode and polyphony (fed 50 events a second), both logging\n")
    print(f"| server | resident MB at {duration(warmup)} | at the end | growth | peak | predictions sent | "
          "logged | all logged | lines skipped in the log | tracebacks | exit code |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- | ---: |")
    for name, stage in result.stages.items():
        before, after = result.memory[name]
        sent = result.predictions_sent(name)
        rnn = sum(1 for e in logged[name].events if e.source == "rnn")
        print(f"| {name} | {before:.1f} | {after:.1f} | {after - before:+.1f} | {result.peak[name]:.1f} | {sent:,} | "
              f"{rnn:,} | {'yes' if rnn == sent else 'NO'} | {sum(logged[name].skipped.values())} | "
              f"{'NONE' if 'Traceback' not in stage.output else 'YES'} | {result.codes[name]} |")
    print(f"\nPolyphony round trips (an event sent, its /prediction back, at /timescale 0), the first and the last "
          f"{duration(window)} ({result.sent:,} events sent, {result.unanswered} not answered within a second):\n")
    print("| stretch | round trips | median (ms) | p99 (ms) | most (ms) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for stretch, times in zip(("first", "last"), result.round_trips):
        print(f"| {stretch} {duration(window)} | {times.count:,} | {times.percentile(50) * 1000:.2f} | "
              f"{times.percentile(99) * 1000:.2f} | {times.longest * 1000:.2f} |")
    first, last = result.round_trips
    print(f"\nThe last stretch against the first: median {(last.percentile(50) - first.percentile(50)) * 1000:+.2f} ms, "
          f"p99 {(last.percentile(99) - first.percentile(99)) * 1000:+.2f} ms.")
    print(f"\nBattle: its synth heard {result.heard:,} predictions; the longest silence between two was "
          f"{result.longest_silence:.2f} s.")
    print(f"generate_dataset.py on both logs: exit {dataset.returncode}, "
          f"{found.group(1) if found else '-'} events in the dataset.")
    for name, stage in result.stages.items():
        print(f"\n{name}: {stage.summary()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("test", nargs="*", metavar="{fuzz,flood,crash,stop,soak}",
                        help="which to run (default: all but soak, which runs only when named)")
    parser.add_argument("--packets", type=int, default=10_000, help="fuzz packets")
    parser.add_argument("--fuzz-rate", type=float, default=5_000, help="fuzz packets a second")
    parser.add_argument("--rate", type=float, default=20_000, help="flood messages a second")
    parser.add_argument("--seconds", type=float, default=10, help="flood duration")
    parser.add_argument("--minutes", type=float, default=60, help="soak duration (at least 1)")
    parser.add_argument("--web", choices=WEB_MODES, default="off",
                        help="the web page while each server runs (not the soak's): off, no --web (default); "
                             "closed, --web and no page open; open, --web and a page watching /ws/watch throughout")
    args = parser.parse_args()
    global WEB
    WEB = args.web
    args.test = args.test or ("fuzz", "flood", "crash", "stop")
    if set(args.test) - set(("fuzz", "flood", "crash", "stop", "soak")):
        parser.error("choose from fuzz, flood, crash, stop, soak")
    if args.minutes < 1:
        parser.error("--minutes must be at least 1")
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    if "fuzz" in args.test:
        fuzz(args.packets, args.fuzz_rate)
    if "flood" in args.test:
        flood(args.rate, args.seconds)
    if "crash" in args.test:
        crash(5000)
    if "stop" in args.test:
        stop()
    if "soak" in args.test:
        soak(args.minutes)
    if PAGES and WEB != "off":
        watched = f", its watchers received {sum(p.received for p in PAGES):,} messages" if WEB == "open" else ""
        print(f"\nWeb page {WEB}: {len(PAGES)} server(s) run with --web 127.0.0.1:<port>{watched}.")


if __name__ == "__main__":
    main()
