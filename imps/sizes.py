"""Model sizes, scaling and file names: the one place these numbers live."""

from dataclasses import dataclass
from pathlib import Path

N_MIXTURES = 5
SCALE = 10.0  # inputs and targets are multiplied by this in training and performance alike
SEQ_LEN = 50  # training window length in events
WARMUP_SEQ_LEN = 5  # window length for the first, quick epochs of training
WARMUP_EPOCHS = 6
LEARNING_RATE = 3e-3
MIN_DIMENSION = 2


def epochs_text(count: int) -> str:
    """'1 epoch', '6 epochs': how the trainer's plan and progress count them."""
    return f"{count} epoch{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class ModelSize:
    name: str
    units: int
    layers: int


SIZES = {
    "xxs": ModelSize("xxs", 16, 2),
    "xs": ModelSize("xs", 32, 2),
    "s": ModelSize("s", 64, 2),
    "m": ModelSize("m", 128, 2),
    "l": ModelSize("l", 256, 2),
    "xl": ModelSize("xl", 512, 3),
}
DEFAULT_SIZE = "s"

# How training spreads over devices: mirrored copies the model onto every GPU;
# auto chooses mirrored when more than one GPU is visible.
STRATEGIES = ("auto", "default", "mirrored")


def model_size(name: str) -> ModelSize:
    """The size called `name`, or a ValueError that lists the choices."""
    try:
        return SIZES[name]
    except KeyError:
        raise ValueError(f"unknown model size {name!r}: choose one of {', '.join(SIZES)}") from None


def model_name(dimension: int, size: ModelSize) -> str:
    """The IMPS model name, e.g. musicMDRNN-dim9-layers2-units64-mixtures5-scale10."""
    return f"musicMDRNN-dim{dimension}-layers{size.layers}-units{size.units}-mixtures{N_MIXTURES}-scale{int(SCALE)}"


WEIGHTS_SUFFIX = ".weights.h5"  # what Keras 3 save_weights requires
LEGACY_WEIGHTS_SUFFIX = ".h5"  # what the original IMPS wrote


def weights_path(models_dir: Path, dimension: int, size: ModelSize) -> Path:
    """Where the trainer writes final weights and the performer looks first."""
    return Path(models_dir) / (model_name(dimension, size) + WEIGHTS_SUFFIX)


def checkpoint_path(models_dir: Path, dimension: int, size: ModelSize) -> Path:
    """The trainer's best weights so far, replaced at each improvement."""
    return Path(models_dir) / (model_name(dimension, size) + "-checkpoint" + WEIGHTS_SUFFIX)


def weights_candidates(models_dir: Path, dimension: int, size: ModelSize) -> list[Path]:
    """Files the performer tries, in order: this project's weights, then an original IMPS file."""
    stem = Path(models_dir) / model_name(dimension, size)
    return [stem.with_name(stem.name + WEIGHTS_SUFFIX), stem.with_name(stem.name + LEGACY_WEIGHTS_SUFFIX)]


def dataset_path(datasets_dir: Path, dimension: int) -> Path:
    return Path(datasets_dir) / f"training-dataset-{dimension}d.npz"


LOG_SUFFIX = "mdrnn.log"


def log_glob(dimension: int) -> str:
    return f"*-{dimension}d-{LOG_SUFFIX}"


def log_name(timestamp: str, dimension: int) -> str:
    """`timestamp` is YYYY-MM-DDTHH-MM-SS."""
    return f"{timestamp}-{dimension}d-{LOG_SUFFIX}"
