"""Every setting a musician can change, with its default, written here and nowhere else:
the performance server's (ServerConfig) and the trainer's (TrainConfig). The scripts'
flags take their defaults from these dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .engine import NUMPY_ENGINE
from .interaction import CALL_RESPONSE
from .midimap import MidiMapping
from .model import DEFAULT_SIZE

DEFAULT_DIMENSION = 2  # one interface value and dt: the smallest model

# How training spreads over devices: mirrored copies the model onto every GPU;
# auto chooses mirrored when more than one GPU is visible.
STRATEGIES = ("auto", "default", "mirrored")


# How python-rtmidi reaches MIDI ports on Linux: ALSA's sequencer (the system's MIDI),
# or a JACK server's MIDI ports.
MIDI_APIS = ("alsa", "jack")


@dataclass
class MidiConfig:
    mapping: MidiMapping
    in_port: str | None = None  # the first input port whose name contains this; None: no MIDI in
    out_port: str | None = None  # the same for predictions out; None: no MIDI out
    api: str | None = None  # one of MIDI_APIS; None: python-rtmidi's default (ALSA on Linux)
    feedback_protection: bool = False  # ignore a controller echoing back what IMPS just sent it
    feedback_window: float = 0.2  # seconds after a send in which its echo is ignored
    din: bool = False  # thin predictions to what a DIN MIDI cable carries


@dataclass
class ServerConfig:
    dimension: int = DEFAULT_DIMENSION
    mode: str = CALL_RESPONSE
    server_ip: str = "localhost"  # where /interface is heard
    server_port: int = 5001
    client_ip: str = "localhost"  # where /prediction goes: the synth
    client_port: int = 5000
    logs_dir: Path | None = None  # None: do not log
    call_response_threshold: float = 2.0  # seconds of quiet before the model answers
    # The longest one predicted wait (seconds, before /timescale): the model's dt is
    # unbounded, and one long wait would leave an installation silent.
    max_wait: float = 10.0
    log_max_bytes: int | None = None  # a log file this large is closed and the next begun; None: no limit
    verbose: bool = False
    model_size: str = DEFAULT_SIZE
    model_file: Path | None = None  # None: look in models/, then the default models
    # None: the model's stored setting, else IMPS's (model.resolve_sampling).
    sigma_temp: float | None = None
    pi_temp: float | None = None
    engine: str = NUMPY_ENGINE
    midi: MidiConfig | None = None  # None: OSC only


# The smallest log_max_bytes: a file holds a few lines at least, or a performance
# becomes thousands of files.
MIN_LOG_BYTES = 1000

# Two of the musician's events further apart than this (seconds) in a log are taken as
# two performances in a dataset, as is a clock that steps back between them.
PERFORMANCE_GAP = 600.0


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
    per_value: bool = False  # a mixture for each value of an event (imps/model.py); False: one over the event


def epochs_text(count: int) -> str:
    """'1 epoch', '6 epochs': how the trainer's plan and progress count them."""
    return f"{count} epoch{'' if count == 1 else 's'}"
