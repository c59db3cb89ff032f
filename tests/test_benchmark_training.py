"""utils/benchmark_training.py: the ways of training it screens against the trainer's
(Screened, a training.Variation) reach the training as set."""

from __future__ import annotations

from dataclasses import replace

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import utils_script
from imps.core.model import SCALE, model_size
from imps.core.weights import load_weights
from imps.learn import keras_model
from imps.learn.config import TrainConfig
from imps.learn.training import train, window_batches
from test_training import BatchClock, synthetic_dataset

benchmark_training = utils_script("benchmark_training")
XXS = model_size("xxs")


def test_augmented_windows_stretch_each_windows_time_and_jitter_values_within_range():
    rng = np.random.default_rng(0)
    windows = np.concatenate([rng.uniform(0.01, 0.5, (64, 51, 1)), rng.random((64, 51, 3))], axis=-1) * SCALE
    windows = tf.constant(windows, tf.float32)
    tf.random.set_seed(1)
    out = benchmark_training.augmented(windows, SCALE, time_stretch=0.1, value_jitter=0.02).numpy()
    factors = out[..., 0] / windows.numpy()[..., 0]
    np.testing.assert_allclose(factors, factors[:, :1] * np.ones_like(factors), rtol=1e-5)  # one factor a window
    assert np.all(np.abs(np.log(factors)) <= 0.1 + 1e-6) and factors.std() > 0.01
    moved = out[..., 1:] - windows.numpy()[..., 1:]
    assert out[..., 1:].min() >= 0.0 and out[..., 1:].max() <= SCALE
    inside = (out[..., 1:] > 0) & (out[..., 1:] < SCALE)
    assert moved[inside].std() == pytest.approx(0.02 * SCALE, rel=0.1)
    # The same gathering, augmented only when asked, and inputs and targets from the same augmented window.
    (inputs, targets), = list(window_batches(windows[0], np.array([0, 1]), 2, shuffle=False, seq_len=10,
                                             transform=lambda w: benchmark_training.augmented(w, SCALE, 0.1, 0.02)))
    np.testing.assert_array_equal(inputs.numpy()[:, 1:], targets.numpy()[:, :-1])
    assert not np.allclose(inputs.numpy()[0], windows.numpy()[0, :10])


class FitsBegun(keras.callbacks.Callback):
    """What each fit of a run (the warm-up's, then the main one's) begins with, and how
    many batches it trains on."""

    def __init__(self):
        super().__init__()
        self.fits: list[dict] = []

    def on_train_begin(self, logs=None):
        optimizer = self.model.optimizer
        lstms = [layer for layer in self.model.layers if isinstance(layer, keras.layers.LSTM)]
        self.fits.append({"optimizer": type(optimizer).__name__, "clipnorm": optimizer.clipnorm,
                          "weight_decay": optimizer.weight_decay,
                          "steps already taken": int(keras.ops.convert_to_numpy(optimizer.iterations)),
                          "dropout": sorted({value for layer in lstms
                                             for value in (layer.dropout, layer.recurrent_dropout)}),
                          "batches": 0})

    def on_train_batch_end(self, batch, logs=None):
        self.fits[-1]["batches"] += 1


# What a run with none of the screened options begins each fit with.
PLAIN_FIT = {"optimizer": "Adam", "clipnorm": None, "weight_decay": None, "dropout": [0.0]}


@pytest.mark.slow
@pytest.mark.parametrize("options, screened, differences", [
    ({"clipnorm": 1.0}, {}, {"clipnorm": 1.0}),
    ({}, {"weight_decay": 1e-3}, {"optimizer": "AdamW", "weight_decay": 1e-3}),
    ({}, {"dropout": 0.1}, {"dropout": [0.1]}),
    ({}, {"time_stretch": 0.1, "value_jitter": 0.01}, {}),
    ({}, {"keep_optimizer": True}, {}),
])
def test_each_screened_option_reaches_the_training(tmp_path, monkeypatch, options, screened, differences):
    augmentations = set()
    augmented = benchmark_training.augmented

    def noting_augmented(windows, *settings):
        augmentations.add(settings)
        return augmented(windows, *settings)

    monkeypatch.setattr(benchmark_training, "augmented", noting_augmented)
    fits = FitsBegun()
    config = replace(TrainConfig(model_size="xxs", epochs=1, batch_size=32, warmup_epochs=1, clipnorm=None),
                     **options)
    variation = benchmark_training.Screened(**screened)
    result = train(synthetic_dataset(), config, models_dir=tmp_path, tensorboard_dir=None, verbose=0, seed=2,
                   callbacks=[fits], report=lambda line: None, variation=variation)
    assert np.isfinite(result.best_loss)
    load_weights(result.weights_path).check_matches(3, XXS, result.weights_path)
    warm_up, main = fits.fits
    begun = {key: value for key, value in main.items() if key in PLAIN_FIT}
    assert begun == {**PLAIN_FIT, **differences}
    assert {key: value for key, value in warm_up.items() if key in PLAIN_FIT} == begun
    # The warm-up's Adam goes on into the main fit, steps and all, only when it is to be kept.
    assert warm_up["steps already taken"] == 0 and warm_up["batches"] > 0
    assert main["steps already taken"] == (warm_up["batches"] if variation.keep_optimizer else 0)
    # The windows trained on are stretched and jittered as set, only when asked.
    assert augmentations == ({(SCALE, 0.1, 0.01)} if variation.time_stretch else set())


def test_the_optimiser_options_reach_keras():
    model = keras_model.build_mdrnn(XXS.config(3), dropout=0.2)
    assert model.get_layer("lstm0").dropout == 0.2 and model.get_layer("lstm1").recurrent_dropout == 0.2
    benchmark_training.Screened(weight_decay=1e-3).compile(model, XXS.config(3), 1e-3, clipnorm=1.0)
    assert isinstance(model.optimizer, keras.optimizers.AdamW)
    assert (model.optimizer.clipnorm, model.optimizer.weight_decay) == (1.0, 1e-3)
    keras_model.compile_for_training(model, XXS.config(3), 1e-3)
    assert type(model.optimizer) is keras.optimizers.Adam and model.optimizer.clipnorm is None


@pytest.mark.slow
def test_annealing_within_a_time_limit_brings_the_rate_down_steadily_after_the_warm_up(tmp_path):
    clock = BatchClock()
    config = TrainConfig(model_size="xxs", epochs=50, batch_size=32, warmup_epochs=1, minutes=1.0,
                         learning_rate=2e-3, min_learning_rate=1e-4)
    result = train(synthetic_dataset(), config, models_dir=tmp_path, tensorboard_dir=None, verbose=0, seed=1,
                   callbacks=[clock], report=lambda line: None, clock=clock,
                   variation=benchmark_training.Screened(anneal=True))
    assert result.time_limit_reached and "the time limit" in result.summary()
    assert result.epochs_run < 50 and result.weights_path.exists()
    # 60 batches in all (the clock's seconds): the warm-up's at the set rate, then from the first batch
    # on long windows a straight fall that would reach the floor at the deadline.
    assert len(clock.rates) == 60
    falling = next(i for i, rate in enumerate(clock.rates) if rate < 2e-3 * 0.999) - 1
    assert falling > 5 and clock.rates[:falling + 1] == pytest.approx([2e-3] * (falling + 1))
    main = np.array(clock.rates[falling:])
    steps = np.diff(main)
    assert np.all(steps < 0) and np.allclose(steps, steps[0], rtol=1e-3)
    assert main[-1] == pytest.approx(1e-4 + (2e-3 - 1e-4) / (len(main)), rel=1e-3)
