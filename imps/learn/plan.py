"""What the trainer will do, decided before TensorFlow loads: the weights it starts
from (a file the musician names; IMPS's default model, fine-tuned, for a small dataset
when they have no weights of their own for the dimension; or none), the size and head
of the model it trains, and the line that says so."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from ..core.errors import DatasetDimensionMismatch, WeightsError
from ..core.model import DEFAULT_SIZE, SEQ_LEN, model_size, size_of
from ..core.names import MODELS_DIR
from ..core.weights import SMALL_DATASET_EVENTS, MDRNNWeights, describe, fine_tuning_start, load_weights
from .config import TrainConfig, epochs_text
from .dataset import Dataset


@dataclass
class TrainingPlan:
    config: TrainConfig  # with the size and head the run trains
    initial: MDRNNWeights | None  # None: an untrained model
    start: str  # where training starts, in words, for the plan's line ("" for an untrained model)

    def line(self, dataset_path: Path | str) -> str:
        """The trainer's first line: the whole plan, in the epochs its progress will count."""
        config = self.config
        size = model_size(config.model_size)
        warmup = (f"{epochs_text(config.warmup_epochs)} of warm-up on {config.warmup_seq_len}-event windows, then "
                  if config.warmup_epochs else "")
        stopping = (f", stopping early after {epochs_text(config.patience)} without improvement"
                    if config.early_stopping else "")
        limit = f", within {config.minutes:g} minute{'' if config.minutes == 1 else 's'} in all" if config.minutes else ""
        head = ", a mixture for each value" if config.per_value else ""
        return (f"training size {size.name} ({size.layers} layers of {size.units} units{head}) on {dataset_path}"
                f"{self.start}: {warmup}up to {epochs_text(config.epochs)} on {SEQ_LEN}-event windows{stopping}"
                f"{limit}")


def plan_training(config: TrainConfig, dataset: Dataset, dataset_path: Path | str, dimension: int,
                  size_name: str | None = None, weights_file: Path | str | None = None, scratch: bool = False,
                  models_dir: Path | str = MODELS_DIR) -> TrainingPlan:
    """`size_name` None: the size of the weights training starts from, else DEFAULT_SIZE.
    `scratch`: never fine-tune the default model. Weights trained on keep their own head."""
    if dataset.dimension != dimension:
        raise DatasetDimensionMismatch(dataset_path, dataset.dimension, dimension)
    asked = model_size(size_name) if size_name else None
    initial, start = None, ""
    if weights_file is not None:
        initial = load_weights(weights_file)
        initial.check_matches(dimension, asked, weights_file)
        start = f", from {weights_file}"
        if asked is None and size_of(initial.config) is None:
            raise WeightsError(f"{weights_file} holds a model of {describe(initial.config)}, which no --modelsize "
                               "gives: it can perform, but the trainer cannot name what it writes")
    elif not scratch:
        default = fine_tuning_start(dimension, len(dataset.events), asked, models_dir)
        if default is not None:
            initial = load_weights(default)
            start = (f", fine-tuning IMPS's default {dimension}-d model since the dataset is small "
                     f"({SMALL_DATASET_EVENTS:,} events or fewer) and models/ holds no {dimension}-d weights "
                     "of yours (--scratch starts from an untrained model instead)")
    size = asked or (size_of(initial.config) if initial is not None else None) or model_size(DEFAULT_SIZE)
    config = replace(config, model_size=size.name,
                     per_value=initial.per_value if initial is not None else config.per_value)
    return TrainingPlan(config, initial, start)
