"""How well a model plays: its likelihood on held-out playing, and its style beside the
playing it learned from (utils/evaluate_model.py is the command line).

Style is measured on what a musician hears. A control *changes* in an event when it
moves by more than CHANGE (one 7-bit MIDI step); a *rest* is a gap of REST seconds or
more, and a *gesture* the run of events between rests. Each row of STYLE_ROWS is a
distribution taken from a performance; a model's row is compared with the dataset's by
the Wasserstein-1 distance between the two, divided by the dataset's standard
deviation for that row, and the style distance is the mean over the rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .config import TrainConfig
from .dataset import Dataset
from .engine import NumpyMDRNN, Predictor
from .errors import DatasetTooShort
from .interaction import MIN_DT
from .model import Sampling
from .weights import MDRNNWeights

CHANGE = 1 / 127  # a control changes when it moves by more than this
REST = 0.5  # seconds: a gap this long or longer is a rest
SOLO_EVENTS = 10_000  # the most events the model plays alone
PHRASE_EVENTS = 8  # the fewest events a held-out phrase has, half of them fed, half answered
# The temperatures choose_sampling tries, and the seed of its solos: not the report's
# default seed, so the report does not score the very solo that chose its settings.
SAMPLING_GRID = tuple(Sampling(pi, sigma) for pi in (0.5, 0.75, 1.0, 1.25)
                      for sigma in (0.01, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.25))
CHOOSING_SEED = 1

SHARE_ROW = "rests (share of gaps)"  # 1 for each gap that is a rest, 0 for the others
STYLE_ROWS = (
    "time between events (s)",
    SHARE_ROW,
    "controls changed per event",
    "distance a control moves per event",
    "distance a control moves per gesture",
    "range a control covers per gesture",
    "gesture length (s)",
    "rest length (s)",
)


def wasserstein1(a: np.ndarray, b: np.ndarray) -> float:
    """The Wasserstein-1 distance between two samples on the line: the area between
    their cumulative distributions."""
    a, b = np.sort(np.asarray(a, np.float64)), np.sort(np.asarray(b, np.float64))
    grid = np.concatenate([a, b])
    grid.sort()
    cdf_a = np.searchsorted(a, grid[:-1], side="right") / len(a)
    cdf_b = np.searchsorted(b, grid[:-1], side="right") / len(b)
    return float(np.sum(np.abs(cdf_a - cdf_b) * np.diff(grid)))


def style_samples(performances: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Each STYLE_ROWS distribution, pooled over performances of rows [dt, x1, ..., xN]."""
    rows: dict[str, list] = {name: [] for name in STYLE_ROWS}
    for events in performances:
        if len(events) < 2:
            continue
        dt, values = events[:, 0], events[:, 1:]
        moves = np.abs(np.diff(values, axis=0))  # from each event to the next
        changed = moves > CHANGE
        rests = dt[1:] >= REST  # the gap before each event but the first
        rows["time between events (s)"].append(dt[1:])
        rows[SHARE_ROW].append(rests.astype(np.float64))
        rows["controls changed per event"].append(changed.sum(axis=1).astype(np.float64))
        rows["distance a control moves per event"].append(moves[changed])
        rows["rest length (s)"].append(dt[1:][rests])
        starts = np.concatenate([[0], np.flatnonzero(rests) + 1])  # first event of each gesture
        for start, end in zip(starts, np.concatenate([starts[1:], [len(events)]])):
            gesture_moves, gesture_changed = moves[start:end - 1], changed[start:end - 1]
            moved = gesture_changed.any(axis=0)
            rows["gesture length (s)"].append([dt[start + 1:end].sum()])
            rows["distance a control moves per gesture"].append(gesture_moves.sum(axis=0)[moved])
            span = values[start:end]
            rows["range a control covers per gesture"].append((span.max(axis=0) - span.min(axis=0))[moved])
    return {name: np.concatenate([np.ravel(part) for part in parts]) if parts else np.empty(0)
            for name, parts in rows.items()}


@dataclass
class StyleRow:
    name: str
    dataset: np.ndarray
    model: np.ndarray

    @property
    def distance(self) -> float:
        """W1 between model and dataset over the dataset's standard deviation; a model
        that never shows the row (no rests, say) counts as a sample of zeros."""
        spread = float(np.std(self.dataset)) if len(self.dataset) else 0.0
        if spread == 0.0:
            return float("nan")
        model = self.model if len(self.model) else np.zeros(1)
        return wasserstein1(self.dataset, model) / spread


@dataclass
class Style:
    rows: list[StyleRow]

    @property
    def distance(self) -> float:
        """The style distance: the mean of the rows' distances (rows the dataset cannot
        measure, such as rest lengths of a dataset without rests, are left out)."""
        return float(np.nanmean([row.distance for row in self.rows]))


def compare_style(dataset_performances: list[np.ndarray], model_performances: list[np.ndarray]) -> Style:
    ours, theirs = style_samples(dataset_performances), style_samples(model_performances)
    return Style([StyleRow(name, ours[name], theirs[name]) for name in STYLE_ROWS])


def as_played(prediction: np.ndarray) -> np.ndarray:
    """A predicted event as the player sends it and the model hears it back."""
    return np.concatenate([[max(float(prediction[0]), MIN_DT)], np.clip(prediction[1:], 0.0, 1.0)])


