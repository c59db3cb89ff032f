"""Pictures of performances and datasets, as PNG files (matplotlib, no display needed).

- `plot_log`: one lane per value over time, the musician's (`interface`) and the
  model's (`rnn`) events in different colours.
- `plot_dataset`: events per performance, and how the times between events spread.

Each PNG is written to a temporary file beside its destination and renamed into
place, so it is complete or absent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.files import written_whole
from ..core.logs import SOURCES, read_log, values_per_line
from .dataset import Dataset

COLOURS = {"interface": "#1f77b4", "rnn": "#d62728"}
LABELS = {"interface": "interface (musician)", "rnn": "rnn (model)"}


class PlotError(Exception):
    """Input that cannot be drawn, with a message for the musician."""


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    return pyplot


def save_png(figure, path: Path | str) -> Path:
    """Write `figure` to `path` whole or not at all, and close it."""
    try:
        with written_whole(path, ".png") as tmp:
            figure.savefig(tmp, format="png")
    finally:
        _pyplot().close(figure)
    return Path(path)


def plot_losses(history: dict, path: Path | str) -> Path:
    """Training and validation loss per epoch, as the trainer leaves it beside the weights."""
    path = Path(path)
    figure, axes = _pyplot().subplots(figsize=(7, 4), dpi=100)
    epochs = np.arange(1, len(history.get("loss", [])) + 1)
    axes.plot(epochs, history.get("loss", []), label="training")
    if "val_loss" in history:
        axes.plot(epochs, history["val_loss"], label="validation")
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss (negative log-likelihood)")
    axes.set_title(path.name.removesuffix("-loss.png"), fontsize=9)
    axes.legend()
    figure.tight_layout()
    return save_png(figure, path)


HOLD = 1.0  # seconds of silence after which a source's line is drawn dotted
DPI = 100  # pixels per inch of the pictures, 12 inches wide


def plot_log(path: Path | str, output: Path | str, n_values: int | None = None, start: float | None = None,
             end: float | None = None, title: str | None = None, dpi: int = DPI, hold: float = HOLD) -> Path:
    """Draw the log at `path` as a PNG at `output`: one lane per value, time in seconds
    from the log's first event; `start` and `end` (seconds) choose a stretch of it.
    Each source's line is solid while it plays and dotted across its silences longer
    than `hold` seconds."""
    path = Path(path)
    if not path.is_file():
        raise PlotError(f"no log file at {path}")
    if n_values is None:
        n_values = values_per_line(path)
        if n_values is None:
            raise PlotError(f"{path} holds no IMPS log lines (timestamp,interface|rnn,x1,...,xN)")
    contents = read_log(path, n_values)
    if not contents.events:
        reasons = ", ".join(f"{n} {why}" for why, n in sorted(contents.skipped.items())) or "it is empty"
        raise PlotError(f"{path} has no usable lines with {n_values} values ({reasons})")
    t0 = contents.events[0].time
    times = {source: [] for source in SOURCES}
    values = {source: [] for source in SOURCES}
    for event in contents.events:
        times[event.source].append(event.time - t0)
        values[event.source].append(event.values)
    lo = 0.0 if start is None else start
    hi = max(max(t) for t in times.values() if t) if end is None else end
    if hi <= lo:
        raise PlotError(f"nothing to draw between {lo:g} s and {hi:g} s: the log lasts "
                        f"{max(max(t) for t in times.values() if t):.1f} s")

    plt = _pyplot()
    lane_height = 0.85 if n_values <= 12 else max(0.3, 10.0 / n_values)
    height = 1.35 + lane_height * n_values
    figure, lanes = plt.subplots(n_values, 1, sharex=True, squeeze=False, figsize=(12, height), dpi=dpi)
    lanes = lanes[:, 0]
    counts = {}
    for source in SOURCES:
        t = np.asarray(times[source])
        v = np.asarray(values[source]).reshape(-1, n_values)
        shown = (t >= lo) & (t <= hi)
        counts[source] = int(shown.sum())
        if not counts[source]:
            continue
        t, v = t[shown], v[shown]
        moved = np.vstack([np.ones((1, n_values), bool), np.diff(v, axis=0) != 0])
        # Solid steps while this source plays; across a silence longer than `hold`, a
        # dotted line: the value is held, but nobody is playing it.
        breaks = np.flatnonzero(np.diff(t) > hold)
        solid_t = np.insert(t, breaks + 1, np.nan)
        for k, lane in enumerate(lanes):
            lane.plot(solid_t, np.insert(v[:, k], breaks + 1, np.nan), drawstyle="steps-post",
                      color=COLOURS[source], linewidth=1.1, alpha=0.9,
                      label=f"{LABELS[source]}: {counts[source]} events")
            if len(breaks):
                nan = np.full(len(breaks), np.nan)
                held_t = np.column_stack([t[breaks], t[breaks + 1], t[breaks + 1], nan]).ravel()
                held_v = np.column_stack([v[breaks, k], v[breaks, k], v[breaks + 1, k], nan]).ravel()
                lane.plot(held_t, held_v, color=COLOURS[source], linewidth=0.8, alpha=0.45, linestyle=":")
            dots = moved[:, k]
            lane.plot(t[dots], v[dots, k], linestyle="none", color=COLOURS[source], marker=".", markersize=3)
    for k, lane in enumerate(lanes):
        lane.set_ylim(-0.05, 1.05)
        lane.set_yticks([0, 1] if n_values > 4 else [0, 0.5, 1])
        lane.set_ylabel(f"x{k + 1}", rotation=0, ha="right", va="center", fontsize=9)
        lane.tick_params(labelsize=8)
        lane.grid(True, axis="x", alpha=0.3)
    lanes[-1].set_xlim(lo, hi)
    lanes[-1].set_xlabel("seconds since the first event")
    handles, labels = lanes[0].get_legend_handles_labels()
    figure.suptitle(title or f"{path.name}: {hi - lo:.1f} s", x=0.01, y=1 - 0.08 / height, ha="left", va="top",
                    fontsize=10)
    if handles:  # under the title, so that a long title never runs into it
        figure.legend(handles, labels, loc="upper right", bbox_to_anchor=(0.99, 1 - 0.26 / height), ncol=2,
                      fontsize=9, frameon=False, borderaxespad=0)
    figure.subplots_adjust(left=0.05, right=0.99, bottom=0.7 / height, top=1 - 0.62 / height, hspace=0.12)
    return save_png(figure, output)


def plot_dataset(dataset: Dataset, output: Path | str, title: str = "dataset", dpi: int = DPI) -> Path:
    """A dataset's summary as a PNG: events in each performance, and a histogram of the
    times between events on logarithmic axes."""
    if not len(dataset.events):
        raise PlotError(f"{title} holds no events")
    plt = _pyplot()
    figure, (bars, histogram) = plt.subplots(1, 2, figsize=(12, 4.2), dpi=dpi)
    n = len(dataset.lengths)
    bars.bar(np.arange(1, n + 1), dataset.lengths, width=0.8 if n < 200 else 1.0, color=COLOURS["interface"])
    bars.set_xlabel("performance")
    bars.set_ylabel("events")
    bars.set_title(f"events per performance (mean {dataset.lengths.mean():.0f})", fontsize=10)
    bars.set_xlim(0.4, n + 0.6)
    if n <= 20:
        bars.set_xticks(np.arange(1, n + 1))

    dt = dataset.events[:, 0].astype(np.float64)
    positive = dt[dt > 0]
    if len(positive):
        low, high = positive.min(), positive.max()
        edges = np.geomspace(low, high * 1.0001, 60) if high > low else np.array([low * 0.9, low * 1.1])
        histogram.hist(positive, bins=edges, color=COLOURS["interface"])
        histogram.set_xscale("log")
        histogram.set_yscale("log")
        median = float(np.median(positive))
        histogram.axvline(median, color="black", linewidth=1, linestyle="--", label=f"median {median * 1000:.0f} ms")
        histogram.legend(fontsize=9, frameon=False)
    not_shown = len(dt) - len(positive)
    histogram.set_xlabel("seconds since the previous event (log scale)")
    histogram.set_ylabel("events (log scale)")
    histogram.set_title("time between events" + (f" ({not_shown} events of 0 s not shown)" if not_shown else ""),
                        fontsize=10)
    figure.suptitle(f"{title}: {dataset.dimension}-d, {dataset.summary()}", x=0.01, ha="left", fontsize=10)
    figure.tight_layout()
    return save_png(figure, output)


SOLO_SECONDS = 20.0  # how much of the model's solo the report's picture shows


def plot_evaluation(style, solo: np.ndarray, output: Path | str, title: str, dpi: int = DPI) -> Path:
    """The quality report's picture: each style row's distribution for the dataset and
    the model overlaid, and the first SOLO_SECONDS of the model's solo, a lane per control."""
    plt = _pyplot()
    rows = style.rows
    columns = 4
    grid_rows = -(-len(rows) // columns)
    figure = plt.figure(figsize=(12, 2.4 * grid_rows + 3.2), dpi=dpi)
    layout = figure.add_gridspec(grid_rows + 1, columns, height_ratios=[2.4] * grid_rows + [3.2])
    for k, row in enumerate(rows):
        axes = figure.add_subplot(layout[k // columns, k % columns])
        both = np.concatenate([row.dataset, row.model]) if len(row.model) else row.dataset
        if len(both):
            low, high = both.min(), np.percentile(both, 99)
            if high <= low:  # one value (a model that never varies a row): a bin around it
                low, high = low - 0.5, low + 0.5
            edges = np.histogram_bin_edges(both, bins=30, range=(low, high))
            for sample, source, label in ((row.dataset, "interface", "dataset"), (row.model, "rnn", "model")):
                if len(sample):  # what lies beyond the shown range counts in its end bins
                    axes.hist(np.clip(sample, edges[0], edges[-1]), bins=edges, density=True, alpha=0.5,
                              color=COLOURS[source], label=label)
        axes.set_title(f"{row.name}\ndistance {row.distance:.2f}", fontsize=8)
        axes.tick_params(labelsize=7)
        if k == 0:
            axes.legend(fontsize=7, frameon=False)
    lanes = figure.add_subplot(layout[grid_rows, :])
    times = np.cumsum(solo[:, 0])
    shown = times <= times[0] + SOLO_SECONDS
    for control in range(solo.shape[1] - 1):
        lanes.step(times[shown], solo[shown, control + 1] + control * 1.1, where="post", color=COLOURS["rnn"],
                   linewidth=1)
    lanes.set_yticks([control * 1.1 + 0.5 for control in range(solo.shape[1] - 1)],
                     [f"x{control + 1}" for control in range(solo.shape[1] - 1)], fontsize=7)
    lanes.set_xlabel("seconds")
    lanes.set_title(f"the model's solo, first {SOLO_SECONDS:g} s", fontsize=9)
    figure.suptitle(f"{title}: style distance {style.distance:.2f}", x=0.01, ha="left", fontsize=10)
    figure.tight_layout()
    return save_png(figure, output)
