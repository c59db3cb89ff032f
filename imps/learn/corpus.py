"""A corpus of procedural fader performances, written as real IMPS logs
(utils/make_corpus.py is its command line).

Each performance is played by one of a few made-up performers on N = dimension - 1
faders, and written to `{out}/YYYY-MM-DDTHH-MM-SS-{D}d-mdrnn.log` as `interface`
lines, exactly as predictive_music_model.py --log writes a musician's playing, so
generate_dataset.py and the trainer take it like any other logs.

How the performers play, as a person at a fader box does:

- A performance is phrases; a phrase is 2 to 5 gestures; a gesture moves 1 to 3
  faders at once (usually neighbours, as one hand spans them) along smooth curves:
  glides that speed up, move steadily and slow down; swells that rise, hold a moment
  and fall back; glides with a wobble; quick shakes back and forth. Parallel,
  contrary or staggered motion.
- While faders move, the controller sends an event every 10 to 60 ms (each performer
  has their own rate, jittered), carrying all N values, 7-bit (0..127) like a MIDI
  fader box; a tick where no value changed sends nothing. Hands tremble slightly.
- Between gestures the faders rest where they were left: 0.3 to 1 s within a phrase,
  1 to 3 s between phrases.
- About half the phrases repeat an earlier phrase with variation (a little faster or
  slower, targets nudged or the whole phrase played higher or lower, a gesture
  dropped or added, the motif moved to the neighbouring faders).
- The tempo drifts from phrase to phrase and now and then changes abruptly.

Everything follows from --seed: the same arguments write the same files, byte for
byte, and performance k is the same whatever --performances is.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..core.errors import FilesExist
from ..core.logs import PerformanceLog
from ..core.names import TIMESTAMP_FORMAT, log_name

MIN_INTERVAL, MAX_INTERVAL = 0.010, 0.060  # seconds between controller events while moving
GESTURE_GAP = (0.3, 1.0)  # seconds of rest between gestures in a phrase
PHRASE_GAP = (1.0, 3.0)  # and between phrases
FIRST_START = dt.datetime(2024, 1, 1, 12, 0, 0)  # the first performance's start time
SHAPES = ("glide", "swell", "wobble", "shake")


@dataclass(frozen=True)
class CorpusRecipe:
    performances: int
    minutes: float  # the average length of a performance
    seed: int


# The corpus the procedural default models learned from (utils/make_default_models.sh):
# many short performances, so that a model learns to follow wherever the faders are
# rather than remember a few places.
DEFAULT_MODELS_CORPUS = CorpusRecipe(performances=100, minutes=0.8, seed=1)


@dataclass
class Part:
    """One fader's movement within a gesture, over the fraction [start, end] of it."""
    fader: int
    shape: str
    target: float  # where a glide or wobble ends (absolute position)
    amount: float  # a swell's or shake's excursion (signed)
    start: float = 0.0
    end: float = 1.0
    rate: float = 4.0  # wobble or shake cycles per second
    ease: float = 0.2  # the fraction of a glide spent speeding up, and again slowing down


@dataclass
class Gesture:
    duration: float  # seconds at tempo 1
    parts: list[Part]


@dataclass
class Phrase:
    gestures: list[Gesture]
    gaps: list[float]  # rest after each gesture but the last, seconds at tempo 1


@dataclass
class Performer:
    """A player's habits: how fast their controller talks, how they move, where."""
    interval: float  # median seconds between controller events while moving
    interval_spread: float  # lognormal sigma of that interval
    tempo: float  # starting tempo (gesture durations are divided by it)
    favourite_faders: np.ndarray  # probability of starting a gesture on each fader
    shape_weights: np.ndarray  # probability of each of SHAPES
    hands: float  # mean extra faders per gesture (0..2)
    repeat: float  # probability a phrase repeats an earlier one
    tremor: float  # hand tremble, in fader units


def make_performer(rng: np.random.Generator, n_faders: int) -> Performer:
    favourite = rng.gamma(1.5, size=n_faders) + 0.05
    shapes = rng.dirichlet([4.0, 2.5, 1.0, 0.6])
    return Performer(interval=float(rng.uniform(0.02, 0.04)), interval_spread=float(rng.uniform(0.2, 0.45)),
                     tempo=float(rng.uniform(0.75, 1.35)), favourite_faders=favourite / favourite.sum(),
                     shape_weights=shapes, hands=float(rng.uniform(0.5, 1.6)), repeat=float(rng.uniform(0.45, 0.75)),
                     tremor=float(rng.uniform(0.0005, 0.003)))


