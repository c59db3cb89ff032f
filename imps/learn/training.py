"""Training an MDRNN on a dataset of performances.

Each training example is a window of SEQ_LEN + 1 consecutive events of one
performance: the model reads the first SEQ_LEN and predicts, at every step, the event
after it. Windows are cut from the dataset as batches are drawn (tf.data), never all
held in memory at once, so memory grows with the dataset, not fifty times with it.
The last 10% of windows are held out for validation, as Keras's validation_split
did for the original IMPS.

Three things make training reach a better model sooner than the plain approach (Adam
at 1e-3 on 50-event windows throughout; see utils/benchmark_training.py and the
figures on held-out playing in docs/training.md):

- a warm-up on short windows: the first epochs read 5-event windows (TrainConfig),
  each a tenth of the work of a 50-event one, so the model takes many more steps in
  the same time while it learns what one event says about the next; then it goes on
  with 50-event windows to learn longer context;
- a higher learning rate (3e-3), halved whenever the validation loss stalls;
- a cap on each weight's gradient norm: the mixture's loss divides by its predicted
  variances, so one surprising event can give a gradient hundreds of times the usual
  one, and without the cap such a step undid what the warm-up had learned.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from ..core.errors import TrainingDiverged
from ..core.model import ModelConfig, model_size
from ..core.names import (LOGS_DIR, MODELS_DIR, checkpoint_path, loss_plot_path, model_name, report_path,
                          weights_path)
from ..core.report import ModelReport
from ..core.weights import SIGMOID, MDRNNWeights
from . import keras_model
from .config import STRATEGIES, TrainConfig, epochs_text
from .dataset import Dataset
from .evaluation import SamplingChoice, choose_and_store
from .plots import plot_losses


def split_windows(starts: np.ndarray, validation_fraction: float):
    n_validation = int(len(starts) * validation_fraction)
    n_train = len(starts) - n_validation
    return starts[:n_train], starts[n_train:]


def window_batches(events: tf.Tensor, starts: np.ndarray, batch_size: int, shuffle: bool, seq_len: int,
                   seed: int | None = None,
                   transform: Callable[[tf.Tensor], tf.Tensor] | None = None) -> tf.data.Dataset:
    """Batches of (inputs, targets), each (batch, seq_len, dimension), gathered from
    `events` (already scaled) at the given window starts; with `transform`, each batch
    of windows passes through it first (Variation.window_transform)."""
    offsets = tf.range(seq_len + 1, dtype=tf.int64)

    def gather(batch_starts):
        windows = tf.gather(events, batch_starts[:, None] + offsets[None, :])
        if transform is not None:
            windows = transform(windows)
        return windows[:, :-1], windows[:, 1:]

    # Training drops each pass's last, smaller batch (other windows each pass, as they are
    # shuffled): a batch of another shape makes TensorFlow trace the training step again,
    # which on one CPU core takes about 10 s (utils/benchmark_training.py saw it).
    drop_remainder = shuffle and len(starts) >= batch_size
    starts = tf.constant(starts, tf.int64)
    if shuffle:
        # A fresh permutation of the starts each pass, as one tensor: a shuffle buffer of a
        # million single-element tensors would cost far more memory than the data.
        generator = (tf.random.Generator.from_seed(seed) if seed is not None
                     else tf.random.Generator.from_non_deterministic_state())

        def one_pass(_):
            order = tf.argsort(generator.uniform([tf.size(starts)]))
            return tf.data.Dataset.from_tensor_slices(tf.gather(starts, order))

        # Told its length, Keras can show progress and ETA from the first epoch.
        data = tf.data.Dataset.range(1).flat_map(one_pass).apply(
            tf.data.experimental.assert_cardinality(int(starts.shape[0])))
    else:
        data = tf.data.Dataset.from_tensor_slices(starts)
    return data.batch(batch_size, drop_remainder=drop_remainder).map(
        gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


@dataclass
class TrainingResult:
    weights_path: Path
    plot_path: Path
    best_loss: float
    best_epoch: int  # counted from 1
    monitored: str
    epochs_run: int
    seconds: float
    history: dict
    time_limit_reached: bool = False
    interrupted: bool = False  # by Ctrl-C: the best weights until then were kept
    choice: SamplingChoice | None = None  # None: the sampling was not chosen
    report: Path | None = None  # the report's figures beside the weights (core/report.py)

    def summary(self) -> str:
        minutes, seconds = divmod(round(self.seconds), 60)
        lines = [
            f"  time taken:    {minutes} min {seconds} s" + (", the time limit" if self.time_limit_reached else "")
            + (", interrupted" if self.interrupted else ""),
            f"  weights:       {self.weights_path}",
            f"  loss plot:     {self.plot_path}",
            f"  best {self.monitored}: {self.best_loss:.4f} at epoch {self.best_epoch} of {self.epochs_run}"
            + (" (held-out windows)" if self.monitored == "val_loss" else ""),
        ]
        if self.choice is not None:
            lines += self.choice.summary_lines()
        if self.report is not None:
            lines.append(f"  figures:       {self.report}")
        return "\n".join(lines)


class BestWeights(keras.callbacks.Callback):
    """Keeps the weights of the epoch with the lowest monitored loss, in memory and
    in a checkpoint file that is replaced whole, never left half-written."""

    def __init__(self, monitor: str, checkpoint_path: Path, gate_activation: str):
        super().__init__()
        self.monitor = monitor
        self.gate_activation = gate_activation
        self.checkpoint_path = checkpoint_path
        self.best_loss = np.inf
        self.best_epoch = 0
        self.best_weights = None

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get(self.monitor)
        if loss is not None and loss < self.best_loss:
            self.best_loss = float(loss)
            self.best_epoch = epoch + 1
            self.best_weights = self.model.get_weights()
            keras_model.save_weights(self.model, self.checkpoint_path, self.gate_activation)


class TimeLimit(keras.callbacks.Callback):
    """Ends training `seconds` after it began, by `clock`, the warm-up included."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.seconds = seconds
        self.clock = clock
        self.deadline: float | None = None
        self.reached = False

    def on_train_begin(self, logs=None):
        if self.deadline is None:
            self.deadline = self.clock() + self.seconds

    def on_train_batch_end(self, batch, logs=None):
        if self.clock() >= self.deadline:
            self.reached = True
            self.model.stop_training = True


