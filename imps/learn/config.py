"""Every setting of the trainer, with its default, written here and nowhere else:
train_predictive_music_model.py's flags take their defaults from TrainConfig."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.model import DEFAULT_SIZE

# How training spreads over devices: mirrored copies the model onto every GPU;
# auto chooses mirrored when more than one GPU is visible.
STRATEGIES = ("auto", "default", "mirrored")


@dataclass
class TrainConfig:
    model_size: str = DEFAULT_SIZE
    epochs: int = 100  # the most epochs on SEQ_LEN-event windows, after the warm-up
    batch_size: int = 64
    early_stopping: bool = False
    patience: int = 10  # epochs without improvement before early stopping
    learning_rate: float = 3e-3  # Adam's, halved whenever the validation loss stalls
    plateau_patience: int = 2  # epochs the validation loss may stall before the rate is halved
    min_learning_rate: float = 1e-4
    # The warm-up: epochs on short windows before the long ones, many quick steps
    # while the model learns how one event leads to the next.
    warmup_epochs: int = 6
    warmup_seq_len: int = 5
    validation_fraction: float = 0.1  # the last windows, held out as Keras's validation_split did
    # Of the ways utils/benchmark_training.py screened (training.Variation; docs/training.md
    # gives the figures), only this cap on gradients helped on held-out playing in both
    # likelihood and style.
    clipnorm: float | None = 1.0  # cap on each weight's gradient norm; None: no cap
    strategy: str = "auto"
    minutes: float | None = None  # the most minutes of training, the warm-up's included; None: no limit
    # At the end, choose the sampling whose playing is closest to the dataset's and store
    # it with the weights (evaluation.choose_and_store).
    choose_sampling: bool = True
    per_value: bool = False  # a mixture for each value of an event (imps/core/model.py); False: one over the event


def epochs_text(count: int) -> str:
    """'1 epoch', '6 epochs': how the trainer's plan and progress count them."""
    return f"{count} epoch{'' if count == 1 else 's'}"
