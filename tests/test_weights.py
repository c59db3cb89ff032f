"""Reading MDRNN weights from every kind of file IMPS users have."""

import os
from pathlib import Path

import h5py
import numpy as np
import pytest

from conftest import LEGACY_DATASET_4D, LEGACY_MODEL_2D_XS, LEGACY_WEIGHTS_4D_S, ROOT
from imps.core.errors import WeightsError, WeightsMismatch
from imps.core.model import SIZES, Sampling
from imps.core.names import weights_path
from imps.core.weights import (DEFAULT_MODELS_DIR, KERAS2_HARD_SIGMOID, SAMPLING_ATTRIBUTES, SIGMOID,
                               SMALL_DATASET_EVENTS, Choice, MDRNNWeights, choose_weights, default_weights_file,
                               fine_tuning_start, load_weights, store_sampling)
from imps.perform.engine import NumpyMDRNN


def test_original_weights_only_file_loads_as_size_s():
    w = load_weights(LEGACY_WEIGHTS_4D_S)
    assert (w.dimension, w.layers, w.units, w.n_mixtures) == (4, 2, 64, 5)
    assert w.mus.kernel.shape == (64, 20) and w.sigmas.kernel.shape == (64, 20) and w.pis.kernel.shape == (64, 5)
    assert w.gate_activation == KERAS2_HARD_SIGMOID
    with h5py.File(LEGACY_WEIGHTS_4D_S) as f:
        np.testing.assert_array_equal(w.lstms[1].recurrent_kernel, f["lstm1/lstm1/recurrent_kernel:0"][()])
        np.testing.assert_array_equal(w.pis.bias, f["td_mdn/td_mdn/pis/bias:0"][()])


def test_original_whole_model_file_loads_as_size_xs():
    w = load_weights(LEGACY_MODEL_2D_XS)
    assert (w.dimension, w.layers, w.units, w.n_mixtures) == (2, 2, 32, 5)
    assert w.gate_activation == KERAS2_HARD_SIGMOID  # its model_config says hard_sigmoid
    with h5py.File(LEGACY_MODEL_2D_XS) as f:
        np.testing.assert_array_equal(w.sigmas.kernel, f["model_weights/td_mdn/td_mdn/kernel_1:0"][()])


def _mean_nll(weights, performance):
    """Mean negative log-likelihood of each next event under the model, in scaled units."""
    net = NumpyMDRNN(weights)
    events = performance * 10.0
    total = 0.0
    for t in range(len(events) - 1):
        m = net.step(events[t])
        y = events[t + 1]
        log_components = (-0.5 * len(y) * np.log(2 * np.pi) - np.log(m.sigmas).sum(1)
                          - 0.5 * (((y - m.mus) / m.sigmas) ** 2).sum(1))
        log_pi = m.pi_logits - np.logaddexp.reduce(m.pi_logits)
        total -= np.logaddexp.reduce(log_pi + log_components)
    return total / (len(events) - 1)


def test_original_weights_fit_real_performances_only_with_keras2_gates():
    """The original IMPS trained under Keras 2, whose LSTM gates were hard_sigmoid
    (0.2 x + 0.5). With those gates its weights explain real performances far better
    than with the logistic sigmoid: evidence that the gate is read right."""
    performance = np.load(LEGACY_DATASET_4D, allow_pickle=True)["perfs"][0][:400]
    w = load_weights(LEGACY_WEIGHTS_4D_S)
    hard = _mean_nll(w, performance)
    w.gate_activation = SIGMOID
    logistic = _mean_nll(w, performance)
    assert hard < logistic - 1.0


@pytest.mark.parametrize("size", list(SIZES))
def test_random_weights_have_the_size_asked_for(size):
    w = MDRNNWeights.random(5, SIZES[size], seed=3)
    assert (w.dimension, w.layers, w.units, w.n_mixtures) == (5, SIZES[size].layers, SIZES[size].units, 5)
    w.check_matches(5, SIZES[size], "x")
    np.testing.assert_array_equal(w.lstms[0].bias[SIZES[size].units:2 * SIZES[size].units], 1.0)