def ease(u: float, ramp: float) -> float:
    """0 to 1 as a hand pushes a fader: speeding up over the first `ramp` of the time,
    steady, and slowing down over the last `ramp` (a trapezoid of speed)."""
    u = min(max(u, 0.0), 1.0)
    ramp = min(max(ramp, 1e-3), 0.5)
    top = 1.0 / (1.0 - ramp)  # the steady speed
    if u < ramp:
        return top * u * u / (2 * ramp)
    if u > 1.0 - ramp:
        return 1.0 - top * (1.0 - u) ** 2 / (2 * ramp)
    return top * (u - ramp / 2)


def part_value(part: Part, start_value: float, u: float, seconds: float) -> float:
    """Where `part` puts its fader at gesture fraction `u`, `seconds` into the gesture."""
    if u <= part.start:
        return start_value
    w = min(1.0, (u - part.start) / max(part.end - part.start, 1e-6))
    if part.shape == "glide":
        return start_value + (part.target - start_value) * ease(w, part.ease)
    if part.shape == "swell":  # up (or down), a moment there, and back
        rise = ease(w / 0.45, part.ease) if w < 0.45 else 1.0 if w < 0.55 else ease((1.0 - w) / 0.45, part.ease)
        return start_value + part.amount * rise
    if part.shape == "wobble":
        base = start_value + (part.target - start_value) * ease(w, part.ease)
        return base + part.amount * math.sin(math.pi * w) * math.sin(2 * math.pi * part.rate * seconds)
    # shake: back and forth from where it was, a whole number of times, and back again
    cycles = max(1, round(part.rate * 0.5))
    return start_value + part.amount * math.sin(math.pi * w) * (0.5 - 0.5 * math.cos(2 * math.pi * cycles * w))


def make_gesture(rng: np.random.Generator, performer: Performer, positions: np.ndarray) -> Gesture:
    n = len(positions)
    first = int(rng.choice(n, p=performer.favourite_faders))
    faders = [first]
    extra = min(int(rng.poisson(performer.hands)), 2, n - 1)
    while len(faders) < 1 + extra:
        if rng.random() < 0.75:  # a neighbour, under the same hand
            candidate = faders[-1] + int(rng.choice([-1, 1]))
        else:
            candidate = int(rng.integers(n))
        if 0 <= candidate < n and candidate not in faders:
            faders.append(candidate)
        elif all(f in faders for f in range(max(0, min(faders) - 1), min(n, max(faders) + 2))):
            candidate = int(rng.integers(n))  # hemmed in: anywhere else
            if candidate not in faders:
                faders.append(candidate)
    shape = SHAPES[int(rng.choice(len(SHAPES), p=performer.shape_weights))]
    duration = float(rng.uniform(0.3, 0.9) if shape == "shake" else rng.lognormal(math.log(1.1), 0.5))
    duration = min(max(duration, 0.3), 3.5)
    motion = rng.choice(["parallel", "contrary", "staggered", "free"], p=[0.35, 0.2, 0.3, 0.15])
    lead = make_part(rng, first, shape, float(positions[first]))
    parts = [lead]
    for k, fader in enumerate(faders[1:], start=1):
        here = float(positions[fader])
        if motion == "free":
            part = make_part(rng, fader, SHAPES[int(rng.choice(len(SHAPES), p=performer.shape_weights))], here)
        else:
            move = lead.target - float(positions[first])
            sign = -1.0 if motion == "contrary" else 1.0
            part = replace(lead, fader=fader, target=float(np.clip(here + sign * move + rng.normal(0, 0.04), 0, 1)),
                           amount=sign * lead.amount * float(rng.uniform(0.7, 1.2)))
            if motion == "staggered":
                part.start = min(0.5, 0.12 * k + float(rng.uniform(0, 0.1)))
                part.end = 1.0
        parts.append(part)
    return Gesture(duration, parts)


