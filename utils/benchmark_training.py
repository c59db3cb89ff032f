#!/usr/bin/env python3
"""Training benchmarks, as tables for docs/training.md.

    python utils/benchmark_training.py speed     # about 3 minutes
    python utils/benchmark_training.py memory    # about 2 minutes, needs ~8 GB free
    python utils/benchmark_training.py budgets --sizes xs s --seeds 1 2 3 --minutes 10   # two hours
    python utils/benchmark_training.py budgets --approaches imps clip adamw dropout augment batch256 keepadam \
        --sizes xs --seeds 1 --minutes 3    # the screening: 25 minutes
    python utils/benchmark_training.py budgets --approaches plain --sizes xs --seeds 1 --epochs 100 --minutes 600 \
        --jobs 1   # the plain approach's best within 100 epochs: over an hour

speed: on the real 4-d dataset from the original IMPS, the plain approach (model.fit
on materialised stride-1 windows, batch 64, Adam defaults, 10 epochs, validation_split
0.1) against IMPS's trainer, same model size, same validation windows, one after the
other in this process. It reports when each first reaches the plain approach's best
validation loss.

memory: peak resident memory of a process that builds the training data for a
1,000,000-event 9-d dataset and trains a few batches on it, streamed windows (IMPS)
against materialised windows (the plain approach).

budgets: on the full real 4-d dataset from the original IMPS (40 performances), the
last HELDOUT performances are held out whole and never trained on. Each approach
trains on the rest for a fixed time; every CHECK_SECONDS of training (the clock
paused meanwhile) its weights are scored on the held-out performances. The table
gives the best held-out loss reached within each budget (median and worst over the
seeds) and the style distance (imps/learn/evaluation.py) of those weights playing a solo
beside the dataset. Runs go JOBS at a time, each in its own process on one CPU thread,
so the budgets are one core's time. With --epochs, a run also stops after that many
epochs, and a second table gives the best held-out loss it reached and when.
"""

from __future__ import annotations

import bootstrap  # noqa: F401  (first: one BLAS thread as the server runs; tests/harness)

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from harness import FIXTURES

from imps.core.model import SCALE, SEQ_LEN, SIZES
from imps.learn import keras_model
from imps.learn.config import TrainConfig
from imps.learn.dataset import Dataset, load_dataset
from imps.learn.training import TimeLimit, Variation, train

# Real datasets from the original IMPS, kept with the tests (tests/fixtures/README.md).
FIXTURE = FIXTURES / "training-dataset-4d-12ksmall.npz"
FULL = FIXTURES / "training-dataset-4d.npz"
HELDOUT = 4  # performances at the end of the full dataset, never trained on
BUDGETS = (60, 180, 600)  # seconds of training
CHECK_SECONDS = 20.0  # of training between scorings on the held-out performances
BUDGET_SLACK = 1.0  # seconds: training stops at the first step that ends past its budget
NO_EPOCH_CAP = 10_000  # epochs: a run then ends only when its time does

FINE_TUNE = "fine-tune"
TIMED = "timed"
BEFORE = {"clipnorm": None}  # the trainer before issue 12
# What each approach changes in TrainConfig or Screened (imps: the trainer's defaults;
# plain: the original IMPS's model.fit). "before" is the trainer without its cap on
# gradients, and the screened variants are changes to it.
APPROACHES: dict[str, dict | None] = {
    "plain": None,
    "imps": {},
    "before": BEFORE,
    "clip": {**BEFORE, "clipnorm": 1.0},
    "adamw": {**BEFORE, "weight_decay": 1e-3},
    "dropout": {**BEFORE, "dropout": 0.1},
    "augment": {**BEFORE, "time_stretch": 0.1, "value_jitter": 0.5 / 127},
    "batch256": {**BEFORE, "batch_size": 256, "learning_rate": 6e-3},
    "keepadam": {**BEFORE, "keep_optimizer": True},
    "clip+augment": {**BEFORE, "clipnorm": 1.0, "time_stretch": 0.1, "value_jitter": 0.5 / 127},
    "clip+adamw": {**BEFORE, "clipnorm": 1.0, "weight_decay": 1e-3},
    "finetune": {FINE_TUNE: True},  # the trainer from the default model of the dimension
    # The trainer told the run's time (--minutes), its rate falling to its floor by then;
    # scored at that budget only.
    "anneal": {TIMED: True, "anneal": True},
}


