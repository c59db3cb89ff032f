"""MDRNN weights as plain numpy arrays, read from any file IMPS users have.

Reads three kinds of HDF5 file with h5py alone (no TensorFlow, no pickle), so the
performance engine can start in a fraction of a second:

- this project's weights, written by Keras 3 `save_weights` (`*.weights.h5`);
- weights saved by the original IMPS with Keras 2 `save_weights` (top-level groups
  `lstm0`, `lstm1`, `td_mdn` with `mus`, `sigmas`, `pis`);
- whole models saved by the original IMPS with Keras 2 `model.save` (`model_weights`).

Keras 2 LSTMs defaulted to a piecewise-linear `hard_sigmoid` (0.2 x + 0.5, clipped) for
their gates; Keras 3 uses the logistic sigmoid. Original weights only perform as trained
with the gate they were trained with, so the gate travels with the weights.
"""

from __future__ import annotations

import io
import json
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import Iterator

import h5py
import numpy as np

from .errors import WeightsError, WeightsMismatch
from .files import written_whole
from .model import ModelConfig, ModelSize, Sampling
from .names import MODELS_DIR, WEIGHTS_SUFFIX, parse_weights_name, weights_candidates

SIGMOID = "sigmoid"
KERAS2_HARD_SIGMOID = "keras2_hard_sigmoid"
GATE_ATTRIBUTE = "imps_gate_activation"  # on our weights files when the gates are not Keras 3's sigmoid
# The temperatures the model plays at unless the musician says otherwise (model.Sampling).
SAMPLING_ATTRIBUTES = {"pi_temp": "imps_pi_temp", "sigma_temp": "imps_sigma_temp"}


# Models that come with IMPS, one per dimension (utils/make_default_models.sh): package
# data, so found wherever the musician runs from and however IMPS was installed.
DEFAULT_MODELS_DIR = Path(str(resources.files(__package__) / "default_models"))
# What each default model learned from, where people's playing taught it; the others
# learned from procedural performances (imps/learn/corpus.py).
DEFAULT_MODEL_SOURCES = {
    4: "people playing a 3-control interface (the original IMPS's 4-d dataset)",
    9: "people playing an 8-control interface (the original IMPS's 9-d dataset)",
}


def default_model_source(dimension: int) -> str:
    """What the default model of a dimension learned from, in words."""
    return DEFAULT_MODEL_SOURCES.get(dimension, "procedural performances")


@dataclass
class Dense:
    kernel: np.ndarray  # (inputs, outputs)
    bias: np.ndarray  # (outputs,)


@dataclass
class LSTM:
    kernel: np.ndarray  # (inputs, 4 * units), gates in Keras order i, f, c, o
    recurrent_kernel: np.ndarray  # (units, 4 * units)
    bias: np.ndarray  # (4 * units,)


@dataclass
class MDRNNWeights:
    lstms: list[LSTM]
    mus: Dense
    sigmas: Dense
    pis: Dense
    gate_activation: str = SIGMOID
    sampling: Sampling | None = None  # stored with the weights; None: none stored

    @property
    def dimension(self) -> int:
        return self.lstms[0].kernel.shape[0]

    @property
    def units(self) -> int:
        return self.lstms[0].recurrent_kernel.shape[0]

    @property
    def layers(self) -> int:
        return len(self.lstms)

    @property
    def n_mixtures(self) -> int:
        return self.mus.bias.shape[0] // self.dimension

    @property
    def per_value(self) -> bool:
        """Whether each value has a mixture of its own (imps/core/model.py): K logits for each."""
        return self.pis.bias.shape[0] != self.n_mixtures

    @property
    def config(self) -> ModelConfig:
        return ModelConfig(self.dimension, self.units, self.layers, self.n_mixtures, per_value=self.per_value)

    def check_matches(self, dimension: int, size: ModelSize | None, path: Path | str) -> None:
        """Raise WeightsMismatch naming both shapes when the file is not the model asked for
        (any size will do when `size` is None)."""
        if size is None:
            if self.dimension != dimension:
                raise WeightsMismatch(path, describe(self.config), self.dimension, dimension)
            return
        wanted = size.config(dimension, self.per_value)
        if self.config != wanted:
            raise WeightsMismatch(path, describe(self.config), self.dimension, dimension, size.name,
                                  describe(wanted, with_dimension=False))

    @classmethod
    def random(cls, dimension: int, size: ModelSize, seed: int = 0, per_value: bool = False) -> "MDRNNWeights":
        """An untrained model, initialised as Keras would (Glorot uniform, zero bias,
        forget-gate bias 1), for performing before any training."""
        rng = np.random.default_rng(seed)

        def glorot(n_in: int, n_out: int) -> np.ndarray:
            limit = np.sqrt(6.0 / (n_in + n_out))
            return rng.uniform(-limit, limit, (n_in, n_out)).astype(np.float32)

        units = size.units
        lstms = []
        n_in = dimension
        for _ in range(size.layers):
            bias = np.zeros(4 * units, np.float32)
            bias[units:2 * units] = 1.0
            lstms.append(LSTM(glorot(n_in, 4 * units), glorot(units, 4 * units), bias))
            n_in = units

        def dense(n_out: int) -> Dense:
            return Dense(glorot(units, n_out), np.zeros(n_out, np.float32))

        config = size.config(dimension, per_value)
        return cls(lstms, dense(config.mixtures * dimension), dense(config.mixtures * dimension),
                   dense(config.pi_outputs))


