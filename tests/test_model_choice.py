"""imps.perform.model_choice: which weights the server plays, at which temperatures,
through which network, and the lines that say so."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from conftest import LEGACY_WEIGHTS_4D_S
from imps.core.model import DEFAULT_SAMPLING
from imps.core.weights import DEFAULT_MODELS_DIR, Choice, load_weights
from imps.perform.config import ServerConfig
from imps.perform.engine import NumpyMDRNN
from imps.perform.model_choice import model_to_play


def test_with_nothing_of_their_own_a_musician_plays_the_default_model_at_its_stored_sampling(in_tmp_dir):
    model = model_to_play(ServerConfig(dimension=9))
    assert model.chosen.choice is Choice.DEFAULT and model.chosen.path.parent == DEFAULT_MODELS_DIR
    assert not model.untrained
    stored = load_weights(model.chosen.path).sampling
    assert (model.predictor.pi_temp, model.predictor.sigma_temp) == (stored.pi_temp, stored.sigma_temp)
    assert model.weights_line.startswith(f"no trained weights at {Path('models') / model.chosen.looked_for[0].name}; "
                                         f"playing the default model {model.chosen.path} (trained on people playing")
    assert "record with --log, then run generate_dataset.py --dimension=9" in model.weights_line
    assert model.sampling_line.endswith("(stored with the model)")
    assert isinstance(model.predictor.network, NumpyMDRNN)
    assert model.predictor.predict(np.r_[0.1, np.full(8, 0.5)]).shape == (9,)


def test_given_temperatures_come_before_stored_ones_and_a_named_file_is_played(in_tmp_dir):
    model = model_to_play(ServerConfig(dimension=4, model_file=LEGACY_WEIGHTS_4D_S, pi_temp=0.5))
    assert model.chosen.choice is Choice.NAMED
    assert model.weights_line == f"performing with {LEGACY_WEIGHTS_4D_S} (2 layers of 64 units, 5 mixtures)"
    assert (model.predictor.pi_temp, model.predictor.sigma_temp) == (0.5, DEFAULT_SAMPLING.sigma_temp)
    assert model.sampling_line == (f"sampling: --pitemp 0.5 (as given), --sigmatemp {DEFAULT_SAMPLING.sigma_temp:g} "
                                   "(IMPS's default)")


def test_with_no_default_for_the_dimension_the_model_is_untrained_and_says_how_to_train_one(in_tmp_dir):
    model = model_to_play(ServerConfig(dimension=12, model_size="xs"))
    assert model.untrained and model.chosen.path is None
    assert "performing with an UNTRAINED model, which plays noise. Train one with train_predictive_music_model.py " \
           "--dimension=12 --modelsize=xs" in model.weights_line


def test_the_network_is_the_one_asked_for(in_tmp_dir):
    class Counting(NumpyMDRNN):
        steps = 0

        def step(self, x):
            Counting.steps += 1
            return super().step(x)

    model = model_to_play(ServerConfig(dimension=4), network=Counting, seed=3)
    model.predictor.predict(np.r_[0.1, np.full(3, 0.5)])
    assert isinstance(model.predictor.network, Counting) and Counting.steps == 1