@dataclass(frozen=True)
class Screened(Variation):
    """Ways of training the trainer has no flag for, screened here against it (APPROACHES)."""
    weight_decay: float = 0.0  # AdamW's decoupled weight decay; 0: plain Adam
    dropout: float = 0.0  # share of LSTM inputs and recurrent state dropped while training
    time_stretch: float = 0.0  # each training window's dts times a factor within e^(+-this)
    value_jitter: float = 0.0  # standard deviation of noise added to training values (0-1 units)
    # After the warm-up: go on with the warm-up's optimiser (its moment estimates and rate)
    # rather than a fresh one.
    keep_optimizer: bool = False
    # With a time limit: the rate falling in a straight line to min_learning_rate at its
    # end, instead of halving when the validation loss stalls.
    anneal: bool = False

    def window_transform(self, scale: float):
        if not (self.time_stretch or self.value_jitter):
            return None
        return lambda windows: augmented(windows, scale, self.time_stretch, self.value_jitter)

    def build(self, config, gate_activation):
        return keras_model.build_mdrnn(config, gate_activation=gate_activation, dropout=self.dropout)

    def compile(self, model, config, learning_rate, clipnorm):
        if not self.weight_decay:
            return super().compile(model, config, learning_rate, clipnorm)
        model.compile(loss=keras_model.mixture_loss(config), optimizer=keras.optimizers.AdamW(
            learning_rate=learning_rate, weight_decay=self.weight_decay, clipnorm=clipnorm))

    def after_warm_up(self, model, config, learning_rate, clipnorm):
        if not self.keep_optimizer:
            return super().after_warm_up(model, config, learning_rate, clipnorm)
        model.compile(loss=model.loss, optimizer=model.optimizer)  # a step traced anew, the same optimiser

    def rate_callbacks(self, monitor, config, limit):
        if self.anneal and limit is not None:
            return [Anneal(limit, config.min_learning_rate)]
        return super().rate_callbacks(monitor, config, limit)


def augmented(windows: tf.Tensor, scale: float, time_stretch: float, value_jitter: float) -> tf.Tensor:
    """Windows (batch, time, [dt, values], scaled) played a little faster or slower and
    a little less exactly, as the same performer might: every dt of a window times one
    factor within e^(+-time_stretch), and every value moved by Gaussian noise of
    value_jitter (in 0-1 units), kept within 0-1."""
    batch = tf.shape(windows)[0]
    stretch = tf.exp(tf.random.uniform([batch, 1, 1], -time_stretch, time_stretch))
    dts = windows[..., :1] * stretch
    values = windows[..., 1:] + tf.random.normal(tf.shape(windows[..., 1:]), stddev=value_jitter * scale)
    return tf.concat([dts, tf.clip_by_value(values, 0.0, scale)], axis=-1)


class Anneal(keras.callbacks.Callback):
    """In each fit it runs in, the learning rate falls in a straight line from its value
    as the fit begins to `floor` at `limit`'s deadline (read on `limit`'s clock, and
    listed after it, so the deadline is set)."""

    def __init__(self, limit: TimeLimit, floor: float):
        super().__init__()
        self.limit = limit
        self.floor = floor
        self.fall: tuple[float, float] | None = None  # (clock time, rate) the rate falls from

    def on_train_begin(self, logs=None):
        self.fall = (self.limit.clock(), float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))

    def on_train_batch_begin(self, batch, logs=None):
        began, rate = self.fall
        share = min(1.0, (self.limit.clock() - began) / max(self.limit.deadline - began, 1e-9))
        self.model.optimizer.learning_rate = rate + (self.floor - rate) * share


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
        if "val_loss" not in logs:  # a warm-up epoch
            return
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


def heldout_split(dataset: Dataset, heldout: int) -> tuple[Dataset, Dataset]:
    """The dataset without its last `heldout` performances, and those performances."""
    performances = dataset.performances()
    return (Dataset.from_performances(performances[:-heldout]), Dataset.from_performances(performances[-heldout:]))