def continue_playing(predictor: Predictor, fed: np.ndarray, count: int) -> np.ndarray:
    """Feed `fed` (rows [dt, x1, ...]) to the predictor, then let it play `count` events
    on from its own output, as a response does on stage."""
    predictor.network.reset()
    prediction = None
    for event in fed:
        prediction = predictor.predict(event)
    played = []
    for _ in range(count):
        event = as_played(prediction)
        played.append(event)
        prediction = predictor.predict(event)
    return np.array(played).reshape(count, len(fed[0]))


def choose_sampling(weights: MDRNNWeights, dataset: Dataset, grid: tuple[Sampling, ...] = SAMPLING_GRID,
                    solo_events: int = SOLO_EVENTS, seed: int = CHOOSING_SEED) -> list[tuple[Sampling, float]]:
    """Each temperature pair of `grid` with the style distance of a solo played at it,
    closest to the dataset's style first."""
    network = NumpyMDRNN(weights)
    performances = [p for p in dataset.performances() if len(p)]
    count = min(len(dataset.events), solo_events)
    results = []
    for sampling in grid:
        predictor = Predictor(network, sampling.pi_temp, sampling.sigma_temp, seed=seed)
        solo = continue_playing(predictor, dataset.events[:1], count)
        results.append((sampling, compare_style(performances, [solo]).distance))
    return sorted(results, key=lambda result: result[1])


def heldout_phrases(dataset: Dataset, validation_fraction: float) -> list[np.ndarray]:
    """Gestures of at least PHRASE_EVENTS events lying wholly in the dataset's last
    `validation_fraction` of events, the part the trainer holds out."""
    first_heldout = int(len(dataset.events) * (1 - validation_fraction))
    phrases = []
    offset = 0
    for events in dataset.performances():
        rests = np.flatnonzero(events[1:, 0] >= REST) + 1
        for start, end in zip(np.concatenate([[0], rests]), np.concatenate([rests, [len(events)]])):
            if offset + start >= first_heldout and end - start >= PHRASE_EVENTS:
                phrases.append(events[start:end])
        offset += len(events)
    return phrases


@dataclass
class Report:
    heldout_loss: float
    heldout_windows: int
    performance_losses: list[tuple[int, float]]  # (events, loss) per performance long enough for a window
    solo: np.ndarray  # what the model played alone
    solo_style: Style
    phrases: int
    answer_style: Style | None  # None when the held-out part has no phrase long enough
    settings: dict = field(default_factory=dict)


def heldout_losses(weights: MDRNNWeights, dataset: Dataset,
                   validation_fraction: float = TrainConfig.validation_fraction,
                   batch_size: int = TrainConfig.batch_size) -> tuple[float, int, list[tuple[int, float]]]:
    """The mixture loss on the last `validation_fraction` of windows, exactly as the
    trainer's val_loss (the same windows, scaling and Keras loss); and the loss on the
    windows of each performance in turn."""
    import tensorflow as tf

    from . import keras_model
    from .training import split_windows, window_batches

    config = weights.config
    starts = dataset.window_starts(config.seq_len)
    _, validation = split_windows(starts, validation_fraction)
    if not len(validation):
        raise DatasetTooShort(config.seq_len)
    model = keras_model.build_mdrnn(config, gate_activation=weights.gate_activation)
    keras_model.set_weights(model, weights)
    keras_model.compile_for_training(model, config, TrainConfig.learning_rate)
    events = tf.constant(dataset.events * np.float32(config.scale))

    def loss(window_starts: np.ndarray) -> float:
        batches = window_batches(events, window_starts, batch_size, shuffle=False, seq_len=config.seq_len)
        return float(model.evaluate(batches, verbose=0))

    ends = np.cumsum(dataset.lengths)
    per_performance = [(int(n), loss(starts[(starts >= end - n) & (starts < end)]))
                       for n, end in zip(dataset.lengths, ends) if n > config.seq_len]
    return loss(validation), len(validation), per_performance


def evaluate(weights: MDRNNWeights, dataset: Dataset, pi_temp: float, sigma_temp: float, seed: int = 0,
             solo_events: int = SOLO_EVENTS,
             validation_fraction: float = TrainConfig.validation_fraction) -> Report:
    """The whole report: held-out losses, a seeded solo beside the dataset, and the
    model's answers to held-out phrases beside the real continuations."""
    loss, windows, per_performance = heldout_losses(weights, dataset, validation_fraction)
    predictor = Predictor(NumpyMDRNN(weights), pi_temp, sigma_temp, seed=seed)
    count = min(len(dataset.events), solo_events)
    solo = continue_playing(predictor, dataset.events[:1], count)
    performances = [p for p in dataset.performances() if len(p)]
    phrases = heldout_phrases(dataset, validation_fraction)
    answers = [continue_playing(predictor, p[:len(p) // 2], len(p) - len(p) // 2) for p in phrases]
    real = [p[len(p) // 2:] for p in phrases]
    return Report(loss, windows, per_performance, solo, compare_style(performances, [solo]), len(phrases),
                  compare_style(real, answers) if phrases else None,
                  {"pitemp": pi_temp, "sigmatemp": sigma_temp, "seed": seed})
