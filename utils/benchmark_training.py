#!/usr/bin/env python3
"""Training benchmarks, as tables for the README.

    python utils/benchmark_training.py speed     # about 3 minutes
    python utils/benchmark_training.py memory    # about 2 minutes, needs ~8 GB free

speed: on the real 4-d dataset from the original IMPS, the plain approach (model.fit
on materialised stride-1 windows, batch 64, Adam defaults, 10 epochs, validation_split
0.1) against IMPS's trainer, same model size, same validation windows, one after the
other in this process. It reports when each first reaches the plain approach's best
validation loss.

memory: peak resident memory of a process that builds the training data for a
1,000,000-event 9-d dataset and trains a few batches on it, streamed windows (IMPS)
against materialised windows (the plain approach).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import keras

from imps import keras_model
from imps.config import TrainConfig
from imps.dataset import Dataset, load_dataset
from imps.model import SCALE, SEQ_LEN, SIZES
from imps.training import train

# A real dataset from the original IMPS, kept with the tests (tests/fixtures/README.md).
FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "training-dataset-4d-12ksmall.npz"


def materialised_windows(dataset: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Every stride-1 window of every performance, copied out, as the original IMPS did."""
    xs, ys = [], []
    for performance in dataset.performances():
        for start in range(len(performance) - SEQ_LEN):
            window = performance[start:start + SEQ_LEN + 1] * SCALE
            xs.append(window[:-1])
            ys.append(window[1:])
    return np.array(xs, np.float32), np.array(ys, np.float32)


class Clock(keras.callbacks.Callback):
    """Validation loss against seconds since training began; stops at a target."""

    def __init__(self, target: float = -np.inf):
        super().__init__()
        self.target = target
        self.began = time.monotonic()
        self.points: list[tuple[float, float]] = []

    def on_epoch_end(self, epoch, logs=None):
        self.points.append((time.monotonic() - self.began, float(logs["val_loss"])))
        if logs["val_loss"] <= self.target:
            self.model.stop_training = True

    def reached(self, target: float) -> float | None:
        return next((seconds for seconds, loss in self.points if loss <= target), None)


def plain_approach(dataset: Dataset, size_name: str, epochs: int, seed: int) -> Clock:
    keras.utils.set_random_seed(seed)
    x, y = materialised_windows(dataset)
    config = SIZES[size_name].config(dataset.dimension)
    model = keras_model.build_mdrnn(config)
    keras_model.compile_for_training(model, config, learning_rate=1e-3)
    clock = Clock()
    model.fit(x, y, batch_size=64, epochs=epochs, validation_split=0.1, shuffle=True, verbose=0, callbacks=[clock])
    return clock


def imps_trainer(dataset: Dataset, size_name: str, target: float, epochs: int, seed: int, tmp: Path) -> Clock:
    clock = Clock(target)
    train(dataset, TrainConfig(model_size=size_name, epochs=epochs), models_dir=tmp, tensorboard_dir=None, verbose=0,
          seed=seed, callbacks=[clock], report=lambda message: None)
    return clock


def bench_speed(args) -> None:
    import tempfile

    dataset = load_dataset(args.dataset, allow_pickle=True)  # the original IMPS's file: trusted
    print(f"\n### Time to a good model: {args.dataset.name}, size {args.size}, seed {args.seed}\n", flush=True)
    plain = plain_approach(dataset, args.size, 10, args.seed)
    target = min(loss for _, loss in plain.points)
    plain_time = plain.reached(target)
    with tempfile.TemporaryDirectory() as tmp:
        ours = imps_trainer(dataset, args.size, target, args.max_epochs, args.seed, Path(tmp))
    ours_time = ours.reached(target)
    print("| approach | best validation loss | epoch | seconds to reach plain best | vs plain |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(f"| plain: materialised windows, batch 64, Adam 1e-3 | {target:.3f} | "
          f"{[loss for _, loss in plain.points].index(target) + 1} | {plain_time:.1f} | 1.00 |")
    best = min(loss for _, loss in ours.points)
    print(f"| IMPS trainer (defaults) | {best:.3f} | {[loss for _, loss in ours.points].index(best) + 1} | "
          + (f"{ours_time:.1f} | {ours_time / plain_time:.2f} |" if ours_time else f"not in {args.max_epochs} epochs | |"))
    for name, clock in (("plain", plain), ("IMPS", ours)):
        print(f"\n{name} (seconds: validation loss): " + ", ".join(f"{s:.0f}: {l:.3f}" for s, l in clock.points))


def memory_child(how: str, events: int) -> None:
    """Runs in a fresh process: make the data, train a few batches, report peak memory."""
    rng = np.random.default_rng(0)
    lengths = np.full(max(1, events // 1000), min(events, 1000))
    dataset = Dataset(rng.random((events, 9), dtype=np.float32), lengths)
    config = SIZES["s"].config(9)
    model = keras_model.build_mdrnn(config)
    keras_model.compile_for_training(model, config, learning_rate=1e-3)
    if how == "materialised":
        x, y = materialised_windows(dataset)
        model.fit(x, y, batch_size=64, epochs=1, steps_per_epoch=20, verbose=0)
    else:
        import tensorflow as tf

        from imps.training import split_windows, window_batches

        train_starts, _ = split_windows(dataset.window_starts(), TrainConfig.validation_fraction)
        data = window_batches(tf.constant(dataset.events * np.float32(SCALE)), train_starts, 64, shuffle=True,
                              seq_len=SEQ_LEN)
        model.fit(data, epochs=1, steps_per_epoch=20, verbose=0)
    # VmHWM, the peak of this process's own memory map: unlike ru_maxrss it does not
    # carry over the size of the process that started this one.
    status = Path("/proc/self/status").read_text()
    print(int(status.split("VmHWM:")[1].split()[0]) / 1024)


def bench_memory(args) -> None:
    print("\n### Peak memory: dimension 9, size s, a few batches of training\n")
    print("| dataset events | training windows | peak resident memory, whole process (MB) |")
    print("| ---: | --- | ---: |")
    for events, how in ((2_000, "streamed"), (args.events, "streamed"), (args.events, "materialised")):
        result = subprocess.run([sys.executable, __file__, "--child", how, str(events)], capture_output=True,
                                text=True)
        peak = f"{float(result.stdout.strip().splitlines()[-1]):,.0f}" if result.returncode == 0 \
            else f"failed ({result.returncode})"
        print(f"| {events:,} | {how} | {peak} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("benchmark", nargs="*", metavar="{speed,memory}", help="which to run (default: both)")
    parser.add_argument("--dataset", type=Path, default=FIXTURE)
    parser.add_argument("--size", default="s", choices=list(SIZES))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-epochs", type=int, default=10, help="most epochs for IMPS's trainer")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--child", nargs=2, metavar=("HOW", "EVENTS"), help=argparse.SUPPRESS)  # memory's own process
    args = parser.parse_args()
    if args.child:
        memory_child(args.child[0], int(args.child[1]))
        return
    args.benchmark = args.benchmark or ("speed", "memory")
    if set(args.benchmark) - set(("speed", "memory")):
        parser.error("choose from speed, memory")
    if "speed" in args.benchmark:
        bench_speed(args)
    if "memory" in args.benchmark:
        bench_memory(args)


if __name__ == "__main__":
    main()
