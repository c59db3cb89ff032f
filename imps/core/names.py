"""The names of IMPS's files, made and read here alone, as the original IMPS named them.

| file    | name                                                              | where      |
| ------- | ----------------------------------------------------------------- | ---------- |
| log     | `YYYY-MM-DDTHH-MM-SS-{D}d-mdrnn.log`                               | `logs/`     |
| dataset | `training-dataset-{D}d.npz`                                        | `datasets/` |
| weights | `musicMDRNN-dim{D}-layers{L}-units{U}-mixtures{K}-scale{S}.weights.h5` | `models/`   |

The original IMPS's weights end `.h5` instead; the trainer's checkpoint adds
`-checkpoint` before `.weights.h5`, its loss plot is `{model name}-loss.png`, and the
quality report of a weights file is `{model name}-report.png` (its picture) and
`{model name}-report.json` (its figures) beside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .model import ModelConfig

LOGS_DIR = "logs"
DATASETS_DIR = "datasets"
MODELS_DIR = "models"

WEIGHTS_SUFFIX = ".weights.h5"  # what Keras 3 save_weights requires
LEGACY_WEIGHTS_SUFFIX = ".h5"  # what the original IMPS wrote
CHECKPOINT_SUFFIX = "-checkpoint" + WEIGHTS_SUFFIX
LOG_SUFFIX = "mdrnn.log"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H-%M-%S"  # a log's name starts with when it began


def model_name(config: ModelConfig) -> str:
    """The IMPS model name, e.g. musicMDRNN-dim9-layers2-units64-mixtures5-scale10."""
    return (f"musicMDRNN-dim{config.dimension}-layers{config.layers}-units{config.units}-mixtures{config.mixtures}"
            f"-scale{config.scale:g}")


_MODEL_NAME = re.compile(r"musicMDRNN-dim(\d+)-layers(\d+)-units(\d+)-mixtures(\d+)-scale(\d+)")


@dataclass(frozen=True)
class WeightsName:
    """What a weights file's name says about the model in it."""
    dimension: int
    layers: int
    units: int
    mixtures: int
    scale: int


def parse_weights_name(name: str) -> WeightsName | None:
    """The model a trained weights file's name describes (`...{WEIGHTS_SUFFIX}`, not a
    checkpoint), or None for any other name."""
    match = re.fullmatch(_MODEL_NAME.pattern + re.escape(WEIGHTS_SUFFIX), name)
    return WeightsName(*map(int, match.groups())) if match else None


def weights_path(models_dir: Path | str, config: ModelConfig) -> Path:
    """Where the trainer writes final weights and the performer looks first."""
    return Path(models_dir) / (model_name(config) + WEIGHTS_SUFFIX)


def checkpoint_path(models_dir: Path | str, config: ModelConfig) -> Path:
    """The trainer's best weights so far, replaced at each improvement."""
    return Path(models_dir) / (model_name(config) + CHECKPOINT_SUFFIX)


def loss_plot_path(models_dir: Path | str, config: ModelConfig) -> Path:
    return Path(models_dir) / (model_name(config) + "-loss.png")


def _report_beside(weights: Path | str, ending: str) -> Path:
    weights = Path(weights)
    return weights.with_name(weights.name.removesuffix(LEGACY_WEIGHTS_SUFFIX).removesuffix(".weights") + ending)


def report_plot_path(weights: Path | str) -> Path:
    """The quality report's picture of a weights file, beside it: `{name}-report.png`."""
    return _report_beside(weights, "-report.png")


def report_path(weights: Path | str) -> Path:
    """The quality report's figures of a weights file, beside it: `{name}-report.json`."""
    return _report_beside(weights, "-report.json")


def is_checkpoint(weights: Path | str) -> bool:
    """Whether a weights file is the trainer's checkpoint (its best weights so far)."""
    return Path(weights).name.endswith(CHECKPOINT_SUFFIX)


def weights_candidates(models_dir: Path | str, config: ModelConfig) -> list[Path]:
    """Files the performer tries, in order: this project's weights, then an original IMPS file."""
    stem = model_name(config)
    return [Path(models_dir) / (stem + WEIGHTS_SUFFIX), Path(models_dir) / (stem + LEGACY_WEIGHTS_SUFFIX)]


def dataset_path(datasets_dir: Path | str, dimension: int) -> Path:
    return Path(datasets_dir) / f"training-dataset-{dimension}d.npz"


def log_glob(dimension: int) -> str:
    return f"*-{dimension}d-{LOG_SUFFIX}"


def log_name(timestamp: str, dimension: int) -> str:
    """`timestamp` is YYYY-MM-DDTHH-MM-SS (TIMESTAMP_FORMAT), perhaps with a suffix."""
    return f"{timestamp}-{dimension}d-{LOG_SUFFIX}"


def log_dimension(name: str) -> int | None:
    """The dimension a log's name gives (`...-{D}d-mdrnn.log`), or None."""
    match = re.search(rf"-(\d+)d-{re.escape(LOG_SUFFIX)}$", name)
    return int(match.group(1)) if match else None