def make_part(rng: np.random.Generator, fader: int, shape: str, here: float) -> Part:
    if rng.random() < 0.06:  # now and then all the way to a stop
        target = float(rng.choice([0.0, 1.0]))
    elif rng.random() < 0.4:  # somewhere else entirely
        target = float(rng.beta(1.4, 1.4))
    else:  # a move from here, turning back before the end of the fader
        move = float(rng.uniform(0.15, 0.55)) * float(rng.choice([-1, 1]))
        target = here + move
        if not 0.02 <= target <= 0.98:
            target = here - move
        target = float(np.clip(target, 0.02, 0.98))
    room_up, room_down = 1.0 - here, here
    direction = 1.0 if room_up > room_down or (room_up > 0.15 and rng.random() < 0.5) else -1.0
    amount = direction * float(rng.uniform(0.1, 0.45))
    if shape == "wobble":
        amount = float(rng.uniform(0.02, 0.08))
    elif shape == "shake":
        amount = direction * float(rng.uniform(0.08, 0.25))
    return Part(fader, shape, target, amount, rate=float(rng.uniform(2.5, 6.0)), ease=float(rng.uniform(0.08, 0.3)))


def make_phrase(rng: np.random.Generator, performer: Performer, positions: np.ndarray) -> Phrase:
    gestures = []
    trial = positions.copy()
    for _ in range(int(rng.integers(2, 6))):
        gesture = make_gesture(rng, performer, trial)
        gestures.append(gesture)
        for part in gesture.parts:
            trial[part.fader] = part_value(part, trial[part.fader], 1.0, gesture.duration)
    gaps = [float(rng.uniform(*GESTURE_GAP)) for _ in gestures[:-1]]
    return Phrase(gestures, gaps)


def vary(rng: np.random.Generator, performer: Performer, phrase: Phrase, n_faders: int,
         positions: np.ndarray) -> Phrase:
    """An earlier phrase again, not quite the same."""
    stretch = float(rng.uniform(0.85, 1.15))
    shift = int(rng.choice([-1, 1])) if rng.random() < 0.15 else 0
    lift = float(rng.uniform(-0.15, 0.15)) if rng.random() < 0.5 else 0.0  # the same moves, higher or lower
    if not all(0 <= p.fader + shift < n_faders for g in phrase.gestures for p in g.parts):
        shift = 0
    gestures = []
    for gesture in phrase.gestures:
        parts = [replace(p, fader=p.fader + shift,
                         target=float(np.clip(p.target + lift + rng.normal(0, 0.04), 0, 1)),
                         amount=p.amount * float(rng.uniform(0.8, 1.2)), rate=p.rate * float(rng.uniform(0.9, 1.1)))
                 for p in gesture.parts]
        gestures.append(Gesture(gesture.duration * stretch * float(rng.uniform(0.92, 1.08)), parts))
    gaps = [g * stretch * float(rng.uniform(0.8, 1.25)) for g in phrase.gaps]
    if len(gestures) > 2 and rng.random() < 0.2:  # leave one out
        k = int(rng.integers(len(gestures)))
        del gestures[k]
        del gaps[min(k, len(gaps) - 1)]
    elif rng.random() < 0.2:  # or add one at the end
        gestures.append(make_gesture(rng, performer, positions))
        gaps.append(float(rng.uniform(*GESTURE_GAP)))
    return Phrase(gestures, gaps)


