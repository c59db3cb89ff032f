#!/usr/bin/env python3
"""IMPS's own log reader against pandas, as a table for docs/hand-written.md.

    pip install pandas            # only for this comparison: IMPS itself does not use pandas
    python utils/benchmark_log_reader.py

Writes a procedural corpus (the procedural default models' recipe, corpus.DEFAULT_MODELS_CORPUS:
100 performances of about 48 s) into a temporary folder, then collates it two ways:

- imps: imps.learn.dataset.collate_logs, the hand-written reader generate_dataset.py uses;
- pandas: read_csv with the C parser (the original IMPS's column layout, bad lines
  skipped), ISO timestamps parsed by to_datetime, interface rows kept, dt by diff.

It reports the time each takes (best of three) and whether both give the same
dataset. Then it reads one log holding each kind of bad line the tests use (a line
cut off mid-number by a crash, the wrong count of values, text, NaN, a bad timestamp)
and shows what each reader makes of it.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from imps.core import cli
from imps.core.names import log_glob
from imps.learn.corpus import DEFAULT_MODELS_CORPUS as recipe
from imps.learn.corpus import make_corpus
from imps.learn.dataset import collate_logs

DIMENSION = 9

MESSY_LOG = (
    "2024-01-01T12:00:00.000000,interface,0.1,0.2\n"
    "2024-01-01T12:00:00.100000,interface,0.3,0.4\n"
    "2024-01-01T12:00:00.200000,interface,0.5\n"  # wrong count of values
    "2024-01-01T12:00:00.300000,interface,loud,0.6\n"  # text
    "2024-01-01T12:00:00.400000,interface,nan,0.6\n"  # not finite
    "yesterday,interface,0.7,0.8\n"  # bad timestamp
    "2024-01-01T12:00:00.500000,interface,0.9,0.95\n"
    "2024-01-01T12:00:00.600000,interface,0.9,0.8765"[:-3]  # cut off by a crash: no newline, 0.8 for 0.8765
)


def pandas_collate(files: list[Path], n_values: int):
    import pandas as pd

    performances = []
    for path in files:
        frame = pd.read_csv(path, header=None, names=["time", "source", *range(n_values)], on_bad_lines="skip",
                            engine="c")
        frame["time"] = pd.to_datetime(frame["time"], format="ISO8601", errors="coerce")
        values = frame[list(range(n_values))].apply(pd.to_numeric, errors="coerce")
        keep = (frame["source"] == "interface") & frame["time"].notna() & np.isfinite(values).all(axis=1)
        times = frame["time"][keep].to_numpy().astype("datetime64[ns]").astype(np.int64) / 1e9
        rows = np.column_stack([np.diff(times), values[keep].to_numpy()[1:]]).astype(np.float32)
        performances.append(rows)
    return np.concatenate(performances)


def best_of(runs: int, work) -> tuple[float, object]:
    best, result = np.inf, None
    for _ in range(runs):
        began = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - began)
    return best, result


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    began = time.perf_counter()
    try:
        import pandas
    except ImportError:
        cli.fail("this comparison needs pandas (pip install pandas), which IMPS itself does not use")
    import_s = time.perf_counter() - began
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        make_corpus(folder, DIMENSION, recipe.performances, recipe.minutes, seed=recipe.seed)
        files = sorted(folder.glob(log_glob(DIMENSION)))
        ours_s, (dataset, _) = best_of(3, lambda: collate_logs(folder, DIMENSION))
        theirs_s, rows = best_of(3, lambda: pandas_collate(files, DIMENSION - 1))
        same = rows.shape == dataset.events.shape and np.allclose(rows, dataset.events, atol=2e-6)
        print(f"\n### Collating {len(files)} logs, {len(dataset.events):,} events, dimension {DIMENSION} "
              f"(pandas {pandas.__version__})\n")
        print("| reader | seconds (best of 3) | same dataset |")
        print("| --- | ---: | --- |")
        print(f"| imps (hand-written) | {ours_s:.2f} | yes |")
        print(f"| pandas read_csv (C parser) | {theirs_s:.2f} | {'yes' if same else 'NO'} |")
        print(f"\nImporting pandas took {import_s:.2f} s more.")

        messy = folder / "messy" / "2024-01-01T12-00-00-3d-mdrnn.log"
        messy.parent.mkdir()
        messy.write_text(MESSY_LOG)
        (ours, [report]) = collate_logs(messy.parent, 3)
        theirs = pandas_collate([messy], 2)
        print("\n### One log with each kind of bad line\n")
        print("| reader | dataset rows | last row's values | what it says about the rest |")
        print("| --- | ---: | --- | --- |")
        print(f"| imps | {len(ours.events)} | {ours.events[-1, 1:].astype(float).round(4).tolist()} | "
              f"{', '.join(f'{n} {reason}' for reason, n in sorted(report.skipped.items()))} |")
        last = theirs[-1, 1:].astype(float).round(4).tolist()
        print(f"| pandas | {len(theirs)} | {last} | nothing: bad lines vanish |")


if __name__ == "__main__":
    main()
