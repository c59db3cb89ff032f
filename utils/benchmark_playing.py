#!/usr/bin/env python3
"""How well trained models play people's playing they never heard, as tables for docs/playing-quality.md.

    python utils/benchmark_playing.py train --data 4d 9d --approaches imps --seeds 1 --minutes 10
    python utils/benchmark_playing.py report           # the table of every model trained so far
    python utils/benchmark_playing.py report --original    # and the original author's 4-d model
    python utils/benchmark_playing.py report --data 9d --models imps/core/default_models/*dim9*    # named weights files
    python utils/benchmark_playing.py split --out datasets   # each dataset's training part, for the trainer
    python utils/benchmark_playing.py diagnose --models WEIGHTS ...   # fed the players' events, and on its own

Two real datasets from the original IMPS (tests/fixtures/README.md): 4d, people playing
a 3-control interface, and 9d, an 8-control one. Each is split into the performances a
model learns from and the last few, held out whole and never trained on (HELDOUT).

train: each run trains one approach (a set of TrainConfig changes; "imps" is the
trainer as it is) for --minutes on the training performances, as
train_predictive_music_model.py --minutes does, the sampling chosen and stored at the
end as the trainer does; runs go --jobs at a time, each in its own process on one CPU
thread, so a run's minutes are one core's. Each keeps its weights in --out.

report: for every weights file in --out, on the held-out performances: the loss (the
trainer's val_loss on their windows), and the style distance (imps/learn/evaluation.py) of a
solo and of answers to their phrases, at IMPS's default sampling, at the sampling the
trainer stored, and at the best of the 36 pairs for each (what sampling alone could
reach); then the rows a musician hears most, at the stored sampling.

diagnose: for each of --models, what the model predicts when fed the players' own
held-out events (teacher forcing) beside what it plays on its own: whether it knows
the moves it fails to make.
"""

from __future__ import annotations

import bootstrap  # noqa: F401  (first: one BLAS thread as the server runs; tests/harness)

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
from harness import FIXTURES

from imps.core.model import DEFAULT_SAMPLING, SIZES, Sampling
from imps.learn.dataset import Dataset, load_dataset

# One core a run: TensorFlow's thread pools as well as BLAS (read when TensorFlow loads).
for variable in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
    os.environ.setdefault(variable, "1")
# Each real dataset, and how many of its last performances are held out whole.
DATASETS = {
    "4d": (FIXTURES / "training-dataset-4d.npz", 4),  # 4,671 events, as utils/benchmark_training.py budgets
    "9d": (FIXTURES / "training-dataset-9d-first41.npz", 5),  # 7,781 events
}
ORIGINAL_4D = FIXTURES / "musicMDRNN-dim4-layers2-units64-mixtures5-scale10.h5"

# What each approach changes in TrainConfig ("imps": the trainer's defaults).
APPROACHES: dict[str, dict] = {
    "imps": {},
    "pervalue": {"per_value": True},  # a mixture for each value (imps/core/model.py)
}

ROWS_SHOWN = ("controls changed per event", "range a control covers per gesture", "gesture length (s)")


def split(name: str) -> tuple[Dataset, Dataset]:
    """A real dataset's training performances and its held-out ones."""
    path, heldout = DATASETS[name]
    performances = load_dataset(path, allow_pickle=True).performances()  # the original IMPS's file: trusted
    return Dataset.from_performances(performances[:-heldout]), Dataset.from_performances(performances[-heldout:])


def train_run(data: str, approach: str, size: str, seed: int, minutes: float, out: Path) -> dict:
    """One training run in this process; its weights go to `out`."""
    from imps.learn.config import TrainConfig
    from imps.learn.training import train

    training, _ = split(data)
    config = replace(TrainConfig(model_size=size, minutes=minutes), **APPROACHES[approach])
    with tempfile.TemporaryDirectory() as tmp:
        result = train(training, config, models_dir=Path(tmp), tensorboard_dir=None, verbose=0, seed=seed,
                       report=lambda line: print(line, file=sys.stderr, flush=True))
        target = out / f"{data}-{approach}-{size}-{seed}.weights.h5"
        shutil.copyfile(result.weights_path, target)
    return {"data": data, "approach": approach, "size": size, "seed": seed, "minutes": minutes,
            "weights": str(target), "best_val_loss": result.best_loss, "best_epoch": result.best_epoch,
            "epochs": result.epochs_run, "seconds": result.seconds}


