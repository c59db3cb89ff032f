#!/usr/bin/env python3
"""Remake the example performance and pictures in examples/:

- `example-performance-9d-mdrnn.log`: about 30 s of call and response. A procedural
  performer (utils/make_corpus.py) plays phrases on 8 faders and leaves room after
  each; the real predictive_music_model.py, started with no weights of its own so that
  it plays the default 9-d model, answers over OSC after 2 s of quiet, and logs both.
- `example-performance.png`: that log drawn by utils/plot_log.py.
- `example-dataset.png`: a summary of the default 9-d model's training corpus
  (utils/make_corpus.py --dimension=9 --performances 100 --minutes 0.8 --seed 1), drawn
  by utils/plot_dataset.py.

    python utils/make_examples.py                 # about 40 seconds
    python utils/make_examples.py --out /tmp/x --seconds 20

The performance runs in real time through the server, so each run differs a little
(the model samples as it plays).
"""

from __future__ import annotations

import bootstrap  # noqa: F401  (first: one BLAS thread as the server runs; tests/harness)

import shutil
import socket
import tempfile
import time
from pathlib import Path

import numpy as np

from imps.core import cli
from imps.core.names import LOGS_DIR, log_glob
from harness import ROOT, ServerProcess, free_udp_port


DIMENSION = 9
ROOM = 4.5  # seconds the musician leaves after a phrase: the model answers after 2 s of quiet


def parse_args(argv=None):
    parser = cli.Parser(description="Remake examples/example-performance-9d-mdrnn.log (the default 9-d model "
                                    "answering a procedural performer through the real server), its picture, and "
                                    "examples/example-dataset.png.")
    parser.add_argument("--out", default=str(ROOT / "examples"), help="folder to write into (default: examples/)")
    parser.add_argument("--seconds", type=float, default=30.0,
                        help="about how long the performance lasts (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=7, help="the performer's seed (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.seconds < 5:
        parser.error("--seconds must be at least 5")
    return args


def musician(seed: int, seconds: float) -> list[tuple[float, np.ndarray]]:
    """A procedural performer's events, with room for an answer after each phrase:
    every pause longer than a second becomes ROOM seconds."""
    from imps.learn import corpus

    performer = corpus.make_performer(np.random.default_rng((seed, 0, 0)), DIMENSION - 1)
    events = corpus.perform(seed, 0, performer, DIMENSION - 1, seconds * 3)
    out = []
    shift = 0.0
    previous = None
    for when, values in events:
        if previous is not None and when - previous > 1.0:
            shift += ROOM - (when - previous)
        previous = when
        if when + shift > seconds - ROOM:
            break
        out.append((when + shift, values))
    return out


def perform(events: list[tuple[float, np.ndarray]], folder: Path) -> tuple[Path, str]:
    """Play `events` in real time to predictive_music_model.py running in `folder`;
    return its log and what it printed."""
    from pythonosc.udp_client import SimpleUDPClient

    synth = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # where /prediction goes, unheard
    synth.bind(("127.0.0.1", 0))
    port = free_udp_port()
    server = ServerProcess(f"--dimension={DIMENSION}", "--log", "--serverip", "127.0.0.1", "--serverport", str(port),
                           "--clientip", "127.0.0.1", "--clientport", str(synth.getsockname()[1]), cwd=folder)
    try:
        if not server.wait_ready():
            raise OSError("predictive_music_model.py stopped before listening: " + server.output.strip())
        client = SimpleUDPClient("127.0.0.1", port)
        began = time.monotonic()
        for when, values in events:
            time.sleep(max(0.0, began + when - time.monotonic()))
            client.send_message("/interface", [float(v) for v in values])
        time.sleep(ROOM)
        server.stop(timeout=20)
    finally:
        synth.close()
    [log] = (folder / LOGS_DIR).glob(log_glob(DIMENSION))
    return log, server.output


def main(argv=None):
    args = parse_args(argv)
    from imps.learn import corpus
    from imps.learn.dataset import collate_logs
    from imps.learn.plots import plot_dataset, plot_log

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        recipe = corpus.DEFAULT_MODELS_CORPUS
        corpus.make_corpus(tmp / "corpus", DIMENSION, recipe.performances, recipe.minutes, seed=recipe.seed)
        dataset, _ = collate_logs(tmp / "corpus", DIMENSION)
        picture = plot_dataset(dataset, out / "example-dataset.png",
                               title=f"the procedural default models' corpus (make_corpus.py --seed {recipe.seed})")
        cli.say(f"wrote {picture}: {dataset.summary()}")

        events = musician(args.seed, args.seconds)
        cli.say(f"playing {len(events)} events over {events[-1][0]:.1f} s to predictive_music_model.py "
                f"--dimension={DIMENSION} in call and response")
        log, output = perform(events, tmp)
        for line in output.splitlines():
            if "default model" in line or "UNTRAINED" in line or line.startswith("stopped"):
                cli.say("  server: " + line)
        destination = out / f"example-performance-{DIMENSION}d-mdrnn.log"
        shutil.copyfile(log, destination)
    cli.say(f"wrote {destination}")
    picture = plot_log(destination, out / "example-performance.png",
                       title="the default 9-d model answering a procedural performer (call and response): "
                             f"{destination.name}")
    cli.say(f"wrote {picture}")


if __name__ == "__main__":
    cli.run(main, (OSError,))
