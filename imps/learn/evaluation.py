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

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.errors import DatasetTooShort
from ..core.model import Sampling
from ..core.names import report_plot_path
from ..core.weights import MDRNNWeights, load_weights, store_sampling
from ..perform.config import ServerConfig
from ..perform.engine import NumpyMDRNN, Predictor
from ..perform.interaction import as_played
from .config import TrainConfig
from .dataset import Dataset

CHANGE = 1 / 127  # a control changes when it moves by more than this
REST = 0.5  # seconds: a gap this long or longer is a rest
SOLO_EVENTS = 10_000  # the most events the model plays alone
PHRASE_EVENTS = 8  # the fewest events a held-out phrase has, half of them fed, half answered
# The temperatures choose_sampling tries, and the seed of its solos: not the report's
# default seed, so the report does not score the very solo that chose its settings.
SAMPLING_GRID = tuple(Sampling(pi, sigma) for pi in (0.5, 0.75, 1.0, 1.25)
                      for sigma in (0.01, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.25))
CHOOSING_SEED = 1
TRIAL_EVENTS = 3_000  # events each pair plays in choose_sampling's first, coarse pass
FINALISTS = 4  # pairs that play again at full length

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
    def unmeasured(self) -> str | None:
        """Why the dataset's side cannot measure this row, in words; None when it can. The
        real continuations of phrases, for one, hold no rest: each phrase is a gesture."""
        if not len(self.dataset):
            return "the real playing has none"
        if float(np.std(self.dataset)) == 0.0:
            return "the real playing does not vary"
        return None

    @property
    def distance(self) -> float:
        """W1 between model and dataset over the dataset's standard deviation; a model
        that never shows the row (no rests, say) counts as a sample of zeros; nan where
        the row is unmeasured."""
        if self.unmeasured:
            return float("nan")
        model = self.model if len(self.model) else np.zeros(1)
        return wasserstein1(self.dataset, model) / float(np.std(self.dataset))


@dataclass
class Style:
    rows: list[StyleRow]

    @property
    def distance(self) -> float:
        """The style distance: the mean of the distances of the rows the dataset can
        measure (StyleRow.unmeasured says why one cannot)."""
        return float(np.mean([row.distance for row in self.rows if not row.unmeasured]))


def compare_style(dataset_performances: list[np.ndarray], model_performances: list[np.ndarray]) -> Style:
    ours, theirs = style_samples(dataset_performances), style_samples(model_performances)
    return Style([StyleRow(name, ours[name], theirs[name]) for name in STYLE_ROWS])


def continue_playing(predictor: Predictor, fed: np.ndarray, count: int) -> np.ndarray:
    """Feed `fed` (rows [dt, x1, ...]) to the predictor, then let it play `count` events
    on from its own output, as a response does on stage."""
    predictor.network.reset()
    prediction = None
    for event in fed:
        prediction = predictor.predict(event)
    played = []
    for _ in range(count):
        event = as_played(prediction, ServerConfig.max_wait)  # as the server plays it by default
        played.append(event)
        prediction = predictor.predict(event)
    return np.array(played).reshape(count, len(fed[0]))


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


def solo_style(network: NumpyMDRNN, sampling: Sampling, performances: list[np.ndarray], seed: int,
               events: int = SOLO_EVENTS) -> tuple[Style, np.ndarray]:
    """A seeded solo, started from the first event of `performances` and as long as they
    are (at most `events`), and its style beside them."""
    predictor = Predictor(network, sampling.pi_temp, sampling.sigma_temp, seed=seed)
    solo = continue_playing(predictor, performances[0][:1], min(sum(map(len, performances)), events))
    return compare_style(performances, [solo]), solo