def bench_train(args) -> None:
    unknown = set(args.approaches) - set(APPROACHES)
    if unknown:
        sys.exit(f"unknown approaches {', '.join(sorted(unknown))}: choose from {', '.join(APPROACHES)}")
    args.out.mkdir(parents=True, exist_ok=True)
    runs = [(d, a, size, seed) for d in args.data for size in args.sizes for a in args.approaches for seed in args.seeds]
    print(f"{len(runs)} runs of {args.minutes:g} min, {args.jobs} at a time on one thread each", flush=True)

    def one(run):
        data, approach, size, seed = run
        log = args.out / f"{data}-{approach}-{size}-{seed}.log"
        with open(log, "w") as progress:
            result = subprocess.run([sys.executable, __file__, "--train-run", data, approach, size, str(seed),
                                     str(args.minutes), str(args.out)], stdout=subprocess.PIPE, stderr=progress,
                                    text=True)
        if result.returncode != 0:
            print(f"{run} failed: see {log}", flush=True)
            return
        record = result.stdout.strip().splitlines()[-1]
        with open(args.out / "runs.jsonl", "a") as records:
            records.write(record + "\n")
        print(f"  {data} {approach} {size} seed {seed}: {record}", flush=True)

    with ThreadPoolExecutor(args.jobs) as pool:
        list(pool.map(one, runs))


def played(weights, heldout: Dataset, sampling: Sampling, seed: int = 0):
    """The solo's and the answers' styles beside the held-out performances, at one
    sampling (every held-out performance is held out: validation_fraction 1)."""
    from imps.perform.engine import NumpyMDRNN
    from imps.learn.evaluation import answer_phrases, heldout_phrases, solo_style

    network = NumpyMDRNN(weights)
    solo, _ = solo_style(network, sampling, heldout.performances(), seed)
    return solo, answer_phrases(network, sampling, heldout_phrases(heldout, 1.0), seed)


def median(style, row: str) -> float | None:
    """The model's median in one row of a style, and the dataset's: (model, player)."""
    found = next(r for r in style.rows if r.name == row)
    return (float(np.median(found.model)) if len(found.model) else None,
            float(np.median(found.dataset)) if len(found.dataset) else None)


def report_one(path: Path, data: str) -> dict:
    """The held-out figures of one weights file."""
    from imps.learn.evaluation import SAMPLING_GRID, heldout_losses
    from imps.core.weights import load_weights

    weights = load_weights(path)
    _, heldout = split(data)
    loss, _, _ = heldout_losses(weights, heldout, validation_fraction=1.0)
    record = {"loss": loss, "sampling": weights.sampling.flags() if weights.sampling else None}
    samplings = {"default": DEFAULT_SAMPLING, **({"stored": weights.sampling} if weights.sampling else {})}
    for name, sampling in samplings.items():
        solo, answers = played(weights, heldout, sampling)
        record[name] = {"solo": solo.distance, "answering": answers.distance,
                        "rows": {row: [median(solo, row), median(answers, row)] for row in ROWS_SHOWN}}
    grid = [played(weights, heldout, sampling) for sampling in SAMPLING_GRID]
    record["best_solo"] = min(solo.distance for solo, _ in grid)
    record["best_answering"] = min(answers.distance for _, answers in grid)
    return record


def teacher_forced(weights, heldout: Dataset) -> dict:
    """Fed the players' own held-out events: how far the most likely component's mean
    moves the controls the player moved next, and the controls the player held."""
    from imps.perform.engine import NumpyMDRNN
    from imps.learn.evaluation import CHANGE

    network = NumpyMDRNN(weights)
    moved_by_player, moved_by_model, same_direction, held_off = [], [], [], []
    for events in heldout.performances():
        network.reset()
        for now, after in zip(events[:-1], events[1:]):
            mixture = network.step(now.astype(np.float64) * weights.config.scale)
            logits = mixture.pi_logits if mixture.pi_logits.ndim == 1 else mixture.pi_logits.sum(axis=1)
            mean = mixture.mus[int(np.argmax(logits)), 1:] / weights.config.scale
            step, predicted = after[1:] - now[1:], mean - now[1:]
            moved = np.abs(step) > CHANGE
            moved_by_player += list(np.abs(step[moved]))
            moved_by_model += list(np.abs(predicted[moved]))
            same_direction += list(np.sign(step[moved]) == np.sign(predicted[moved]))
            held_off += list(np.abs(predicted[~moved]))
    return {"player": np.mean(moved_by_player), "model": np.mean(moved_by_model),
            "same direction": np.mean(same_direction), "held": np.mean(held_off)}


