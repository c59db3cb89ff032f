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
    # After the warm-up: True goes on with the warm-up's Adam (its moment estimates and
    # rate), False starts a fresh one at learning_rate.
    keep_optimizer: bool = False
    # Each screened by utils/benchmark_training.py (the README gives the figures): only
    # the cap on gradients helped on held-out playing in both likelihood and style.
    clipnorm: float | None = 1.0  # cap on each weight's gradient norm; None: no cap
    weight_decay: float = 0.0  # AdamW's decoupled weight decay; 0: plain Adam
    dropout: float = 0.0  # share of LSTM inputs and recurrent state dropped while training
    time_stretch: float = 0.0  # each training window's dts times a factor within e^(+-this)
    value_jitter: float = 0.0  # standard deviation of noise added to training values (0-1 units)
    strategy: str = "auto"
    minutes: float | None = None  # the most minutes of training, the warm-up's included; None: no limit
    # Screened too, and no better: with a time limit, the rate falling in a straight line
    # to min_learning_rate at its end instead of halving when the validation loss stalls.
    anneal: bool = False
    # At the end, choose the sampling whose playing is closest to the dataset's and store
    # it with the weights (evaluation.choose_and_store).
    choose_sampling: bool = True
    per_value: bool = False  # a mixture for each value of an event (imps/core/model.py); False: one over the event


def epochs_text(count: int) -> str:
    """'1 epoch', '6 epochs': how the trainer's plan and progress count them."""
    return f"{count} epoch{'' if count == 1 else 's'}"
