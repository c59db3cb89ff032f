"""The MDRNN: its configuration and its equations, in one place (no TensorFlow here).

An event is `[dt, x1, ..., xN]`: seconds since the previous event, then the N values
of the interface in [0, 1]. Its dimension D is N + 1. Events go into the network
multiplied by SCALE, and the samples that come out are divided by it.

The network is `layers` stacked LSTMs of `units` each, then a mixture density head
with K = `mixtures` Gaussian components. With x_t the layer's input at step t (the
scaled event for the first layer, the layer below's h_t otherwise):

    LSTM cell (Keras's gate order i, f, c, o; W the kernel, U the recurrent kernel):
        z   = x_t W + h_{t-1} U + b                      z = [z_i, z_f, z_c, z_o]
        i   = s(z_i)    f = s(z_f)    o = s(z_o)    g = tanh(z_c)
        c_t = f * c_{t-1} + i * g
        h_t = o * tanh(c_t)
    where s is the logistic sigmoid (Keras 3), or for the original IMPS's weights
    Keras 2's hard sigmoid s(z) = clip(0.2 z + 0.5, 0, 1), which they were trained with.

    Mixture head (keras-mdn-layer), from the top layer's h_t:
        mu     = h_t W_mu + b_mu                         K x D means
        sigma  = ELU(h_t W_sigma + b_sigma) + 1 + EPS    K x D standard deviations
        pi     = h_t W_pi + b_pi                         K logits
    The next event y (scaled) has the density
        p(y) = sum_k softmax(pi)_k prod_d Normal(y_d; mu_kd, sigma_kd^2)
    and training minimises -log p(y) over windows of SEQ_LEN steps.

    Sampling with temperatures (IMPS's --pitemp and --sigmatemp):
        k ~ Categorical(softmax(pi / pi_temp))           pi_temp 0: the largest pi
        y ~ Normal(mu_k, sigma_k^2 * sigma_temp)         sigma_temp 0: mu_k itself

    A mixture for each value (ModelConfig.per_value, the trainer's --pervalue): the same
    network and mu and sigma, but K logits for each of the D values (K x D, from
    h_t W_pi + b_pi, laid out as mu is), so that each value has a mixture of its own:
        p(y) = prod_d sum_k softmax_k(pi_{.d})_k Normal(y_d; mu_kd, sigma_kd^2)
    and sampling draws a component for each value. One mixture over the whole event
    needs a component for every way the next event can go; when a player moves one
    control of eight at a time, up or down, that is sixteen, and five components can
    only stand for them by their average: every control moving a little.

imps/perform/engine.py computes these in numpy, one step at a time; imps/learn/keras_model.py builds
the same network in Keras for training, from the same ModelConfig.

Which temperatures a model plays at, written here once: a temperature the musician
gives (a flag; /temperature while playing), then the Sampling stored with the model's
weights (utils/evaluate_model.py --choose-sampling picks and stores it), then
DEFAULT_SAMPLING.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

N_MIXTURES = 5
SCALE = 10.0  # events are multiplied by this going in, in training and performance alike
SEQ_LEN = 50  # training window length in events
MIN_DIMENSION = 2  # one interface value and dt
DEFAULT_DIMENSION = MIN_DIMENSION  # the scripts' --dimension when none is given: the smallest model
SIGMA_EPSILON = 1e-7  # keras-mdn-layer adds keras.backend.epsilon() to ELU + 1


@dataclass(frozen=True)
class ModelConfig:
    dimension: int  # values per event: dt and the N interface values
    units: int  # per LSTM layer
    layers: int  # stacked LSTMs
    mixtures: int = N_MIXTURES  # Gaussian components in the head
    scale: float = SCALE
    seq_len: int = SEQ_LEN  # events per training window
    per_value: bool = False  # a mixture for each value rather than one over the event (above)

    @property
    def pi_outputs(self) -> int:
        """How many mixture logits the head gives: K, or K for each value."""
        return self.mixtures * self.dimension if self.per_value else self.mixtures


@dataclass(frozen=True)
class ModelSize:
    """A named size, as the scripts' --modelsize chooses it."""
    name: str
    units: int
    layers: int

    def config(self, dimension: int, per_value: bool = False) -> ModelConfig:
        return ModelConfig(dimension, self.units, self.layers, per_value=per_value)