def devices_line() -> str:
    """Whether training runs on a GPU, in one line."""
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "training on the CPU: TensorFlow sees no GPU"
    names = [tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name) for gpu in gpus]
    return f"training on {len(gpus)} GPU{'s' if len(gpus) > 1 else ''}: {', '.join(names)}"


def distribution_strategy(name: str) -> tf.distribute.Strategy:
    """A tf.distribute strategy by name (see config.STRATEGIES)."""
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}: choose one of {', '.join(STRATEGIES)}")
    if name == "auto":
        name = "mirrored" if len(tf.config.list_logical_devices("GPU")) > 1 else "default"
    return tf.distribute.MirroredStrategy() if name == "mirrored" else tf.distribute.get_strategy()


class Variation:
    """How train() builds, compiles and feeds the model, and steers its learning rate:
    this class is the trainer's way. utils/benchmark_training.py screens other ways
    (augmented windows, dropout, AdamW, the warm-up's optimiser kept, the rate annealed)
    as subclasses; none helped on held-out playing, so the trainer has no flag for them."""

    def window_transform(self, scale: float) -> Callable[[tf.Tensor], tf.Tensor] | None:
        """What each batch of training windows (events times `scale`) passes through; None: nothing."""
        return None

    def build(self, config: ModelConfig, gate_activation: str) -> keras.Model:
        return keras_model.build_mdrnn(config, gate_activation=gate_activation)

    def compile(self, model: keras.Model, config: ModelConfig, learning_rate: float, clipnorm: float | None) -> None:
        keras_model.compile_for_training(model, config, learning_rate, clipnorm)

    def after_warm_up(self, model: keras.Model, config: ModelConfig, learning_rate: float,
                      clipnorm: float | None) -> None:
        """Ready the model for the longer windows: a training step traced anew, and a fresh optimiser."""
        self.compile(model, config, learning_rate, clipnorm)

    def rate_callbacks(self, monitor: str, config: TrainConfig, limit: TimeLimit | None) -> list[keras.callbacks.Callback]:
        """What steers the main fit's learning rate: halved whenever `monitor` stalls."""
        return [keras.callbacks.ReduceLROnPlateau(monitor=monitor, factor=0.5, patience=config.plateau_patience,
                                                  min_lr=config.min_learning_rate)]