def bench_diagnose(args) -> None:
    """Teacher-forced against free-running, for each of --models."""
    from imps.core.weights import load_weights

    print("| model | data | fed the player's events: the player's move / the model's / same direction / off on "
          "held controls | playing on its own at the stored sampling: move per event / range per gesture "
          "(players') |")
    print("| --- | --- | ---: | ---: |")
    for path in args.models:
        weights = load_weights(path)
        data = f"{weights.dimension}d"
        _, heldout = split(data)
        forced = teacher_forced(weights, heldout)
        solo, _ = played(weights, heldout, weights.sampling or DEFAULT_SAMPLING)
        move, player_move = median(solo, "distance a control moves per event")
        span, player_span = median(solo, "range a control covers per gesture")
        print(f"| {path.name} | {data} | {forced['player']:.3f} / {forced['model']:.3f} / "
              f"{forced['same direction']:.0%} / {forced['held']:.4f} | {move:.3f} / {span:.2f} ({player_move:.3f} / "
              f"{player_span:.2f}) |", flush=True)


def bench_split(args) -> None:
    """Write each dataset's training performances as training-dataset-{D}d.npz in --out,
    for the trainer (utils/make_default_models.sh)."""
    from imps.learn.dataset import save_dataset
    from imps.core.names import dataset_path

    for data in args.data:
        training, heldout = split(data)
        path = save_dataset(training, dataset_path(args.out, training.dimension))
        print(f"{path}: {training.summary()} (held out: {heldout.summary()})")


def bench_report(args) -> None:
    runs = args.out / "runs.jsonl"
    jobs = [json.loads(line) for line in runs.read_text().splitlines() if line.strip()] if runs.exists() else []
    jobs = [run for run in jobs if run["data"] in args.data]
    if args.original and "4d" in args.data:
        jobs.insert(0, {"weights": str(ORIGINAL_4D), "data": "4d", "approach": "original author's", "size": "s",
                        "seed": "-", "minutes": "overnight"})
    for path in args.models:
        from imps.core.weights import describe, load_weights

        config = load_weights(path).config
        jobs.append({"weights": str(path), "data": f"{config.dimension}d", "approach": path.name, "size": "",
                     "seed": "-", "minutes": describe(config, with_dimension=False)})
    print("| data | model | seed | held-out loss | stored sampling | solo: default / stored / best of 36 | "
          "answering: default / stored / best of 36 | range a control covers per gesture, solo / answering / player "
          "| controls changed per event, solo / player | gesture length (s), solo / player |")
    print("| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")

    def cell(value) -> str:
        return "-" if value is None else f"{value:.2f}"

    for run in jobs:
        r = report_one(Path(run["weights"]), run["data"])
        stored = r["sampling"]
        shown = r["stored" if stored else "default"]["rows"]
        (solo_range, player_range), (answer_range, _) = shown["range a control covers per gesture"]
        (solo_changed, player_changed), _ = shown["controls changed per event"]
        (solo_gesture, player_gesture), _ = shown["gesture length (s)"]
        print(f"| {run['data']} | {run['approach']} {run['size']}, {run['minutes']}"
              f"{' min' if isinstance(run['minutes'], float) else ''} | {run['seed']} | "
              f"{r['loss']:.3f} | {stored or 'none'} | {cell(r['default']['solo'])} / "
              f"{cell(r['stored']['solo']) if stored else '-'} / {cell(r['best_solo'])} | "
              f"{cell(r['default']['answering'])} / {cell(r['stored']['answering']) if stored else '-'} / "
              f"{cell(r['best_answering'])} | {cell(solo_range)} / {cell(answer_range)} / {cell(player_range)} | "
              f"{cell(solo_changed)} / {cell(player_changed)} | {cell(solo_gesture)} / {cell(player_gesture)} |",
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("benchmark", nargs="?", choices=("train", "report", "split", "diagnose"))
    parser.add_argument("--data", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--approaches", nargs="+", default=["imps"])
    parser.add_argument("--sizes", nargs="+", default=["s"], choices=list(SIZES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[1])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("playing-benchmark"),
                        help="where the weights, logs and runs.jsonl go")
    parser.add_argument("--original", action="store_true", help="report: the original author's 4-d model too")
    parser.add_argument("--models", nargs="+", type=Path, default=[],
                        help="report: these weights files too, each on the real dataset of its dimension")
    parser.add_argument("--train-run", nargs=6, help=argparse.SUPPRESS)  # one run in its own process
    args = parser.parse_args()
    if args.train_run:
        data, approach, size, seed, minutes, out = args.train_run
        print(json.dumps(train_run(data, approach, size, int(seed), float(minutes), Path(out))))
    elif args.benchmark == "train":
        bench_train(args)
    elif args.benchmark == "report":
        bench_report(args)
    elif args.benchmark == "split":
        bench_split(args)
    elif args.benchmark == "diagnose":
        bench_diagnose(args)
    else:
        parser.error("choose train, report, split or diagnose")


if __name__ == "__main__":
    main()