SIZES = {
    "xxs": ModelSize("xxs", 16, 2),
    "xs": ModelSize("xs", 32, 2),
    "s": ModelSize("s", 64, 2),
    "m": ModelSize("m", 128, 2),
    "l": ModelSize("l", 256, 2),
    "xl": ModelSize("xl", 512, 3),
}
DEFAULT_SIZE = "s"


@dataclass(frozen=True)
class Sampling:
    """The temperatures a model plays at."""
    pi_temp: float = 1.0  # how freely the model picks among its mixture components
    sigma_temp: float = 0.01  # how far samples stray from the component's means

    def flags(self) -> str:
        return f"--pitemp {self.pi_temp:g} --sigmatemp {self.sigma_temp:g}"


DEFAULT_SAMPLING = Sampling()


def resolve_sampling(pi_temp: float | None, sigma_temp: float | None,
                     stored: Sampling | None) -> tuple[Sampling, str]:
    """The temperatures to play at, each the musician's if given, else the model's stored
    one, else IMPS's default; and where each came from, in words."""
    chosen = {}
    origins = []
    for name, given in (("pi_temp", pi_temp), ("sigma_temp", sigma_temp)):
        if given is not None:
            chosen[name], origin = given, "as given"
        elif stored is not None:
            chosen[name], origin = getattr(stored, name), "stored with the model"
        else:
            chosen[name], origin = getattr(DEFAULT_SAMPLING, name), "IMPS's default"
        origins.append(f"--{name.replace('_', '')} {chosen[name]:g} ({origin})")
    return Sampling(**chosen), "sampling: " + ", ".join(origins)


def size_of(config: ModelConfig) -> ModelSize | None:
    """The named size a model has, or None for a shape no --modelsize gives."""
    return next((size for size in SIZES.values() if size.config(config.dimension, config.per_value) == config), None)


def model_size(name: str) -> ModelSize:
    """The size called `name`, or a ValueError that lists the choices."""
    try:
        return SIZES[name]
    except KeyError:
        raise ValueError(f"unknown model size {name!r}: choose one of {', '.join(SIZES)}") from None


@dataclass
class Mixture:
    mus: np.ndarray  # (n_mixtures, dimension)
    sigmas: np.ndarray  # (n_mixtures, dimension)
    pi_logits: np.ndarray  # (n_mixtures,), or (n_mixtures, dimension) with a mixture for each value


def sample(mixture: Mixture, pi_temp: float, sigma_temp: float, rng: np.random.Generator) -> np.ndarray:
    """Draw one event: a component from softmax(pi_logits / pi_temp), then a normal
    around its means whose variance is scaled by sigma_temp (as IMPS and
    keras-mdn-layer define the temperatures). Zero temperatures give the most likely
    component and its mean. With a mixture for each value, each value draws its own."""
    logits = mixture.pi_logits
    if logits.ndim == 2:
        return _sample_each_value(mixture, pi_temp, sigma_temp, rng)
    if pi_temp > 0:
        weights = np.exp((logits - logits.max()) / pi_temp)
        cumulative = np.cumsum(weights)
        component = min(int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right")),
                        len(logits) - 1)
    else:
        component = int(np.argmax(logits))
    mean = mixture.mus[component]
    if sigma_temp <= 0:
        return mean.copy()
    return mean + mixture.sigmas[component] * np.sqrt(sigma_temp) * rng.standard_normal(mean.shape[0])


def _sample_each_value(mixture: Mixture, pi_temp: float, sigma_temp: float, rng: np.random.Generator) -> np.ndarray:
    logits = mixture.pi_logits  # (n_mixtures, dimension)
    columns = np.arange(logits.shape[1])
    if pi_temp > 0:
        cumulative = np.cumsum(np.exp((logits - logits.max(axis=0)) / pi_temp), axis=0)
        draws = rng.random(logits.shape[1]) * cumulative[-1]
        components = np.minimum((cumulative <= draws).sum(axis=0), logits.shape[0] - 1)
    else:
        components = np.argmax(logits, axis=0)
    mean = mixture.mus[components, columns]
    if sigma_temp <= 0:
        return mean.copy()
    return mean + mixture.sigmas[components, columns] * np.sqrt(sigma_temp) * rng.standard_normal(mean.shape[0])
