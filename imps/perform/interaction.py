"""The interaction loop: who plays when.

Data flows one way. The OSC thread (or the MIDI thread: the server lets one in at a
time) validates and logs each musician's event and puts
it in a bounded queue. The model thread takes events from that queue, predicts the
next event and hands it to the player. The player sleeps until each prediction is
due, sends it, logs it, and (when the model is to go on by itself) puts it back in
the queue as the model's next input. Threads block on the queue and a condition;
nothing polls.

A mode is three switches, as in IMPS:

| mode            | user_to_model | model_to_model | model_to_sound |
| --------------- | ------------- | -------------- | -------------- |
| user only       | no            | no             | no             |
| polyphony       | yes           | no             | yes            |
| battle          | no            | yes            | yes            |
| call & response | call: yes, response: no | call: no, response: yes | call: no, response: yes |

Call and response takes turns (Turn). In the call the model predicts silently from
each of the musician's events; once the musician has been quiet for the threshold, the
response begins: the model plays from its prediction after their last event and goes
on from its own output until the musician plays again, when whatever it had still to
play is dropped and the call begins again.

The musician's commands while playing (/mode, /reset, /pause, or their keys) come on
the OSC or keyboard thread and go through the same queue as events, so the model thread
carries each out in its turn among them; when the model is behind, only events make room.
"""

from __future__ import annotations

import heapq
import itertools
import queue
import threading
import time
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from ..core.logs import PerformanceLog
from ..core.notices import (EventShown, ModelChanged, ModelReset, ModeSet, NoModelToCommand, Notice, PauseSet, TurnTaken,
                            ValueOutOfRange, WaitCapped, say)
from .histogram import SecondsHistogram

if TYPE_CHECKING:
    from .engine import Predictor

MIN_DT = 0.001  # a predicted dt at or below zero still waits a moment, as in IMPS
# Consecutive /prediction sends are at least this far apart, whatever the model's dt and
# /timescale say (/timescale 0 would otherwise send thousands a second to the synth).
MIN_SEND_INTERVAL = 0.001
INBOX_SIZE = 64  # model input waiting at most this many events; beyond, the stalest goes
PLAYER_SIZE = 256  # predictions waiting to sound at most; beyond, the earliest due goes


@dataclass(frozen=True)
class Switches:
    user_to_model: bool
    model_to_model: bool
    model_to_sound: bool


USER_ONLY = "useronly"
POLYPHONY = "polyphony"
BATTLE = "battle"
CALL_RESPONSE = "callresponse"


class Turn(Enum):
    """Whose turn it is in call and response."""
    CALL = Switches(True, False, False)  # the musician plays; the model listens and predicts silently
    RESPONSE = Switches(False, True, True)  # the musician is quiet; the model plays on from its own output


MODES = {
    USER_ONLY: Switches(False, False, False),
    POLYPHONY: Switches(True, False, True),
    BATTLE: Switches(False, True, True),
    CALL_RESPONSE: Turn.CALL.value,  # as it starts; then it takes turns
}

# The names /mode takes: each mode's flag's long form (--only, --polyphony, --battle,
# --call) and its name in MODES.
MODE_NAMES = {"only": USER_ONLY, "useronly": USER_ONLY, "polyphony": POLYPHONY, "battle": BATTLE,
              "call": CALL_RESPONSE, "callresponse": CALL_RESPONSE}


def as_played(prediction: np.ndarray, max_wait: float) -> np.ndarray:
    """A predicted event as the player plays it and the model hears it back: its wait
    at least MIN_DT and at most max_wait (the server's --maxwait), its values within
    [0, 1]. Evaluation plays offline solos through this too, so they are the stage's."""
    dt = min(max(float(prediction[0]), MIN_DT), max_wait)
    return np.concatenate([[dt], np.clip(prediction[1:], 0.0, 1.0)])


@dataclass
class _Input:
    event: np.ndarray  # [dt, x1, ..., xN]
    from_user: bool
    generation: int  # model output from an older generation was overtaken by the musician