class Budget(keras.callbacks.Callback):
    """Stops training after `seconds` of it, and every CHECK_SECONDS scores the weights
    on held-out performances, the clock paused meanwhile. Keeps the best-scoring
    weights within each of BUDGETS."""

    def __init__(self, seconds: float, heldout: Dataset, config, budgets: tuple[int, ...] = BUDGETS):
        super().__init__()
        import keras_mdn_layer as mdn

        from imps.learn.training import window_batches

        self.seconds = seconds
        self.budgets = budgets
        self.began = None
        self.paused = 0.0
        self.trained = 0.0  # seconds of training when the weights last changed
        self.batch_loss = None
        self.stalls: list[tuple[float, float]] = []
        self.ends: list[tuple[float, float]] = []  # (seconds, held-out loss) as each fit ended
        self.next_check = 0.0
        self.points: list[tuple[float, float]] = []  # (training seconds, held-out loss)
        self.validation: list[tuple[float, float]] = []  # (training seconds, the trainer's val_loss)
        self.epochs = 0  # epochs ended, the warm-up's included
        self.best: dict[int, tuple[float, list]] = {}  # budget: (held-out loss, weights)
        events = tf.constant(heldout.events * np.float32(config.scale))
        self.batches = window_batches(events, heldout.window_starts(config.seq_len), 256, shuffle=False,
                                      seq_len=config.seq_len)
        self.loss = mdn.get_mixture_loss_func(config.dimension, config.mixtures)
        self.windows = len(heldout.window_starts(config.seq_len))

    def elapsed(self) -> float:
        return time.monotonic() - self.began - self.paused

    def on_train_begin(self, logs=None):
        if self.began is None:
            self.began = time.monotonic()

    def score(self) -> None:
        """The held-out loss of the weights as they are, at the training time they were
        last changed (a validation pass after it does not count against them)."""
        paused = time.monotonic()
        if self.batch_loss is None:
            self.batch_loss = tf.function(lambda x, y: self.loss(y, self.model(x, training=False)),
                                          reduce_retracing=True)
        total = 0.0
        for x, y in self.batches:
            total += float(self.batch_loss(x, y)) * int(x.shape[0])
        loss = total / self.windows
        self.points.append((self.trained, loss))
        print(f"{self.trained:.0f} s of training, {self.epochs} epochs: held-out loss {loss:.3f}", file=sys.stderr,
              flush=True)
        for budget in self.budgets:
            if self.trained <= budget + BUDGET_SLACK and loss < self.best.get(budget, (np.inf,))[0]:
                self.best[budget] = (loss, self.model.get_weights())
        self.paused += time.monotonic() - paused

    def on_train_batch_end(self, batch, logs=None):
        if self.elapsed() - self.trained > 5:  # time that went to something other than steps
            self.stalls.append((self.trained, self.elapsed() - self.trained))
        self.trained = self.elapsed()
        if self.trained >= self.next_check:
            self.score()
            self.next_check = self.trained + CHECK_SECONDS
        if self.trained >= self.seconds:
            self.model.stop_training = True

    def on_train_end(self, logs=None):  # the end of the warm-up, and of training
        self.score()
        self.ends.append(self.points[-1])

    def on_epoch_end(self, epoch, logs=None):
        self.epochs += 1
        if logs and "val_loss" in logs:
            self.validation.append((self.elapsed(), float(logs["val_loss"])))


def budget_run(approach: str, size_name: str, seed: int, seconds: float, events: int = 0,
               epochs: int = NO_EPOCH_CAP) -> dict:
    """One run of one approach, in this process, on the first `events` events of the
    training part (0: all of it), for `seconds` of training or `epochs` epochs (after the
    warm-up, for IMPS's trainer), whichever ends first: its held-out losses, and the
    style of its best weights within each budget, a solo beside the held-out performances."""
    from imps.learn.evaluation import compare_style, continue_playing, SOLO_EVENTS
    from imps.perform.engine import NumpyMDRNN, Predictor
    from imps.core.weights import default_weights_file, load_weights

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    dataset = load_dataset(FULL, allow_pickle=True)  # the original IMPS's file: trusted
    training, heldout = heldout_split(dataset, HELDOUT)
    if events:
        training = first_events(training, events)
    config = SIZES[size_name].config(dataset.dimension)
    overrides = dict(APPROACHES[approach] or {})
    timed = overrides.pop(TIMED, False)
    budget = Budget(seconds, heldout, config, budgets=(round(seconds),) if timed else BUDGETS)
    if APPROACHES[approach] is None:
        keras.utils.set_random_seed(seed)
        x, y = materialised_windows(training)
        model = keras_model.build_mdrnn(config)
        keras_model.compile_for_training(model, config, learning_rate=1e-3)
        model.fit(x, y, batch_size=64, epochs=epochs, validation_split=0.1, shuffle=True, verbose=0,
                  callbacks=[budget])
    else:
        initial = load_weights(default_weights_file(dataset.dimension)) if overrides.pop(FINE_TUNE, False) else None
        screened = {key: overrides.pop(key) for key in list(overrides) if key in Screened.__dataclass_fields__}
        train_config = replace(TrainConfig(model_size=size_name, epochs=epochs, minutes=seconds / 60 if timed else None),
                               **overrides)
        with tempfile.TemporaryDirectory() as tmp:
            # The trainer's time limit read on the budget's clock, which stops while it scores.
            train(training, train_config, models_dir=Path(tmp), tensorboard_dir=None, verbose=0, seed=seed,
                  initial_weights=initial, callbacks=[budget], report=lambda message: None, clock=budget.elapsed,
                  variation=Screened(**screened))
        model = budget.model
    styles = {}
    with tempfile.TemporaryDirectory() as tmp:
        for limit, (loss, weights) in sorted(budget.best.items()):
            model.set_weights(weights)
            path = keras_model.save_weights(model, Path(tmp) / "best.weights.h5")
            predictor = Predictor(NumpyMDRNN(load_weights(path)), 1.0, 0.01, seed=0)
            solo = continue_playing(predictor, heldout.events[:1], min(len(heldout.events), SOLO_EVENTS))
            styles[limit] = compare_style(heldout.performances(), [solo]).distance
    return {"approach": approach, "size": size_name, "seed": seed, "seconds": seconds, "events": events,
            "budgets": list(budget.budgets), "epoch_cap": epochs, "epochs": budget.epochs, "trained": budget.trained, "points": budget.points, "validation": budget.validation, "stalls": budget.stalls, "ends": budget.ends,
            "best": {limit: loss for limit, (loss, _) in budget.best.items()}, "style": styles}


