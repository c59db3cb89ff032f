"""imps.learn.plan: which weights the trainer starts from, the size and head it trains,
and the line that says so, decided before TensorFlow loads."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import LEGACY_WEIGHTS_4D_S
from imps.core.cli import explain
from imps.core.errors import DatasetDimensionMismatch
from imps.core.weights import SMALL_DATASET_EVENTS, default_weights_file, load_weights
from imps.learn.config import TrainConfig
from imps.learn.dataset import Dataset
from imps.learn.plan import plan_training


def dataset_of(events: int, dimension: int = 4) -> Dataset:
    rng = np.random.default_rng(0)
    return Dataset.from_performances([np.column_stack([np.full(events, 0.1), rng.random((events, dimension - 1))])])


def test_a_small_dataset_with_no_weights_of_ones_own_fine_tunes_the_default_model_at_its_size(in_tmp_dir):
    plan = plan_training(TrainConfig(), dataset_of(500), "d.npz", 4)
    default = load_weights(default_weights_file(4))
    assert plan.initial is not None and plan.initial.config == default.config
    assert plan.config.model_size == "xs" and not plan.config.per_value
    assert plan.start == (f", fine-tuning IMPS's default 4-d model since the dataset is small "
                          f"({SMALL_DATASET_EVENTS:,} events or fewer) and models/ holds no 4-d weights of yours "
                          "(--scratch starts from an untrained model instead)")


@pytest.mark.parametrize("events, scratch, size", [(500, True, None), (SMALL_DATASET_EVENTS + 1, False, None),
                                                   (500, False, "m")])
def test_scratch_a_large_dataset_or_a_size_the_default_is_not_start_untrained(in_tmp_dir, events, scratch, size):
    plan = plan_training(TrainConfig(per_value=True), dataset_of(events), "d.npz", 4, size, scratch=scratch)
    assert plan.initial is None and plan.start == ""
    assert plan.config.model_size == (size or "s") and plan.config.per_value


def test_a_named_file_is_the_start_and_its_size_and_head_are_kept(in_tmp_dir):
    plan = plan_training(TrainConfig(per_value=True), dataset_of(500), "d.npz", 4,
                         weights_file=LEGACY_WEIGHTS_4D_S)
    assert plan.start == f", from {LEGACY_WEIGHTS_4D_S}"
    assert plan.config.model_size == "s" and not plan.config.per_value


def test_a_dataset_of_another_dimension_is_refused_with_what_to_do(in_tmp_dir):
    with pytest.raises(DatasetDimensionMismatch) as refused:
        plan_training(TrainConfig(), dataset_of(500, dimension=3), "datasets/d.npz", 4)
    assert explain(refused.value) == ("datasets/d.npz holds 3-d events but --dimension is 4: use --dimension=3 or "
                                      "another dataset")


def test_the_plan_line_says_the_whole_run(in_tmp_dir):
    config = TrainConfig(epochs=20, warmup_epochs=1, early_stopping=True, patience=3, minutes=1.0)
    line = plan_training(config, dataset_of(500), "d.npz", 4, "xxs", scratch=True).line("d.npz")
    assert line == ("training size xxs (2 layers of 16 units) on d.npz: 1 epoch of warm-up on 5-event windows, "
                    "then up to 20 epochs on 50-event windows, stopping early after 3 epochs without improvement, "
                    "within 1 minute in all")