def load_weights(path: Path | str) -> MDRNNWeights:
    """Read an MDRNN from any supported HDF5 file; WeightsError says what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file {path} does not exist")
    try:
        with h5py.File(path, "r") as f:
            if "layers" in f:
                weights = _read_keras3(f)
            elif "model_weights" in f:
                weights = _read_keras2(f["model_weights"], _keras2_gate_from_config(f))
            elif "layer_names" in f.attrs:
                weights = _read_keras2(f, KERAS2_HARD_SIGMOID)
            else:
                raise WeightsError(f"{path} is an HDF5 file but holds no Keras model weights")
            weights.sampling = _stored_sampling(f, path)
    except OSError as error:
        raise WeightsError(f"{path} is not a readable HDF5 weights file ({error})") from None
    except (KeyError, IndexError, ValueError) as error:
        raise WeightsError(f"{path} does not hold an IMPS MDRNN ({error})") from None
    _check_consistent(weights, path)
    return weights


def _stored_sampling(f: h5py.File, path: Path) -> Sampling | None:
    found = {name: f.attrs[attribute] for name, attribute in SAMPLING_ATTRIBUTES.items() if attribute in f.attrs}
    if not found:
        return None
    try:
        sampling = Sampling(**{name: float(value) for name, value in found.items()})
    except (TypeError, ValueError):
        raise WeightsError(f"{path} stores sampling settings that are not numbers: {found}") from None
    if min(sampling.pi_temp, sampling.sigma_temp) < 0:
        raise WeightsError(f"{path} stores negative temperatures: {found}")
    return sampling


@contextmanager
def hdf5_written_whole(path: Path | str, image: bytes = b"") -> Iterator[io.BytesIO]:
    """An HDF5 file to make in memory (from `image`, a whole file's bytes, when given),
    then written to `path` whole or not at all (written_whole). HDF5 never writes to the
    disk itself: when the disk refuses one of its writes (full, or a limit on file size),
    it takes the whole process down on its way out, where a plain write fails cleanly."""
    buffer = io.BytesIO(image)
    yield buffer
    with written_whole(path, "".join(Path(path).suffixes)) as tmp:
        tmp.write_bytes(buffer.getvalue())


def store_sampling(path: Path | str, sampling: Sampling) -> None:
    """Store the temperatures the model should play at in its weights file, replacing the
    file whole."""
    path = Path(path)
    load_weights(path)  # refuse anything that is not a weights file before touching it
    with hdf5_written_whole(path, path.read_bytes()) as buffer:
        with h5py.File(buffer, "a") as f:
            for name, attribute in SAMPLING_ATTRIBUTES.items():
                f.attrs[attribute] = float(getattr(sampling, name))


def _vars(group: h5py.Group) -> list[np.ndarray]:
    """The arrays in a Keras 3 `vars` group, in creation order."""
    return [np.asarray(group[str(i)]) for i in range(len(group))]


def _read_keras3(f: h5py.File) -> MDRNNWeights:
    lstms: dict[str, LSTM] = {}
    mdn = None
    for group in f["layers"].values():
        name = group["vars"].attrs.get("name", "")
        if "cell" in group:
            lstms[name] = LSTM(*_vars(group["cell/vars"]))
        elif "layer" in group and "mdn_mus" in group["layer"]:
            mdn = group["layer"]
    if not lstms or mdn is None:
        raise WeightsError("no LSTM layers and MDN head found")
    ordered = [lstms[name] for name in sorted(lstms)]
    gate = f.attrs.get(GATE_ATTRIBUTE, SIGMOID)
    gate = gate.decode() if isinstance(gate, bytes) else str(gate)
    if gate not in (SIGMOID, KERAS2_HARD_SIGMOID):
        raise WeightsError(f"unknown LSTM gate {gate!r}")
    return MDRNNWeights(ordered, Dense(*_vars(mdn["mdn_mus/vars"])),
                        Dense(*_vars(mdn["mdn_sigmas/vars"])), Dense(*_vars(mdn["mdn_pi/vars"])), gate)


def _layer_arrays(group: h5py.Group) -> list[np.ndarray]:
    """A Keras 2 layer's arrays in the order its `weight_names` attribute lists them."""
    return [np.asarray(group[name.decode() if isinstance(name, bytes) else name])
            for name in group.attrs["weight_names"]]


def _read_keras2(root: h5py.Group, gate_activation: str) -> MDRNNWeights:
    names = [n.decode() if isinstance(n, bytes) else n for n in root.attrs["layer_names"]]
    lstm_names = sorted(n for n in names if n.startswith("lstm"))
    mdn_name = next(n for n in names if "mdn" in n)
    lstms = [LSTM(*_layer_arrays(root[n])) for n in lstm_names]
    # The MDN's dense layers were created mus, sigmas, pis; weight_names keeps that order.
    mus_k, mus_b, sig_k, sig_b, pi_k, pi_b = _layer_arrays(root[mdn_name])
    return MDRNNWeights(lstms, Dense(mus_k, mus_b), Dense(sig_k, sig_b), Dense(pi_k, pi_b), gate_activation)


def _keras2_gate_from_config(f: h5py.File) -> str:
    config = f.attrs.get("model_config")
    if config is None:
        return KERAS2_HARD_SIGMOID
    if isinstance(config, bytes):
        config = config.decode()
    layers = json.loads(config)["config"]["layers"]
    gates = {layer["config"].get("recurrent_activation") for layer in layers if layer["class_name"] == "LSTM"}
    return SIGMOID if gates == {"sigmoid"} else KERAS2_HARD_SIGMOID


def _check_consistent(w: MDRNNWeights, path: Path) -> None:
    units = w.units
    n_in = w.dimension
    k = w.n_mixtures
    expected = []
    for lstm in w.lstms:
        expected += [(lstm.kernel.shape, (n_in, 4 * units)), (lstm.recurrent_kernel.shape, (units, 4 * units)),
                     (lstm.bias.shape, (4 * units,))]
        n_in = units
    expected += [(w.mus.kernel.shape, (units, k * w.dimension)), (w.sigmas.kernel.shape, (units, k * w.dimension)),
                 (w.pis.kernel.shape, (units, w.config.pi_outputs))]
    for found, wanted in expected:
        if tuple(found) != wanted:
            raise WeightsError(f"{path} has inconsistent layer shapes ({found} where {wanted} belongs)")


def describe(config: ModelConfig, with_dimension: bool = True) -> str:
    """A model's shape in words: 'dimension 4, 2 layers of 64 units, 5 mixtures'."""
    shape = (f"{config.layers} layers of {config.units} units, {config.mixtures} mixtures"
             + (" for each value" if config.per_value else ""))
    return f"dimension {config.dimension}, {shape}" if with_dimension else shape


def trained_files(folder: Path | str, dimension: int) -> list[tuple[ModelConfig, Path]]:
    """The trained weights files in `folder` whose names say `dimension`, any size."""
    folder = Path(folder)
    named = [(parse_weights_name(p.name), p) for p in folder.glob(f"*{WEIGHTS_SUFFIX}")] if folder.is_dir() else []
    return [(ModelConfig(n.dimension, n.units, n.layers, n.mixtures, n.scale), path)
            for n, path in named if n and n.dimension == dimension]


def default_weights_file(dimension: int, size: ModelSize | None = None,
                         defaults_dir: Path | str = DEFAULT_MODELS_DIR) -> Path | None:
    """The default model for `dimension` in `defaults_dir`, of any size (`size` if there
    is one of that size), or None."""
    found = trained_files(defaults_dir, dimension)
    for config, path in found:
        if size is not None and config == size.config(dimension):
            return path
    found.sort(key=lambda item: (item[0].layers, item[0].units))
    return found[0][1] if found else None  # the smallest: the quickest to play


# A dataset of at most this many events is small: a musician with no weights of their
# own for its dimension gets the default model fine-tuned on it rather than a model
# trained from scratch (utils/benchmark_training.py measured it up to here; docs/training.md).
SMALL_DATASET_EVENTS = 10_000


def fine_tuning_start(dimension: int, events: int, size: ModelSize | None, models_dir: Path | str = MODELS_DIR,
                      defaults_dir: Path | str = DEFAULT_MODELS_DIR) -> Path | None:
    """The default model to start training from, or None to start untrained: only for a
    small dataset, when the musician has no trained weights of their own for the
    dimension and asked for no size other than the default model's (`size` None: not
    asked)."""
    if events > SMALL_DATASET_EVENTS or trained_files(models_dir, dimension):
        return None
    default = default_weights_file(dimension, size, defaults_dir)
    if default is None:
        return None
    named = parse_weights_name(default.name)
    if size is not None and (named.layers, named.units) != (size.layers, size.units):
        return None
    return default


class Choice(Enum):
    """Which weights the performer plays, and why."""
    NAMED = "named"  # the file the musician named
    TRAINED = "trained"  # the musician's own, found in the models folder
    OTHER_SIZE = "other size"  # the musician's own, of another size than they asked for
    DEFAULT = "default"  # the default model that comes with IMPS
    UNTRAINED = "untrained"  # none of those: random weights, which play noise


@dataclass
class ChosenWeights:
    weights: MDRNNWeights
    choice: Choice
    path: Path | None  # the file, or None for untrained weights
    looked_for: list[Path]  # the files looked for in the models folder


def choose_weights(dimension: int, size: ModelSize, models_dir: Path | str = MODELS_DIR,
                   model_file: Path | str | None = None,
                   defaults_dir: Path | str | None = DEFAULT_MODELS_DIR) -> ChosenWeights:
    """The weights to perform with. A file the musician names must load and fit the
    dimension, whatever its size; otherwise the first trained file for this dimension
    and size in `models_dir`; failing that the musician's most recently trained weights
    of another size for this dimension there; failing that the default model for this
    dimension in `defaults_dir` (any size; default_model_source says what it learned from); and
    failing that an untrained model."""
    if model_file is not None:
        weights = load_weights(model_file)
        weights.check_matches(dimension, None, model_file)
        return ChosenWeights(weights, Choice.NAMED, Path(model_file), [])
    candidates = weights_candidates(models_dir, size.config(dimension))
    for path in candidates:
        if path.is_file():
            weights = load_weights(path)
            weights.check_matches(dimension, size, path)
            return ChosenWeights(weights, Choice.TRAINED, path, candidates)
    own = [path for _, path in trained_files(models_dir, dimension)]
    if own:
        path = max(own, key=lambda p: p.stat().st_mtime)
        weights = load_weights(path)
        weights.check_matches(dimension, None, path)
        return ChosenWeights(weights, Choice.OTHER_SIZE, path, candidates)
    default = default_weights_file(dimension, size, defaults_dir) if defaults_dir is not None else None
    if default is not None:
        weights = load_weights(default)
        weights.check_matches(dimension, None, default)
        return ChosenWeights(weights, Choice.DEFAULT, default, candidates)
    return ChosenWeights(MDRNNWeights.random(dimension, size), Choice.UNTRAINED, None, candidates)
