"""What the server plays: which weights, at which temperatures, through which network,
and the lines that tell the musician so. The performance script and the MIDI benchmark
both build their Predictor here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..core import cli
from ..core.model import model_size, resolve_sampling
from ..core.weights import Choice, ChosenWeights, MDRNNWeights, choose_weights, default_model_source, describe
from .config import ServerConfig
from .engine import NumpyMDRNN, Predictor


@dataclass
class ModelToPlay:
    predictor: Predictor
    chosen: ChosenWeights
    weights_line: str  # which weights, and for a default or untrained model how to play one's own
    sampling_line: str  # the temperatures, and where each came from

    @property
    def untrained(self) -> bool:
        return self.chosen.choice is Choice.UNTRAINED


def model_to_play(config: ServerConfig, network: Callable[[MDRNNWeights], NumpyMDRNN] = NumpyMDRNN,
                  seed: int | None = None) -> ModelToPlay:
    """The weights config asks for (weights.choose_weights), at the sampling it asks for or
    the model stored (model.resolve_sampling), stepped by `network`: NumpyMDRNN, or a
    class with its step() and reset() such as learn's KerasMDRNN."""
    size = model_size(config.model_size)
    chosen = choose_weights(config.dimension, size, model_file=config.model_file)
    predictor, sampling_line = predictor_for(chosen.weights, config, network, seed)
    return ModelToPlay(predictor, chosen, weights_line(chosen, config.dimension, size.name), sampling_line)


def predictor_for(weights: MDRNNWeights, config: ServerConfig,
                  network: Callable[[MDRNNWeights], NumpyMDRNN] = NumpyMDRNN,
                  seed: int | None = None) -> tuple[Predictor, str]:
    """`weights` played at the temperatures config gives, else those stored with them,
    and the line that says which; at start and when a model is swapped in while playing."""
    sampling, sampling_line = resolve_sampling(config.pi_temp, config.sigma_temp, weights.sampling)
    return Predictor(network(weights), sampling.pi_temp, sampling.sigma_temp, seed=seed), sampling_line


def weights_line(chosen: ChosenWeights, dimension: int, size_name: str) -> str:
    d = dimension
    if chosen.choice in (Choice.NAMED, Choice.TRAINED):
        return f"performing with {chosen.path} ({describe(chosen.weights.config, with_dimension=False)})"
    train = f"{cli.TRAINER} --dimension={d} --modelsize={size_name}"
    if chosen.choice is Choice.OTHER_SIZE:
        return (f"no trained weights of size {size_name} at {chosen.looked_for[0]}; performing with your own "
                f"{describe(chosen.weights.config, with_dimension=False)} at {chosen.path}. For size {size_name}, "
                f"run {train}")
    if chosen.choice is Choice.DEFAULT:
        w = chosen.weights
        size_note = "" if w.config == model_size(size_name).config(d) else \
            f", {w.layers} layers of {w.units} units whatever --modelsize says"
        return (f"no trained weights at {chosen.looked_for[0]}; playing the default model {chosen.path} (trained on "
                f"{default_model_source(d)}, not on you{size_note}). To play a model of your own, record with --log, "
                f"then run {cli.COLLATE} --dimension={d} and {train}")
    return (f"no trained weights at {chosen.looked_for[0]} (nor {chosen.looked_for[1].name}), and no default model "
            f"for dimension {d}: performing with an UNTRAINED model, which plays noise. Train one with {train}, or "
            "name a file with --modelfile")