def answer_phrases(network: NumpyMDRNN, sampling: Sampling, phrases: list[np.ndarray], seed: int) -> Style | None:
    """The style of the model's answers to `phrases` (each fed its first half, then
    playing as many events as its second half holds) beside the real second halves;
    None without phrases."""
    if not phrases:
        return None
    predictor = Predictor(network, sampling.pi_temp, sampling.sigma_temp, seed=seed)
    answers = [continue_playing(predictor, p[:len(p) // 2], len(p) - len(p) // 2) for p in phrases]
    return compare_style([p[len(p) // 2:] for p in phrases], answers)


@dataclass
class SamplingScore:
    """How a model plays at one sampling: the style distances of a solo and of answers."""
    sampling: Sampling
    solo: float
    answering: float | None  # None: no held-out phrase to answer
    solo_played: np.ndarray | None = None
    solo_style: Style | None = None

    @property
    def distance(self) -> float:
        """What choose_sampling minimises: the mean of the two, weighed alike. Call and
        response, IMPS's default mode, plays answers; battle and polyphony play on from
        the model's own events, as a solo does; a pair that is good at one only would
        let one of them down."""
        return self.solo if self.answering is None else (self.solo + self.answering) / 2


def thinned(phrases: list[np.ndarray], events: int) -> list[np.ndarray]:
    """Phrases spread evenly over `phrases`, about `events` events in all."""
    total = sum(map(len, phrases))
    step = max(1, -(-total // events)) if events else 1
    return phrases[::step]


def choose_sampling(weights: MDRNNWeights, dataset: Dataset,
                    validation_fraction: float = TrainConfig.validation_fraction,
                    grid: tuple[Sampling, ...] = SAMPLING_GRID, trial_events: int = TRIAL_EVENTS,
                    finalists: int = FINALISTS, seed: int = CHOOSING_SEED) -> list[SamplingScore]:
    """Each temperature pair of `grid` scored by SamplingScore.distance, closest to the
    dataset's style first: a solo beside the whole dataset and answers to the phrases of
    its held-out part. Coarse, then fine: every pair plays `trial_events` (a solo that
    long, phrases about that many events), then the `finalists` closest play again, at
    full length with another seed, and are ordered by that; the one that wins was not
    picked for the luck of one draw."""
    network = NumpyMDRNN(weights)
    performances = [p for p in dataset.performances() if len(p)]
    phrases = heldout_phrases(dataset, validation_fraction)

    def score(sampling: Sampling, events: int, seed: int) -> SamplingScore:
        style, solo = solo_style(network, sampling, performances, seed, events)
        answers = answer_phrases(network, sampling, thinned(phrases, events) if events < SOLO_EVENTS else phrases,
                                 seed)
        return SamplingScore(sampling, style.distance, answers.distance if answers else None, solo, style)

    by_distance = lambda result: result.distance  # noqa: E731
    trials = sorted((score(sampling, trial_events, seed) for sampling in grid), key=by_distance)
    final = sorted((score(trial.sampling, SOLO_EVENTS, seed + 1) for trial in trials[:finalists]), key=by_distance)
    return final + trials[finalists:]


def choice_line(tried: list[SamplingScore]) -> str:
    """What choose_sampling found, in one line: the closest few pairs."""
    def scored(result: SamplingScore) -> str:
        answering = "" if result.answering is None else f", answering {result.answering:.2f}"
        return f"{result.sampling.flags()} (solo {result.solo:.2f}{answering})"
    return (f"sampling: played at {len(tried)} temperature pairs; the closest to the dataset's style: "
            + "; ".join(scored(result) for result in tried[:3]))


@dataclass
class SamplingChoice:
    """What the trainer chose and stored at its end, and how it plays there."""
    best: SamplingScore
    pairs: int  # pairs tried
    seconds: float
    picture: Path

    def summary_lines(self) -> list[str]:
        answering = ("" if self.best.answering is None
                     else f", answering held-out phrases {self.best.answering:.2f}")
        return [f"  sampling:      {self.best.sampling.flags()}, stored with the weights (the closest in style of "
                f"{self.pairs} pairs, chosen in {self.seconds:.0f} s)",
                f"  style distance at it (0: plays as the dataset does): solo {self.best.solo:.2f}{answering}",
                f"  report:        {self.picture}"]


def choose_and_store(path: Path, dataset: Dataset, validation_fraction: float) -> SamplingChoice:
    """Choose the sampling of the weights at `path` (choose_sampling), store it in the
    file, and draw the report's picture of the solo at it beside the file."""
    from .plots import plot_evaluation

    began = time.monotonic()
    tried = choose_sampling(load_weights(path), dataset, validation_fraction)
    best = tried[0]
    store_sampling(path, best.sampling)
    picture = plot_evaluation(best.solo_style, best.solo_played, report_plot_path(path), Path(path).name)
    return SamplingChoice(best, len(tried), time.monotonic() - began, picture)


def evaluate(weights: MDRNNWeights, dataset: Dataset, pi_temp: float, sigma_temp: float, seed: int = 0,
             solo_events: int = SOLO_EVENTS,
             validation_fraction: float = TrainConfig.validation_fraction) -> Report:
    """The whole report: held-out losses, a seeded solo beside the dataset, and the
    model's answers to held-out phrases beside the real continuations."""
    loss, windows, per_performance = heldout_losses(weights, dataset, validation_fraction)
    network = NumpyMDRNN(weights)
    sampling = Sampling(pi_temp, sigma_temp)
    style, solo = solo_style(network, sampling, [p for p in dataset.performances() if len(p)], seed, solo_events)
    phrases = heldout_phrases(dataset, validation_fraction)
    return Report(loss, windows, per_performance, solo, style, len(phrases),
                  answer_phrases(network, sampling, phrases, seed),
                  {"pitemp": pi_temp, "sigmatemp": sigma_temp, "seed": seed})
