"""Every setting of the performance server, with its default, written here and nowhere
else (ServerConfig, MidiConfig); predictive_music_model.py's flags take their defaults
from these dataclasses. The trainer's settings are imps/learn/config.py's."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.model import DEFAULT_DIMENSION, DEFAULT_SIZE
from .interaction import CALL_RESPONSE

if TYPE_CHECKING:
    from .midimap import PortControls

# Which network steps the model: numpy (imps/perform/engine.py), or keras, the same
# model through TensorFlow (imps/learn/keras_model.py), which the script loads itself.
NUMPY_ENGINE = "numpy"
KERAS_ENGINE = "keras"
ENGINES = (NUMPY_ENGINE, KERAS_ENGINE)

# How python-rtmidi reaches MIDI ports on Linux: ALSA's sequencer (the system's MIDI),
# or a JACK server's MIDI ports.
MIDI_APIS = ("alsa", "jack")


@dataclass
class MidiConfig:
    inputs: tuple[PortControls, ...] = ()  # each input port and the controls it sets; none: no MIDI in
    outputs: tuple[PortControls, ...] = ()  # each port predictions go to and the controls it is sent
    api: str | None = None  # one of MIDI_APIS; None: python-rtmidi's default (ALSA on Linux)
    feedback_protection: bool = False  # ignore a controller echoing back what IMPS just sent it
    feedback_window: float = 0.2  # seconds after a send in which its echo is ignored
    din: bool = False  # thin predictions to what a DIN MIDI cable carries


@dataclass
class SerialConfig:
    port: str  # a device path, or a fragment of a listed port's device or description
    baud: int = 115200  # the sketch's Serial.begin
    scale: float = 1.0  # each number read is divided by this (1023: analogRead as it is)


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
    serial: SerialConfig | None = None  # None: no serial port


# The smallest log_max_bytes: a file holds a few lines at least, or a performance
# becomes thousands of files.
MIN_LOG_BYTES = 1000