def train(dataset: Dataset, config: TrainConfig, models_dir: Path | str = MODELS_DIR,
          initial_weights: MDRNNWeights | None = None, tensorboard_dir: Path | str | None = LOGS_DIR,
          verbose: int = 1, seed: int | None = None, callbacks: list | None = None,
          report: Callable[[str], None] = print, clock: Callable[[], float] = time.monotonic,
          variation: Variation = Variation(), dataset_name: str | None = None) -> TrainingResult:
    """Fit the MDRNN to `dataset` and write its best weights (with a loss plot, and the
    report's figures naming the dataset `dataset_name`) into `models_dir`:
    `config.warmup_epochs` on short windows, then up to `config.epochs` on the model's
    full windows, within `config.minutes` by `clock` if given. Extra Keras `callbacks`
    run in both parts, before the trainer's own."""
    began = time.monotonic()
    report(devices_line())
    size = model_size(config.model_size)
    # Weights trained on go on with their own head, whatever the config says.
    model_config = size.config(dataset.dimension,
                               initial_weights.per_value if initial_weights is not None else config.per_value)
    seq_len = model_config.seq_len
    train_starts, validation_starts = split_windows(dataset.window_starts(seq_len), config.validation_fraction)
    events = tf.constant(dataset.events * np.float32(model_config.scale))
    transform = variation.window_transform(model_config.scale)
    train_data = window_batches(events, train_starts, config.batch_size, shuffle=True, seq_len=seq_len, seed=seed,
                                transform=transform)
    validation_data = window_batches(events, validation_starts, config.batch_size, shuffle=False, seq_len=seq_len) \
        if len(validation_starts) else None
    monitor = "val_loss" if validation_data is not None else "loss"

    if seed is not None:
        keras.utils.set_random_seed(seed)
    # Weights from the original IMPS keep training with the Keras 2 gates they learned with.
    gate = initial_weights.gate_activation if initial_weights is not None else SIGMOID
    strategy = distribution_strategy(config.strategy)
    with strategy.scope():
        model = variation.build(model_config, gate)
        if initial_weights is not None:
            initial_weights.check_matches(dataset.dimension, size, "the starting weights")
            keras_model.set_weights(model, initial_weights)
        variation.compile(model, model_config, config.learning_rate, config.clipnorm)

    # Listed after the caller's callbacks in both parts, so that a clock they keep (the
    # benchmark's, paused while it scores) has started when this one first reads it.
    limit = TimeLimit(config.minutes * 60, clock) if config.minutes else None
    final_path = weights_path(models_dir, model_config)
    best = BestWeights(monitor, checkpoint_path(models_dir, model_config), gate)
    interrupted = False
    try:
        if config.warmup_epochs > 0:
            # Short windows from the training part only, none reaching into the validation windows.
            short_len = config.warmup_seq_len
            short = dataset.window_starts(short_len)
            short = short[short + short_len <= train_starts[-1] + seq_len]
            report(f"warming up: {epochs_text(config.warmup_epochs)} on {short_len}-event windows")
            model.fit(window_batches(events, short, config.batch_size, shuffle=True, seq_len=short_len, seed=seed,
                                     transform=transform),
                      epochs=config.warmup_epochs, verbose=verbose, shuffle=False,
                      callbacks=[*(callbacks or []), *([limit] if limit else [])])
            report(f"training: up to {epochs_text(config.epochs)} on {seq_len}-event windows")
            with strategy.scope():
                variation.after_warm_up(model, model_config, config.learning_rate, config.clipnorm)

        all_callbacks = [*(callbacks or []), best, keras.callbacks.TerminateOnNaN(), *([limit] if limit else []),
                         *variation.rate_callbacks(monitor, config, limit)]
        if config.early_stopping:
            all_callbacks.append(keras.callbacks.EarlyStopping(monitor=monitor, patience=config.patience))
        if tensorboard_dir is not None:
            run = datetime.datetime.now().strftime("%Y-%m-%dT%H-%M-%S")
            all_callbacks.append(keras.callbacks.TensorBoard(
                log_dir=str(Path(tensorboard_dir) / "tensorboard" / f"{run}-{model_name(model_config)}")))

        # shuffle=False: the window pipeline shuffles; Keras cannot shuffle a tf.data.Dataset.
        model.fit(train_data, validation_data=validation_data, epochs=config.epochs, callbacks=all_callbacks,
                  verbose=verbose, shuffle=False)
    except KeyboardInterrupt:
        if best.best_weights is None:
            raise
        interrupted = True
        report(f"\ninterrupted: keeping the best weights so far, from epoch {best.best_epoch}")
    seconds = time.monotonic() - began
    history = model.history.history if model.history is not None else {}  # the epochs that ended
    if best.best_weights is None:  # not one epoch's loss was a number (TerminateOnNaN stopped it)
        raise TrainingDiverged()
    model.set_weights(best.best_weights)
    keras_model.save_weights(model, final_path, gate)
    plot = plot_losses(history, loss_plot_path(models_dir, model_config))
    result = TrainingResult(final_path, plot, best.best_loss, best.best_epoch, monitor,
                            len(history.get("loss", [])), seconds, history,
                            limit is not None and limit.reached, interrupted)
    if config.choose_sampling:
        try:  # the line too: Ctrl-C may come the moment it is printed
            report("choosing the sampling whose playing is closest to the dataset's" +
                   (" (Ctrl-C again to skip it)" if interrupted else ""))
            result.choice = choose_and_store(final_path, dataset, config.validation_fraction)
        except KeyboardInterrupt:
            result.interrupted = True
            report("\nsampling not chosen: the model plays at IMPS's defaults unless you give temperatures")
    choice = result.choice
    # Last: the figures name the file as it is now, its sampling stored.
    result.report = ModelReport.of(final_path, dataset_name, result.best_loss if monitor == "val_loss" else None,
                                   *((choice.best.solo, choice.best.answering, choice.best.sampling)
                                     if choice is not None else ())).write(report_path(final_path))
    return result