def test_mismatched_weights_name_both_shapes():
    w = load_weights(LEGACY_WEIGHTS_4D_S)
    with pytest.raises(WeightsMismatch, match=r"dimension 4, 2 layers of 64 units.*dimension 9 size xs, which needs "
                                              r"2 layers of 32") as caught:
        w.check_matches(9, SIZES["xs"], LEGACY_WEIGHTS_4D_S)
    assert (caught.value.found_dimension, caught.value.wanted_size) == (4, "xs")
    with pytest.raises(WeightsMismatch, match="but dimension 3 was asked for"):
        w.check_matches(3, None, LEGACY_WEIGHTS_4D_S)


def test_missing_corrupt_and_foreign_files_give_clear_errors(tmp_path):
    with pytest.raises(WeightsError, match="does not exist"):
        load_weights(tmp_path / "nothing.h5")
    corrupt = tmp_path / "corrupt.h5"
    corrupt.write_bytes(LEGACY_WEIGHTS_4D_S.read_bytes()[:5000])
    with pytest.raises(WeightsError, match="not a readable HDF5"):
        load_weights(corrupt)
    text = tmp_path / "notes.h5"
    text.write_text("not weights at all")
    with pytest.raises(WeightsError, match="not a readable HDF5"):
        load_weights(text)
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["data"] = np.zeros(3)
    with pytest.raises(WeightsError, match="no Keras model weights"):
        load_weights(foreign)


def test_inconsistent_shapes_are_refused(tmp_path):
    bad = tmp_path / "bad.h5"
    with h5py.File(LEGACY_WEIGHTS_4D_S) as src, h5py.File(bad, "w") as dst:
        for key, value in src.attrs.items():
            dst.attrs[key] = value
        for name in ("inputs", "lstm0", "lstm1", "td_mdn"):
            src.copy(src[name], dst, name)
        del dst["lstm1/lstm1/kernel:0"]
        dst["lstm1/lstm1/kernel:0"] = np.zeros((10, 256), np.float32)
    with pytest.raises(WeightsError, match="inconsistent layer shapes"):
        load_weights(bad)


def test_choose_weights_prefers_trained_files_and_says_when_untrained(tmp_path):
    size = SIZES["s"]
    no_defaults = tmp_path / "no-defaults"
    chosen = choose_weights(4, size, models_dir=tmp_path, defaults_dir=no_defaults)
    assert chosen.choice is Choice.UNTRAINED and chosen.path is None
    assert chosen.looked_for[0] == weights_path(tmp_path, size.config(4))
    assert chosen.weights.dimension == 4 and chosen.weights.units == 64

    legacy_name = tmp_path / "musicMDRNN-dim4-layers2-units64-mixtures5-scale10.h5"
    legacy_name.symlink_to(LEGACY_WEIGHTS_4D_S)
    chosen = choose_weights(4, size, models_dir=tmp_path, defaults_dir=no_defaults)
    assert chosen.choice is Choice.TRAINED and chosen.path == legacy_name
    assert chosen.weights.gate_activation == KERAS2_HARD_SIGMOID

    chosen = choose_weights(2, SIZES["s"], models_dir=tmp_path, model_file=LEGACY_MODEL_2D_XS,
                            defaults_dir=no_defaults)
    assert chosen.choice is Choice.NAMED and chosen.weights.units == 32  # a named file may be any size
    with pytest.raises(WeightsMismatch, match="but dimension 9 was asked for"):
        choose_weights(9, size, models_dir=tmp_path, model_file=LEGACY_MODEL_2D_XS, defaults_dir=no_defaults)


def _default(folder, name, source):
    folder.mkdir(exist_ok=True)
    (folder / name).symlink_to(source)
    return folder / name


XS_2D = "musicMDRNN-dim2-layers2-units32-mixtures5-scale10.weights.h5"
S_4D = "musicMDRNN-dim4-layers2-units64-mixtures5-scale10.weights.h5"


def test_without_trained_weights_the_default_model_plays(tmp_path):
    models, defaults = tmp_path / "models", tmp_path / "defaults"
    default = _default(defaults, XS_2D, LEGACY_MODEL_2D_XS)
    chosen = choose_weights(2, SIZES["s"], models_dir=models, defaults_dir=defaults)
    assert chosen.choice is Choice.DEFAULT and chosen.path == default
    assert (chosen.weights.dimension, chosen.weights.layers, chosen.weights.units) == (2, 2, 32)  # any size will do
    assert chosen.looked_for[0] == weights_path(models, SIZES["s"].config(2))