@dataclass
class Player:
    """Turns gestures into controller events: (seconds from the start, values)."""
    performer: Performer
    rng: np.random.Generator
    positions: np.ndarray
    steps: int = 127
    time: float = 0.0
    events: list[tuple[float, np.ndarray]] = field(default_factory=list)

    def quantised(self, values: np.ndarray) -> np.ndarray:
        clipped = np.clip(values, 0.0, 1.0)
        return np.round(clipped * self.steps) / self.steps if self.steps else clipped

    def play(self, gesture: Gesture, tempo: float) -> None:
        seconds = gesture.duration / tempo
        start = self.positions.copy()
        last_sent = self.quantised(start)
        tremble = np.zeros_like(start)
        elapsed = 0.0
        while True:
            elapsed += self.interval()  # the last tick may fall a little after the gesture's end
            u = min(elapsed / seconds, 1.0)
            current = self.positions.copy()
            for part in gesture.parts:
                current[part.fader] = part_value(part, start[part.fader], u, min(elapsed, seconds))
            moving = [part.fader for part in gesture.parts]
            tremble[moving] = 0.7 * tremble[moving] + self.rng.normal(0, self.performer.tremor, len(moving))
            if u < 1.0:
                current[moving] += tremble[moving]
            current = np.clip(current, 0.0, 1.0)
            sent = self.quantised(current)
            if not np.array_equal(sent, last_sent):
                self.events.append((self.time + elapsed, sent))
                last_sent = sent
            if u >= 1.0:
                break
        self.positions = current
        self.time += elapsed

    def interval(self) -> float:
        p = self.performer
        return float(np.clip(p.interval * math.exp(self.rng.normal(0, p.interval_spread)), MIN_INTERVAL, MAX_INTERVAL))

    def rest(self, seconds: float) -> None:
        self.time += seconds


def perform(seed: int, index: int, performer: Performer, n_faders: int, seconds: float,
            steps: int = 127) -> list[tuple[float, np.ndarray]]:
    """One performance, 0.8 to 1.2 times `seconds` and then the phrase under way: events as
    (seconds from the start, values)."""
    rng = np.random.default_rng((seed, 1, index))
    positions = np.round(rng.uniform(0, 1, n_faders) * 20) / 20
    player = Player(performer, rng, positions, steps)
    tempo = performer.tempo * float(rng.uniform(0.9, 1.1))
    length = seconds * float(rng.uniform(0.8, 1.2))
    phrases: list[Phrase] = []
    player.rest(float(rng.uniform(0.2, 1.0)))
    while player.time < length:
        if phrases and rng.random() < performer.repeat:
            phrase = vary(rng, performer, phrases[-int(rng.integers(1, min(4, len(phrases)) + 1))], n_faders,
                          player.positions)
        else:
            phrase = make_phrase(rng, performer, player.positions)
        phrases.append(phrase)
        tempo *= math.exp(rng.normal(0, 0.05))
        if rng.random() < 0.1:  # a change of tempo
            tempo *= float(rng.uniform(0.65, 1.5))
        tempo = min(max(tempo, 0.5), 2.0)
        for k, gesture in enumerate(phrase.gestures):
            player.play(gesture, tempo)
            if k < len(phrase.gaps):
                player.rest(min(max(phrase.gaps[k] / tempo, GESTURE_GAP[0]), PHRASE_GAP[1]))
        player.rest(float(rng.uniform(*PHRASE_GAP)))
    return player.events


def performers(seed: int, count: int, n_faders: int) -> list[Performer]:
    return [make_performer(np.random.default_rng((seed, 0, k)), n_faders) for k in range(count)]


def write_log(path: Path, start: dt.datetime, events: list[tuple[float, np.ndarray]]) -> None:
    log = PerformanceLog(path)
    try:
        for seconds, values in events:
            log.write("interface", values, when=start + dt.timedelta(microseconds=round(seconds * 1e6)))
    finally:
        log.close()


def make_corpus(out: Path, dimension: int, n_performances: int, minutes: float, seed: int, n_performers: int = 8,
                steps: int = 127, overwrite: bool = False, report=lambda line: None) -> list[Path]:
    n_faders = dimension - 1
    out.mkdir(parents=True, exist_ok=True)
    cast = performers(seed, n_performers, n_faders)
    start = FIRST_START
    plans = []
    for i in range(n_performances):
        events = perform(seed, i, cast[i % n_performers], n_faders, minutes * 60, steps)
        plans.append((out / log_name(start.strftime(TIMESTAMP_FORMAT), dimension), start, events))
        start += dt.timedelta(seconds=math.ceil(events[-1][0] if events else 0) + 60)
    clashes = [path for path, _, _ in plans if path.exists()]
    if clashes and not overwrite:
        raise FilesExist(clashes[0], len(clashes))
    for path in clashes:
        path.unlink()
    paths = []
    for i, (path, start, events) in enumerate(plans):
        write_log(path, start, events)
        report(f"  {path.name}: performer {i % n_performers + 1}, {len(events)} events, "
               f"{events[-1][0] if events else 0:.0f} s")
        paths.append(path)
    return paths