class _Inbox(queue.Queue):
    """The model's input in the order it came: events (_Input), commands (callables run
    on the model thread) and the stop marker. It holds at most `capacity` events; when
    it is full, the stalest event makes room (counted in `dropped`), so the musician is
    never kept waiting and the log already holds every event. The rest are never dropped:
    a command keeps its turn, however far behind the model is."""

    def __init__(self, capacity: int):
        super().__init__()  # unbounded: the bound is on events alone, kept by _put
        self._capacity = capacity
        self._events = 0
        self.dropped = 0

    # queue.Queue calls these with its lock held.
    def _put(self, item) -> None:
        if isinstance(item, _Input):
            if self._events == self._capacity:
                del self.queue[next(i for i, queued in enumerate(self.queue) if isinstance(queued, _Input))]
                self.dropped += 1
            else:
                self._events += 1
        self.queue.append(item)

    def _get(self):
        item = self.queue.popleft()
        if isinstance(item, _Input):
            self._events -= 1
        return item


class Player:
    """Sends each prediction when it is due, and never two within `min_interval` of each
    other: a prediction due sooner after the previous one waits for the interval (its
    due time moves, so lateness counts from the moved time). Sleeps on a condition until
    the next due time, waking early only when something earlier arrives or it is cleared."""

    def __init__(self, play: Callable[[np.ndarray, int], None], capacity: int = PLAYER_SIZE,
                 min_interval: float = MIN_SEND_INTERVAL):
        self._play = play
        self._capacity = capacity
        self._min_interval = min_interval
        self._heap: list = []
        self._order = itertools.count()
        self._condition = threading.Condition()
        self._stopping = False
        self.dropped = 0
        self.last_due = -np.inf  # when the latest prediction was due to leave, after any wait for the interval
        self.lateness = SecondsHistogram()  # seconds past due, of every send, in fixed memory
        self._thread = threading.Thread(target=self._run, name="player", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def schedule(self, due: float, event: np.ndarray, generation: int) -> None:
        with self._condition:
            if len(self._heap) >= self._capacity:
                heapq.heappop(self._heap)
                self.dropped += 1
            heapq.heappush(self._heap, (due, next(self._order), event, generation))
            self._condition.notify()

    def clear(self) -> None:
        with self._condition:
            self._heap.clear()
            self._condition.notify()

    def stop(self) -> None:
        with self._condition:
            self._stopping = True
            self._condition.notify()
        self._thread.join(timeout=1.0)

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._stopping:
                    if not self._heap:
                        self._condition.wait()
                        continue
                    wait = self._next_due() - time.monotonic()
                    if wait <= 0:
                        break
                    self._condition.wait(wait)
                if self._stopping:
                    return
                self.last_due = self._next_due()
                _, _, event, generation = heapq.heappop(self._heap)
            self.lateness.add(time.monotonic() - self.last_due)
            self._play(event, generation)

    def _next_due(self) -> float:
        return max(self._heap[0][0], self.last_due + self._min_interval)


class Performance:
    """Runs a mode: feeds the musician's events to the model, plays its predictions, and
    tells `notify` what the musician is to hear of it (imps.core.notices)."""

    def __init__(self, mode: str, predictor: Predictor | None, send: Callable[[Sequence[float]], None],
                 log: PerformanceLog | None, call_response_threshold: float, max_wait: float,
                 verbose: bool = False, notify: Callable[[Notice], None] = say,
                 silence: Callable[[], None] | None = None):
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        if mode != USER_ONLY and predictor is None:
            raise ValueError(f"mode {mode} needs a model")
        self.mode = mode
        self.turn = Turn.CALL if mode == CALL_RESPONSE else None
        self.predictor = predictor
        self.send = send
        self.log = log
        self.threshold = call_response_threshold
        self.max_wait = max_wait  # the longest predicted dt played as it is; longer ones are cut to it
        self.verbose = verbose
        self.notify = notify
        self.silence = silence  # ends whatever the synth still sounds of dropped predictions
        self.timescale = 1.0
        self.paused = False  # set on the model thread: while paused, nothing is scheduled
        self.user_events = 0
        self.out_of_range_events = 0  # events with a value outside 0-1: logged as sent, clipped for the model
        self.predictions_sent = 0
        self.waits_capped = 0
        self._inbox = _Inbox(INBOX_SIZE)
        self._last_user_time: float | None = None  # monotonic seconds, set by the OSC or MIDI thread
        self._generation = 0
        self._pending_response: np.ndarray | None = None
        # Dropping predictions and sending one exclude each other, so that a prediction
        # already on its way cannot sound after the silence that ends its generation.
        self._sounding = threading.Lock()
        self._stop = object()
        self._told_no_model = False
        self.player = Player(self._play)
        self._model_thread = threading.Thread(target=self._run_model, name="model", daemon=True)

    @property
    def inputs_dropped(self) -> int:
        return self._inbox.dropped

    @property
    def switches(self) -> Switches:
        return self.turn.value if self.turn is not None else MODES[self.mode]

    # Called on the OSC or the MIDI thread, one at a time.
    def user_event(self, values: Sequence[float]) -> None:
        """The musician's event: logged exactly as it came; the model gets it clipped to
        0-1, and the musician hears once that a value was out of range."""
        now = time.monotonic()
        values = np.asarray(values, np.float64)
        if self.log is not None:
            self.log.write("interface", values)
        dt = 0.0 if self._last_user_time is None else now - self._last_user_time
        self._last_user_time = now
        self.user_events += 1
        if self.verbose:
            self.notify(EventShown(dt, values, by_model=False))
        clipped = np.clip(values, 0.0, 1.0)
        if not np.array_equal(clipped, values):  # one comparison on the usual path, where all are in range
            self._out_of_range(values)
        if self.mode != USER_ONLY:
            self._inbox.put(_Input(np.concatenate([[dt], clipped]), True, self._generation))

    def _out_of_range(self, values: np.ndarray) -> None:
        index = int(np.flatnonzero((values < 0.0) | (values > 1.0))[0])
        self.out_of_range_events += 1
        if self.out_of_range_events == 1:
            self.notify(ValueOutOfRange(float(values[index]), index + 1, len(values)))

    def start(self) -> None:
        if self.predictor is None:
            return
        self.player.start()
        self._model_thread.start()
        self._seed_battle()

    def stop(self) -> None:
        if self.predictor is None:
            return
        self._inbox.put(self._stop)
        self._model_thread.join(timeout=1.0)
        self.player.stop()

    # Commands, from any thread.
    def switch_mode(self, mode: str | None) -> None:
        """Play in `mode` (one of MODES) from now on; None: the next of MODES, for a key that cycles."""
        self._command("/mode", lambda: self._switch(mode))

    def reset(self) -> None:
        """Clear the model's memory of what was played, as at the start of a new piece."""
        self._command("/reset", self._reset)

    def pause(self, paused: bool | None) -> None:
        """Stop (True) or resume (False) the model's playing; None: the other of the two."""
        self._command("/pause", lambda: self._pause(paused))

    def play(self, predictor: Predictor, name: str, sampling_line: str) -> None:
        """Play `predictor` (of the same dimension) from now on, from a fresh start, in
        place of the model playing; `name` and `sampling_line` say which and how."""
        self._command("model", lambda: self._play_model(predictor, name, sampling_line))

    def _command(self, name: str, action: Callable[[], None]) -> None:
        if self.predictor is None:
            if not self._told_no_model:
                self._told_no_model = True
                self.notify(NoModelToCommand(name))
            return
        self._inbox.put(action)

    # The model thread.
    def _response_deadline(self) -> float | None:
        if self.turn is not Turn.CALL or self._pending_response is None or self.paused:
            return None
        return self._last_user_time + self.threshold

    def _run_model(self) -> None:
        while True:
            deadline = self._response_deadline()
            try:
                timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
                item = self._inbox.get(timeout=timeout)
            except queue.Empty:
                self._respond()
                continue
            if item is self._stop:
                return
            if not isinstance(item, _Input):
                item()  # a command
            elif item.from_user:
                self._on_user(item)
            elif item.generation == self._generation and self.switches.model_to_model:
                self._schedule(self.predictor.predict(item.event))

    def _drop_pending(self) -> None:
        """Whatever the model had still to play is dropped, and what the synth still
        sounds of it silenced; model output already on its way back is ignored."""
        with self._sounding:
            self._generation += 1
            self.player.clear()
            if self.silence is not None:
                self.silence()

    def _begin_turns(self) -> None:
        """Call and response starts over with the musician's call; battle needs an event to answer."""
        self.turn = Turn.CALL if self.mode == CALL_RESPONSE else None
        self._pending_response = None
        self._seed_battle()

    def _seed_battle(self) -> None:
        if self.mode == BATTLE and not self.paused:
            # The model needs something to answer before it can play by itself.
            first = np.concatenate([[0.1], np.random.default_rng().random(self.predictor.dimension - 1)])
            self._inbox.put(_Input(first, False, self._generation))

    def _switch(self, mode: str | None) -> None:
        if mode is None:
            names = list(MODES)
            mode = names[(names.index(self.mode) + 1) % len(names)]
        self._drop_pending()  # a response, or battle's playing, does not outlive its mode
        self.mode = mode
        if self.log is not None:
            self.log.command("mode", mode)
        self.notify(ModeSet(mode))
        self._begin_turns()

    def _play_model(self, predictor: Predictor, name: str, sampling_line: str) -> None:
        self._drop_pending()  # the old model's playing does not outlive it
        self.predictor = predictor
        if self.log is not None:
            self.log.command("model", name)
        self.notify(ModelChanged(name, sampling_line))
        self._begin_turns()

    def _reset(self) -> None:
        self.predictor.network.reset()
        if self.log is not None:
            self.log.command("reset")
        self.notify(ModelReset())

    def _pause(self, paused: bool | None) -> None:
        paused = not self.paused if paused is None else paused
        if paused != self.paused:
            if paused:
                self._drop_pending()
            self.paused = paused
            if self.log is not None:
                self.log.command("pause", str(int(paused)))
            if not paused:
                self._begin_turns()
        self.notify(PauseSet(paused))

    def _on_user(self, item: _Input) -> None:
        if self.turn is Turn.RESPONSE:
            self._drop_pending()
            self.turn = Turn.CALL
            self.notify(TurnTaken(model_plays=False))
        if not self.switches.user_to_model:
            return
        prediction = self.predictor.predict(item.event)
        if self.switches.model_to_sound:
            self._schedule(prediction)
        else:
            self._pending_response = prediction
            if self.verbose:
                self.notify(EventShown(prediction[0], np.clip(prediction[1:], 0.0, 1.0), by_model=True, silent=True))

    def _respond(self) -> None:
        """The musician has been quiet for the threshold: the model takes over."""
        self.turn = Turn.RESPONSE
        self.notify(TurnTaken(model_plays=True))
        self._schedule(self._pending_response)
        self._pending_response = None

    def _schedule(self, prediction: np.ndarray) -> None:
        if self.paused:  # the model listens on, and plays nothing
            return
        event = as_played(prediction, self.max_wait)
        if prediction[0] > self.max_wait:
            self._capped(float(prediction[0]))
        self.player.schedule(time.monotonic() + event[0] * self.timescale, event, self._generation)

    def _capped(self, dt: float) -> None:
        self.waits_capped += 1
        if self.waits_capped == 1:
            self.notify(WaitCapped(dt, self.max_wait))

    # The player thread.
    def _play(self, event: np.ndarray, generation: int) -> None:
        with self._sounding:
            if generation != self._generation:
                return
            values = event[1:]
            self.send(values)
        self.predictions_sent += 1
        if self.log is not None:
            self.log.write("rnn", values)
        if self.verbose:
            self.notify(EventShown(event[0], values, by_model=True))
        if self.switches.model_to_model:
            self._inbox.put(_Input(event, False, generation))