def test_the_musicians_own_weights_come_before_the_default(tmp_path):
    models, defaults = tmp_path / "models", tmp_path / "defaults"
    _default(defaults, S_4D, LEGACY_WEIGHTS_4D_S)
    models.mkdir()
    own = models / "musicMDRNN-dim2-layers2-units32-mixtures5-scale10.h5"
    own.symlink_to(LEGACY_MODEL_2D_XS)
    _default(defaults, XS_2D, LEGACY_WEIGHTS_4D_S)  # would not even fit: never opened
    chosen = choose_weights(2, SIZES["xs"], models_dir=models, defaults_dir=defaults)
    assert (chosen.choice, chosen.path) == (Choice.TRAINED, own)
    # A --modelfile comes first of all.
    chosen = choose_weights(4, SIZES["xs"], models_dir=models, model_file=LEGACY_WEIGHTS_4D_S, defaults_dir=defaults)
    assert (chosen.choice, chosen.path) == (Choice.NAMED, LEGACY_WEIGHTS_4D_S)


def test_only_a_default_of_the_same_dimension_is_taken(tmp_path):
    defaults = tmp_path / "defaults"
    # Names that look alike but are not dimension 2's final weights.
    _default(defaults, "musicMDRNN-dim20-layers2-units32-mixtures5-scale10.weights.h5", LEGACY_MODEL_2D_XS)
    _default(defaults, "musicMDRNN-dim2-layers2-units32-mixtures5-scale10-checkpoint.weights.h5", LEGACY_MODEL_2D_XS)
    _default(defaults, "musicMDRNN-dim2-layers2-units32-mixtures5-scale10.h5", LEGACY_MODEL_2D_XS)
    assert default_weights_file(2, SIZES["xs"], defaults) is None
    chosen = choose_weights(2, SIZES["xs"], models_dir=tmp_path / "models", defaults_dir=defaults)
    assert chosen.choice is Choice.UNTRAINED
    # A file named for dimension 4 that holds another dimension is refused, naming it.
    bad = _default(defaults, "musicMDRNN-dim4-layers2-units32-mixtures5-scale10.weights.h5", LEGACY_MODEL_2D_XS)
    with pytest.raises(WeightsMismatch, match=f"{bad} holds a model of dimension 2"):
        choose_weights(4, SIZES["xs"], models_dir=tmp_path / "models", defaults_dir=defaults)


def test_the_default_of_the_size_asked_for_comes_first_then_the_smallest(tmp_path):
    defaults = tmp_path / "defaults"
    for name in ["musicMDRNN-dim4-layers2-units64-mixtures5-scale10.weights.h5",
                 "musicMDRNN-dim4-layers3-units512-mixtures5-scale10.weights.h5",
                 "musicMDRNN-dim4-layers2-units128-mixtures5-scale10.weights.h5"]:
        _default(defaults, name, LEGACY_WEIGHTS_4D_S)
    of_size_m = "musicMDRNN-dim4-layers2-units128-mixtures5-scale10.weights.h5"
    assert default_weights_file(4, SIZES["m"], defaults).name == of_size_m
    smallest = "musicMDRNN-dim4-layers2-units64-mixtures5-scale10.weights.h5"
    assert default_weights_file(4, SIZES["xs"], defaults).name == smallest
    assert default_weights_file(4, None, defaults).name == smallest


def test_the_default_models_are_found_in_the_package_from_any_folder(in_tmp_dir):
    assert DEFAULT_MODELS_DIR == ROOT / "imps" / "core" / "default_models"
    chosen = choose_weights(9, SIZES["s"])  # models/ is looked for here, in the tmp folder
    assert chosen.choice is Choice.DEFAULT
    assert chosen.looked_for[0] == Path("models/musicMDRNN-dim9-layers2-units64-mixtures5-scale10.weights.h5")
    assert chosen.path.parent == DEFAULT_MODELS_DIR and chosen.path.name.startswith("musicMDRNN-dim9-")