def first_events(dataset: Dataset, count: int) -> Dataset:
    """The first `count` events of a dataset, its performances cut where the count ends."""
    lengths = np.minimum(dataset.lengths, np.maximum(count - np.concatenate([[0], np.cumsum(dataset.lengths)[:-1]]), 0))
    return Dataset(dataset.events[:count], lengths[lengths > 0])


def bench_budgets(args) -> None:
    unknown = set(args.approaches) - set(APPROACHES)
    if unknown:
        sys.exit(f"unknown approaches {', '.join(sorted(unknown))}: choose from {', '.join(APPROACHES)}")
    seconds = args.minutes * 60
    runs = [(a, size, seed, events) for size in args.sizes for events in args.train_events for a in args.approaches
            for seed in args.seeds]
    print(f"\n### Held-out loss in fixed budgets: {FULL.name}, last {HELDOUT} performances held out, "
          f"{len(runs)} runs of {args.minutes:g} min, {args.jobs} at a time on one thread each\n", flush=True)
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1"}

    def one(run):
        approach, size, seed, events = run
        name = f"{approach} {size} seed {seed}" + (f" on {events} events" if events else "")
        # Each run's progress and errors go to a log beside the results, to follow long runs.
        log = args.results.with_suffix(f".{approach}-{size}-{seed}-{events}.log")
        with open(log, "w") as progress:
            result = subprocess.run([sys.executable, __file__, "--budget-run", approach, size, str(seed),
                                     str(seconds), str(events), str(args.epochs)], stdout=subprocess.PIPE,
                                    stderr=progress, text=True, env=environment)
        if result.returncode != 0:
            print(f"{name} failed: {log.read_text().strip().splitlines()[-1:]}", flush=True)
            return None
        record = json.loads(result.stdout.strip().splitlines()[-1])
        with open(args.results, "a") as out:
            out.write(json.dumps(record) + "\n")
        print(f"  {name}: " + ", ".join(f"{limit} s: {loss:.3f}" for limit, loss in
                                       sorted(record["best"].items(), key=lambda i: int(i[0]))), flush=True)
        return record

    with ThreadPoolExecutor(args.jobs) as pool:
        records = [r for r in pool.map(one, runs) if r is not None]
    print_budget_table(records)
    print_spread_table(records)
    print_epochs_table(records)


def print_budget_table(records: list[dict]) -> None:
    print("\n| size | training events | approach | seeds | budget | held-out loss, median | worst | "
          "style distance, median | worst |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    keys = sorted({(r["size"], r.get("events", 0), r["approach"]) for r in records},
                  key=lambda k: (list(SIZES).index(k[0]), k[1], list(APPROACHES).index(k[2])))
    for size, events, approach in keys:
        mine = [r for r in records if (r["size"], r.get("events", 0), r["approach"]) == (size, events, approach)]
        for limit in BUDGETS:
            scored = [r for r in mine if limit in r.get("budgets", BUDGETS)]
            losses = [min(loss for seconds, loss in r["points"] if seconds <= limit + BUDGET_SLACK) for r in scored]
            styles = [r["style"][str(limit)] for r in scored if str(limit) in r["style"]]
            if losses and all(r["seconds"] >= limit for r in scored):
                print(f"| {size} | {f'{events:,}' if events else 'all'} | {approach} | {len(losses)} | "
                      f"{limit // 60} min | {np.median(losses):.3f} | {max(losses):.3f} | {np.median(styles):.2f} | "
                      f"{max(styles):.2f} |")