@pytest.mark.parametrize("dimension", range(2, 10))
def test_every_dimension_from_2_to_9_has_a_default_model(dimension):
    path = default_weights_file(dimension)
    assert path is not None and path.parent == DEFAULT_MODELS_DIR
    assert path.name == f"musicMDRNN-dim{dimension}-layers2-units32-mixtures5-scale10.weights.h5"
    weights = load_weights(path)
    weights.check_matches(dimension, SIZES["xs"], path)
    assert weights.gate_activation == SIGMOID


def test_sampling_settings_are_stored_with_the_weights_and_read_back(tmp_path):
    for source, name in ((LEGACY_MODEL_2D_XS, "whole-keras2.h5"), (LEGACY_WEIGHTS_4D_S, "keras2.h5"),
                         (default_weights_file(3), "keras3.weights.h5")):
        path = tmp_path / name
        path.write_bytes(Path(source).read_bytes())
        before = load_weights(path)
        path.chmod(0o644)
        store_sampling(path, Sampling(pi_temp=1.25, sigma_temp=0.2))
        after = load_weights(path)
        assert after.sampling == Sampling(1.25, 0.2)
        assert after.gate_activation == before.gate_activation
        np.testing.assert_array_equal(after.lstms[0].kernel, before.lstms[0].kernel)
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left
    with pytest.raises(WeightsError, match="does not exist"):
        store_sampling(tmp_path / "none.weights.h5", Sampling())


def test_stored_sampling_that_is_not_a_pair_of_temperatures_is_refused(tmp_path):
    path = tmp_path / "bad.weights.h5"
    path.write_bytes(default_weights_file(3).read_bytes())
    with h5py.File(path, "a") as f:
        f.attrs[SAMPLING_ATTRIBUTES["pi_temp"]] = -1.0
    with pytest.raises(WeightsError, match="stores negative temperatures"):
        load_weights(path)
    with h5py.File(path, "a") as f:
        f.attrs[SAMPLING_ATTRIBUTES["pi_temp"]] = "warm"
    with pytest.raises(WeightsError, match="stores sampling settings that are not numbers"):
        load_weights(path)


def test_own_weights_of_another_size_come_before_the_default(tmp_path):
    models, defaults = tmp_path / "models", tmp_path / "defaults"
    _default(defaults, XS_2D, LEGACY_MODEL_2D_XS)
    models.mkdir()
    older = models / "musicMDRNN-dim2-layers2-units16-mixtures5-scale10.weights.h5"
    newer = models / "musicMDRNN-dim2-layers2-units32-mixtures5-scale10.weights.h5"
    older.write_bytes(LEGACY_MODEL_2D_XS.read_bytes())  # misnamed, but never opened: the newer one is played
    newer.write_bytes(LEGACY_MODEL_2D_XS.read_bytes())
    os.utime(older, (1_000_000, 1_000_000))
    (models / "musicMDRNN-dim4-layers2-units32-mixtures5-scale10.weights.h5").write_bytes(b"another dimension")
    chosen = choose_weights(2, SIZES["s"], models_dir=models, defaults_dir=defaults)
    assert (chosen.choice, chosen.path) == (Choice.OTHER_SIZE, newer)
    assert chosen.looked_for[0] == weights_path(models, SIZES["s"].config(2))
    assert choose_weights(2, SIZES["xs"], models_dir=models, defaults_dir=defaults).choice is Choice.TRAINED


def test_a_small_dataset_fine_tunes_the_default_only_when_the_musician_has_no_weights_of_their_own(tmp_path):
    models, defaults = tmp_path / "models", tmp_path / "defaults"
    default = _default(defaults, XS_2D, LEGACY_MODEL_2D_XS)
    small = SMALL_DATASET_EVENTS
    assert fine_tuning_start(2, small, None, models, defaults) == default
    assert fine_tuning_start(2, small, SIZES["xs"], models, defaults) == default  # the default model's size
    assert fine_tuning_start(2, small, SIZES["s"], models, defaults) is None  # another size asked for
    assert fine_tuning_start(2, SMALL_DATASET_EVENTS + 1, None, models, defaults) is None  # not small
    assert fine_tuning_start(3, small, None, models, defaults) is None  # no default for the dimension
    models.mkdir()
    (models / "musicMDRNN-dim2-layers2-units64-mixtures5-scale10.weights.h5").write_bytes(b"")
    assert fine_tuning_start(2, small, None, models, defaults) is None  # the musician's own, of any size