def print_epochs_table(records: list[dict]) -> None:
    """For runs stopped by --epochs: the best held-out loss each reached, and when."""
    capped = [r for r in records if r.get("epoch_cap", NO_EPOCH_CAP) < NO_EPOCH_CAP]
    if not capped:
        return
    print("\n| size | approach | seed | epochs run | training time | best held-out loss | reached after |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for r in capped:
        seconds, loss = min(r["points"], key=lambda point: point[1])
        print(f"| {r['size']} | {r['approach']} | {r['seed']} | {r['epochs']} | {r['trained'] / 60:.1f} min | "
              f"{loss:.3f} | {seconds / 60:.1f} min |")


def print_spread_table(records: list[dict]) -> None:
    """Where the spread between runs begins: the held-out loss when the warm-up ends and
    the trainer's first validation loss after it, run by run; and where training time
    went to something other than steps (TensorFlow tracing a step anew, validation)."""
    rows = [r for r in records if len(r.get("ends", [])) > 1 and r["validation"]]
    if not rows:
        return
    print("\n| size | training events | approach | seed | held-out loss after the warm-up | "
          "first validation loss after it | waits of over 5 s between steps (training seconds: wait) |")
    print("| --- | ---: | --- | ---: | ---: | ---: | --- |")
    for r in sorted(rows, key=lambda r: (list(SIZES).index(r["size"]), r.get("events", 0),
                                         list(APPROACHES).index(r["approach"]), r["seed"])):
        waits = ", ".join(f"{at:.0f}: {wait:.0f}" for at, wait in r.get("stalls", []))
        events = f"{r['events']:,}" if r.get("events") else "all"
        print(f"| {r['size']} | {events} | {r['approach']} | {r['seed']} | {r['ends'][0][1]:.3f} | "
              f"{r['validation'][0][1]:.3f} | {waits} |")


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
        from imps.learn.training import split_windows, window_batches

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
    parser.add_argument("benchmark", nargs="*", metavar="{speed,memory,budgets}",
                        help="which to run (default: speed and memory)")
    parser.add_argument("--dataset", type=Path, default=FIXTURE)
    parser.add_argument("--size", default="s", choices=list(SIZES))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-epochs", type=int, default=10, help="most epochs for IMPS's trainer")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--approaches", nargs="+", default=["plain", "imps"], help="budgets: which approaches")
    parser.add_argument("--sizes", nargs="+", default=["xs", "s"], choices=list(SIZES), help="budgets: which sizes")
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3], help="budgets: which seeds")
    parser.add_argument("--train-events", nargs="+", type=int, default=[0],
                        help="budgets: train on the first N events of the training part (0: all)")
    parser.add_argument("--minutes", type=float, default=BUDGETS[-1] / 60, help="budgets: training time of a run")
    parser.add_argument("--jobs", type=int, default=2, help="budgets: runs at a time, one CPU thread each")
    parser.add_argument("--epochs", type=int, default=NO_EPOCH_CAP,
                        help="budgets: also stop a run after this many epochs (after the warm-up, for IMPS's trainer)")
    parser.add_argument("--results", type=Path, default=Path("budgets.jsonl"),
                        help="budgets: where each run's record is appended")
    parser.add_argument("--table", action="store_true", help="budgets: only print the table of --results")
    parser.add_argument("--child", nargs=2, metavar=("HOW", "EVENTS"), help=argparse.SUPPRESS)  # memory's own process
    parser.add_argument("--budget-run", nargs=6, help=argparse.SUPPRESS)  # one budgets run in its own process
    args = parser.parse_args()
    if args.child:
        memory_child(args.child[0], int(args.child[1]))
        return
    if args.budget_run:
        approach, size, seed, seconds, events, epochs = args.budget_run
        print(json.dumps(budget_run(approach, size, int(seed), float(seconds), int(events), int(epochs))))
        return
    if args.table:
        records = [json.loads(line) for line in args.results.read_text().splitlines() if line.strip()]
        print_budget_table(records)
        print_spread_table(records)
        return
    args.benchmark = args.benchmark or ("speed", "memory")
    if set(args.benchmark) - set(("speed", "memory", "budgets")):
        parser.error("choose from speed, memory, budgets")
    if "budgets" in args.benchmark:
        bench_budgets(args)
    if "speed" in args.benchmark:
        bench_speed(args)
    if "memory" in args.benchmark:
        bench_memory(args)


if __name__ == "__main__":
    main()
