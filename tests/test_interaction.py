"""imps.perform.interaction: the player and the four modes, with a quick fake model (and one
real untrained model). Times are time.monotonic(), as the package uses."""

from __future__ import annotations

import threading
import time
from typing import Callable

import numpy as np
import pytest

from conftest import Recorder
from imps.core.logs import PerformanceLog, read_log
from imps.core.model import DEFAULT_SAMPLING, SIZES
from imps.core.notices import Notice, words
from imps.core.weights import MDRNNWeights
from imps.perform.config import ServerConfig
from imps.perform.engine import NumpyMDRNN, Predictor
from imps.perform.interaction import (BATTLE, CALL_RESPONSE, INBOX_SIZE, MIN_DT, MIN_SEND_INTERVAL, MODES,
                                      POLYPHONY, USER_ONLY, Performance, Player, Turn)

WAIT = 5.0  # seconds: only ever a limit on waiting for something that should happen
# Monotonic seconds a few hours after boot are about 1e4 to 1e5, where a float64 rounds
# to a few 1e-12 s: a gap of exactly the interval can read that much shorter.
ROUNDING = 1e-9


class Sent(Recorder):
    """The `send` callback: records (monotonic time, values) for each prediction sent."""

    def __call__(self, values) -> None:
        self.add((time.monotonic(), tuple(float(v) for v in values)))

    def values(self) -> list[tuple]:
        return [values for _, values in self.items]


class FakeNetwork:
    """Stands in for the predictor's network: records the thread each reset() ran on."""

    def __init__(self):
        self.resets = Recorder()

    def reset(self) -> None:
        self.resets.add(threading.current_thread().name)


class FakePredictor:
    """Stands in for Predictor: the next event is [dt, respond(event) or fixed values]."""

    def __init__(self, dimension: int = 3, dt: float = 0.01, values=None, respond=None):
        self.network = FakeNetwork()
        self.dimension = dimension
        self.pi_temp = 1.0
        self.sigma_temp = 0.01
        self.dt = dt
        self.values = np.full(dimension - 1, 0.5) if values is None else np.asarray(values, np.float64)
        self.respond = respond
        self.inputs = Recorder()

    def predict(self, event: np.ndarray) -> np.ndarray:
        event = np.array(event, np.float64)
        assert event.shape == (self.dimension,)
        self.inputs.add(event)
        values = self.values if self.respond is None else self.respond(event)
        return np.concatenate([[self.dt], values])


class BlockingPredictor(FakePredictor):
    """A slow model: its first prediction waits until the test releases it (in a
    `finally`, so that it never waits for ever). While it waits the model thread can do
    nothing else: however late the test's own thread runs on a loaded machine, the model
    cannot, for one, answer a call it has not finished hearing."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.entered = threading.Event()
        self.release = threading.Event()

    def predict(self, event):
        if not self.entered.is_set():
            self.entered.set()
            self.release.wait()
        return super().predict(event)


def in_words(recorder: Recorder) -> Callable[[Notice], None]:
    """A Performance's notify that records each notice as the line the musician reads."""
    return lambda notice: recorder.add(words(notice))


@pytest.fixture
def performances():
    """Makes Performances and stops every one of them after the test."""
    made = []

    def make(mode, predictor, send, **kwargs) -> Performance:
        kwargs.setdefault("log", None)
        kwargs.setdefault("call_response_threshold", ServerConfig.call_response_threshold)
        kwargs.setdefault("max_wait", ServerConfig.max_wait)
        performance = Performance(mode, predictor, send, **kwargs)
        made.append(performance)
        return performance

    yield make
    for performance in made:
        performance.stop()


@pytest.fixture
def log(tmp_path):
    performance_log = PerformanceLog.start(tmp_path / "logs", 3)
    yield performance_log
    performance_log.close()


def logged(performance_log: PerformanceLog):
    performance_log.close()
    contents = read_log(performance_log.path, 2)
    assert not contents.skipped
    return contents.events


def in_unit_range(values) -> bool:
    return all(0.0 <= v <= 1.0 for v in values)


# Player


def test_player_plays_in_due_order_and_never_early():
    played = Recorder()
    player = Player(lambda event, generation: played.add((time.monotonic(), event[0], generation)))
    now = time.monotonic()
    dues = {3.0: now + 0.15, 1.0: now + 0.05, 2.0: now + 0.10}
    # All scheduled before the player starts, so that however late this thread runs, none
    # can be due and played before an earlier one is scheduled.
    for name, due in dues.items():
        player.schedule(due, np.array([name]), 7)
    player.start()
    try:
        items = played.wait_for(3)
        assert [name for _, name, _ in items] == [1.0, 2.0, 3.0]
        for when, name, generation in items:
            assert when >= dues[name]
            assert generation == 7
    finally:
        player.stop()


def test_a_sleeping_player_wakes_for_an_earlier_prediction():
    played = Recorder()
    player = Player(lambda event, generation: played.add(event[0]))
    player.start()
    try:
        player.schedule(time.monotonic() + 3600.0, np.array([2.0]), 0)  # the player sleeps until an hour from now
        player.schedule(time.monotonic(), np.array([1.0]), 0)
        assert played.wait_for(1) == [1.0]  # at once, not in an hour
    finally:
        player.stop()
    assert played.items == [1.0]


def test_player_clear_drops_what_is_pending():
    played = Recorder()
    player = Player(lambda event, generation: played.add(event[0]))
    now = time.monotonic()
    # Two predictions already due, cleared before the player can start on them.
    player.schedule(now - 0.2, np.array([1.0]), 0)
    player.schedule(now - 0.1, np.array([2.0]), 0)
    player.clear()
    player.schedule(now, np.array([3.0]), 0)  # due after both cleared ones: had they stayed, they would come first
    player.start()
    try:
        assert played.wait_for(1) == [3.0]
    finally:
        player.stop()
    assert played.items == [3.0]


def test_player_stop_wakes_it_however_far_off_the_next_item_is():
    played = Recorder()
    player = Player(lambda event, generation: played.add(event[0]))
    player.start()
    player.schedule(time.monotonic() + 3600.0, np.array([1.0]), 0)
    player.stop()
    assert not player._thread.is_alive()
    assert played.items == []


def test_player_stop_when_idle():
    player = Player(lambda event, generation: None)
    player.start()
    player.stop()
    assert not player._thread.is_alive()


def test_a_full_player_drops_the_earliest_due():
    played = Recorder()
    player = Player(lambda event, generation: played.add(event[0]), capacity=2)
    now = time.monotonic()
    player.schedule(now + 0.15, np.array([1.0]), 0)
    player.schedule(now + 0.05, np.array([2.0]), 0)
    player.schedule(now + 0.10, np.array([3.0]), 0)
    assert player.dropped == 1
    player.start()
    try:
        # 2.0 was due first: had it been kept, it would have played first.
        assert played.wait_for(2) == [3.0, 1.0]
    finally:
        player.stop()


def sends_with_their_due_times(player_kwargs=None):
    """A Player whose play callback records the due time it sent each event at."""
    dues = Recorder()
    player = None

    def play(event, generation):
        dues.add((event[0], player.last_due))

    player = Player(play, **(player_kwargs or {}))
    return player, dues


def test_the_player_never_sends_two_predictions_closer_than_the_minimum_interval():
    player, dues = sends_with_their_due_times()
    now = time.monotonic()
    # Forty predictions all due at once, as /timescale 0 makes them.
    for n in range(40):
        player.schedule(now, np.array([float(n)]), 0)
    player.start()
    try:
        items = dues.wait_for(40)
    finally:
        player.stop()
    assert [name for name, _ in items] == [float(n) for n in range(40)]
    assert items[0][1] == now  # the first was not held back
    gaps = np.diff([due for _, due in items])
    assert gaps.min() >= MIN_SEND_INTERVAL - ROUNDING
    np.testing.assert_allclose(gaps, MIN_SEND_INTERVAL)  # moved no further than the interval needs


def test_a_single_answer_is_never_delayed_by_the_interval():
    player, dues = sends_with_their_due_times()
    player.start()
    try:
        first = time.monotonic() + 0.01
        player.schedule(first, np.array([1.0]), 0)
        dues.wait_for(1)
        time.sleep(2 * MIN_SEND_INTERVAL)
        later = time.monotonic() + 0.0005  # due sooner than the interval from now, but not from the last send
        player.schedule(later, np.array([2.0]), 0)
        items = dues.wait_for(2)
    finally:
        player.stop()
    assert items == [(1.0, first), (2.0, later)]


def test_battle_at_timescale_zero_is_thinned_to_the_minimum_interval(performances):
    dues = []
    performance = performances(BATTLE, FakePredictor(dt=0.0), lambda values: dues.append(performance.player.last_due))
    performance.timescale = 0.0
    performance.start()
    deadline = time.monotonic() + WAIT
    while len(dues) < 50 and time.monotonic() < deadline:
        time.sleep(0.01)
    performance.stop()
    assert len(dues) >= 50
    assert np.diff(dues).min() >= MIN_SEND_INTERVAL - ROUNDING


# Performance: construction


def test_unknown_mode_is_a_value_error():
    with pytest.raises(ValueError, match="unknown mode"):
        Performance("duet", FakePredictor(), Sent(), None, 2.0, 10.0)


@pytest.mark.parametrize("mode", [POLYPHONY, BATTLE, CALL_RESPONSE])
def test_modes_with_a_model_need_one(mode):
    with pytest.raises(ValueError, match="needs a model"):
        Performance(mode, None, Sent(), None, 2.0, 10.0)


# User only


def test_user_only_logs_the_musician_and_never_predicts(performances, log):
    predictor = FakePredictor()
    sent = Sent()
    performance = performances(USER_ONLY, predictor, sent, log=log)
    performance.start()
    performance.user_event([0.25, 0.5])
    performance.user_event([-1.0, 2.0])  # logged as it came
    performance.user_event([1, 0])
    assert performance.user_events == 3
    # The model waits, for a /mode that lets it play, and hears none of this.
    performance.stop()
    assert predictor.inputs.items == []
    assert sent.items == []
    assert performance.predictions_sent == 0
    events = logged(log)
    assert [e.source for e in events] == ["interface"] * 3
    assert [e.values for e in events] == [[0.25, 0.5], [-1.0, 2.0], [1.0, 0.0]]
    assert performance.out_of_range_events == 1


def test_user_only_needs_no_model(performances):
    performance = performances(USER_ONLY, None, Sent())
    performance.start()
    performance.user_event([0.5, 0.5])
    assert performance.user_events == 1


# Polyphony


def test_polyphony_answers_each_user_event_once_with_clipped_values(performances, log):
    predictor = FakePredictor(values=[-0.5, 1.7])
    sent = Sent()
    performance = performances(POLYPHONY, predictor, sent, log=log)
    performance.start()
    user_values = [[0.1, 0.2], [0.3, 1.4], [0.5, 0.6]]
    for values in user_values:
        performance.user_event(values)
    items = sent.wait_for(3)
    assert [values for _, values in items] == [(0.0, 1.0)] * 3
    # The model is not fed its own output in polyphony: no more predictions come.
    assert len(sent.wait_for(4, timeout=0.1)) == 3
    inputs = predictor.inputs.items
    assert len(inputs) == 3
    assert inputs[0][0] == 0.0  # the first event has no previous one
    assert all(event[0] >= 0.0 for event in inputs)
    assert [list(event[1:]) for event in inputs] == [[0.1, 0.2], [0.3, 1.0], [0.5, 0.6]]
    performance.stop()  # the player has finished with the last prediction
    assert performance.user_events == 3
    assert performance.predictions_sent == 3
    events = logged(log)
    assert sorted(e.source for e in events) == ["interface"] * 3 + ["rnn"] * 3
    assert [e.values for e in events if e.source == "rnn"] == [[0.0, 1.0]] * 3
    # The log keeps what the musician sent; only the model had it clipped.
    np.testing.assert_allclose([e.values for e in events if e.source == "interface"], user_values, rtol=1e-6)


def test_out_of_range_values_are_said_once_and_counted(performances, log):
    reports = Recorder()
    predictor = FakePredictor(dimension=4)
    performance = performances(POLYPHONY, predictor, Sent(), notify=in_words(reports))
    performance.start()
    performance.user_event([0.5, 64.0, 127.0])
    performance.user_event([0.5, 0.5, 0.5])
    performance.user_event([-0.25, 0.5, 3.0])
    inputs = predictor.inputs.wait_for(3)
    assert [list(event[1:]) for event in inputs] == [[0.5, 1.0, 1.0], [0.5, 0.5, 0.5], [0.0, 0.5, 1.0]]
    assert performance.out_of_range_events == 2
    warnings = [line for line in reports.items if line.startswith("warning:")]
    assert len(warnings) == 1
    assert warnings[0].startswith("warning: /interface value 64 for control 2 of 3 is outside 0-1.")
    assert "The log keeps what you sent" in warnings[0] and "divided by 127" in warnings[0]


def test_polyphony_with_an_untrained_model(performances):
    predictor = Predictor(NumpyMDRNN(MDRNNWeights.random(3, SIZES["xxs"])), DEFAULT_SAMPLING.pi_temp,
                          DEFAULT_SAMPLING.sigma_temp, seed=1)
    sent = Sent()
    performance = performances(POLYPHONY, predictor, sent)
    performance.start()
    rng = np.random.default_rng(0)
    for _ in range(5):
        performance.user_event(rng.random(2))
    items = sent.wait_for(5)
    assert len(items) == 5
    for _, values in items:
        assert len(values) == 2
        assert in_unit_range(values)


def test_a_prediction_is_not_sent_before_its_dt(performances):
    sent = Sent()
    performance = performances(POLYPHONY, FakePredictor(dt=0.2), sent)
    performance.start()
    before = time.monotonic()
    performance.user_event([0.5, 0.5])
    [(when, _)] = sent.wait_for(1)
    assert when >= before + 0.2


@pytest.mark.parametrize("timescale", [3.0, 0.5])
def test_timescale_multiplies_the_wait(performances, timescale):
    sent = Sent()
    performance = performances(POLYPHONY, FakePredictor(dt=0.1), sent)
    performance.timescale = timescale
    performance.start()
    before = time.monotonic()
    performance.user_event([0.5, 0.5])
    [(when, _)] = sent.wait_for(1)
    assert when >= before + 0.1 * timescale


def test_verbose_shows_the_silent_predictions_of_the_call_too(performances):
    reports = Recorder()
    predictor = BlockingPredictor(values=[0.25, 0.75])
    performance = performances(CALL_RESPONSE, predictor, Sent(), verbose=True, call_response_threshold=0.2,
                               notify=in_words(reports))
    performance.start()
    try:
        performance.user_event([0.5, 1.0])
        assert predictor.entered.wait(WAIT)  # held there until the call is over: it cannot answer before
        performance.user_event([0.125, 0.5])
    finally:
        predictor.release.set()
    lines = reports.wait_until(lambda lines: any(line.startswith("model: ") for line in lines))
    # The musician's two events and the model's two silent answers (in whatever order the
    # two threads printed them), then the response.
    call = lines[:next(n for n, line in enumerate(lines) if line.startswith("model: "))]
    users = [line for line in call if line.startswith("user: ")]
    assert len(users) == 2 and users[0] == "user: dt 0.000 0.500 1.000" and users[1].endswith(" 0.125 0.500")
    assert [line for line in call if line.startswith("model (silent)")] == ["model (silent): dt 0.010 0.250 0.750"] * 2
    assert "model: dt 0.010 0.250 0.750" in lines


def test_verbose_reports_both_players(performances):
    reports = Recorder()
    performance = performances(POLYPHONY, FakePredictor(values=[0.25, 0.75]), Sent(), verbose=True,
                               notify=in_words(reports))
    performance.start()
    performance.user_event([0.5, 1.0])
    lines = reports.wait_for(2)
    assert lines[0].startswith("user: dt 0.000 ") and lines[0].endswith("0.500 1.000")
    assert lines[1].startswith("model: dt 0.010 ") and lines[1].endswith("0.250 0.750")


# Battle


def test_battle_plays_by_itself_from_its_own_output(performances):
    predictor = FakePredictor(respond=lambda event: (event[1:] + 0.125) % 1.0)
    sent = Sent()
    performance = performances(BATTLE, predictor, sent)
    performance.start()
    items = sent.wait_for(6)
    assert len(items) >= 6
    assert performance.user_events == 0
    values = [v for _, v in items]
    for earlier, later in zip(values, values[1:]):
        assert later == pytest.approx(tuple((np.array(earlier) + 0.125) % 1.0))
    inputs = predictor.inputs.items
    first = inputs[0]
    assert first[0] == pytest.approx(0.1) and in_unit_range(first[1:])  # a random start
    for played, next_input in zip(values, inputs[1:]):
        assert next_input[0] == pytest.approx(0.01)  # the dt it was played with
        assert tuple(next_input[1:]) == pytest.approx(played)
    performance.stop()
    assert not performance._model_thread.is_alive()
    assert not performance.player._thread.is_alive()
    count = len(sent.items)
    assert len(sent.wait_for(count + 1, timeout=0.1)) == count  # silent once stopped


def test_battle_keeps_each_gap_at_least_dt_times_timescale(performances):
    sent = Sent()
    performance = performances(BATTLE, FakePredictor(dt=0.02), sent)
    performance.timescale = 3.0
    performance.start()
    times = [when for when, _ in sent.wait_for(4)]
    for earlier, later in zip(times, times[1:]):
        assert later - earlier >= 0.06


def test_a_negative_dt_still_waits_the_minimum(performances):
    predictor = FakePredictor(dt=-1.0)
    sent = Sent()
    performance = performances(BATTLE, predictor, sent)
    performance.start()
    sent.wait_for(3)
    inputs = predictor.inputs.wait_for(3)
    assert [event[0] for event in inputs[1:3]] == [MIN_DT, MIN_DT]


def test_a_wait_longer_than_the_cap_is_cut_to_it_said_once_and_counted(performances):
    predictor = FakePredictor(dt=3600.0)  # an hour's silence, were it played as predicted
    sent, reports = Sent(), Recorder(whole_call=False)
    performance = performances(BATTLE, predictor, sent, max_wait=0.02, notify=in_words(reports))
    performance.start()
    assert len(sent.wait_for(4)) >= 4  # it keeps playing
    inputs = predictor.inputs.wait_for(4)
    assert [event[0] for event in inputs[1:4]] == [0.02] * 3  # the model hears the wait that was played
    performance.stop()
    assert performance.waits_capped >= 4
    assert reports.items == ["warning: the model predicted a wait of 3600.0 s before its next event; it waits 0.02 s "
                             "instead, the longest wait allowed, and goes on from there (so it never falls silent "
                             "for long). Said once; the summary at the end counts capped waits"]


def test_a_wait_within_the_cap_is_played_as_predicted(performances):
    predictor = FakePredictor(dt=0.02)
    reports = Recorder(whole_call=False)
    performance = performances(BATTLE, predictor, Sent(), max_wait=0.02, notify=in_words(reports))
    performance.start()
    inputs = predictor.inputs.wait_for(3)
    performance.stop()
    assert [event[0] for event in inputs[1:3]] == [0.02, 0.02]
    assert performance.waits_capped == 0 and reports.items == []


# Call and response


def test_call_and_response(performances):
    threshold = 0.4
    predictor = BlockingPredictor(respond=lambda event: 1.0 - event[1:])
    sent = Sent()
    reports = Recorder()
    performance = performances(CALL_RESPONSE, predictor, sent, call_response_threshold=threshold,
                               notify=in_words(reports))
    performance.start()

    # The call: the musician plays for longer than the threshold. The model is held on
    # the first event until the call is over, so that no pause of this thread (on a loaded
    # machine, longer than it asked for) can look to the model like the end of the call.
    call = [[0.1 * n, 0.2] for n in range(8)]
    try:
        first_call = time.monotonic()
        performance.user_event(call[0])
        assert predictor.entered.wait(WAIT)
        for values in call[1:]:
            time.sleep(threshold / 4)
            last_call = time.monotonic()
            performance.user_event(values)
    finally:
        predictor.release.set()
    assert last_call - first_call > threshold
    predictor.inputs.wait_for(len(call))  # the model follows the call silently

    # The response: once the musician is quiet, the model plays from its answer to their
    # last event and goes on from its own output.
    items = sent.wait_for(4)
    assert len(items) >= 4
    assert all(when >= last_call + threshold for when, _ in items)
    np.testing.assert_allclose([v for _, v in items[:4]], [(0.3, 0.8), (0.7, 0.2), (0.3, 0.8), (0.7, 0.2)])
    assert "call and response: the model plays (response)" in reports.items

    # The musician plays again: what the model had still to play is dropped and it is quiet
    # until the musician has been quiet for the threshold again.
    new_call = time.monotonic()
    performance.user_event([0.9, 0.75])
    predictor.inputs.wait_until(lambda inputs: any(tuple(e[1:]) == (0.9, 0.75) for e in inputs))
    seen = time.monotonic()
    answer = pytest.approx((0.1, 0.25))
    items = sent.wait_until(lambda items: any(values == answer for _, values in items))
    resumed = next(when for when, values in items if values == answer)
    assert resumed >= new_call + threshold
    # Silence from the moment the model heard the musician (a prediction already on its way
    # out could only leave before that) until the new response.
    assert not [when for when, _ in items if seen < when < resumed]
    assert reports.items.count("call and response: the musician plays (call)") == 1
    # and the new response goes on from its own output again
    items = sent.wait_until(lambda items: any(when > resumed for when, _ in items))
    assert [values for when, values in items if when > resumed][0] == pytest.approx((0.9, 0.75))


def test_call_and_response_is_silent_while_the_musician_plays(performances):
    predictor = BlockingPredictor()  # held on the first event until the musician has played all three
    sent = Sent()
    performance = performances(CALL_RESPONSE, predictor, sent, call_response_threshold=0.2)
    performance.start()
    try:
        performance.user_event([0.5, 0.5])
        assert predictor.entered.wait(WAIT)
        for _ in range(2):
            performance.user_event([0.5, 0.5])
    finally:
        predictor.release.set()
    assert len(predictor.inputs.wait_for(3)) == 3
    # Predictions were made, but nothing plays while the threshold has not passed since the last event.
    first = sent.wait_for(1)
    last_event = performance._last_user_time
    assert first[0][0] >= last_event + 0.2


# The bounded inbox


def test_a_slow_model_drops_stale_input_rather_than_blocking_the_musician(performances, log):
    predictor = BlockingPredictor(dt=0.001)
    sent = Sent()
    performance = performances(POLYPHONY, predictor, sent, log=log)
    performance.start()
    try:
        performance.user_event([0.0, 0.0])
        assert predictor.entered.wait(WAIT)  # the model is now busy with that event
        flood = 100

        def play():
            for n in range(1, flood + 1):
                performance.user_event([n / 1000, 0.5])

        musician = threading.Thread(target=play)
        musician.start()
        musician.join(WAIT)
        assert not musician.is_alive(), "user_event blocked on a busy model"
        assert performance.inputs_dropped == flood - INBOX_SIZE
        assert performance.user_events == flood + 1
    finally:
        predictor.release.set()
    inputs = predictor.inputs.wait_for(1 + INBOX_SIZE)
    # The stalest went; the model goes on from the newest.
    kept = [round(event[1] * 1000) for event in inputs[1:]]
    assert kept == list(range(flood - INBOX_SIZE + 1, flood + 1))
    assert len(sent.wait_for(1 + INBOX_SIZE)) == 1 + INBOX_SIZE
    performance.stop()
    # Nothing the musician played is missing from the log.
    events = logged(log)
    assert sum(e.source == "interface" for e in events) == flood + 1


# Commands while playing: /mode, /reset, /pause


def timed_words(recorder: Recorder) -> Callable[[Notice], None]:
    """A notify that records (monotonic time, line) for each notice."""
    return lambda notice: recorder.add((time.monotonic(), words(notice)))


def said(recorder: Recorder, line: str) -> float:
    """When `line` was said (waiting for it)."""
    items = recorder.wait_until(lambda items: any(words == line for _, words in items))
    return next(when for when, words in items if words == line)


def start_responding(performances, sent, silenced, reports) -> Performance:
    """Call and response in the middle of its response."""
    performance = performances(CALL_RESPONSE, FakePredictor(), sent, call_response_threshold=0.05,
                               notify=timed_words(reports), silence=lambda: silenced.add(time.monotonic()))
    performance.start()
    performance.user_event([0.5, 0.5])
    assert len(sent.wait_for(3)) >= 3
    return performance


def start_battle(performances, sent, silenced, reports) -> Performance:
    performance = performances(BATTLE, FakePredictor(), sent, notify=timed_words(reports),
                               silence=lambda: silenced.add(time.monotonic()))
    performance.start()
    assert len(sent.wait_for(3)) >= 3
    return performance


@pytest.mark.parametrize("start", [start_responding, start_battle])
@pytest.mark.parametrize("mode", [CALL_RESPONSE, POLYPHONY, USER_ONLY])
def test_switching_mode_drops_what_the_model_was_playing(performances, start, mode):
    sent, silenced, reports = Sent(), Recorder(), Recorder()
    performance = start(performances, sent, silenced, reports)
    performance.switch_mode(mode)
    switched = said(reports, f"mode: {mode}")
    assert silenced.wait_for(1)  # the synth's sounding notes ended with what was pending
    # The model thread dropped what was pending before it said the switch: nothing sounds
    # after it until the musician plays.
    assert len(sent.wait_for(len(sent.items) + 1, timeout=0.2)) == len([w for w, _ in sent.items if w < switched])
    assert performance.mode == mode
    assert performance.turn is (Turn.CALL if mode == CALL_RESPONSE else None)


def test_switching_to_battle_starts_the_model_playing_by_itself(performances, log):
    sent, reports = Sent(), Recorder()
    performance = performances(POLYPHONY, FakePredictor(), sent, log=log, notify=in_words(reports))
    performance.start()
    performance.switch_mode(BATTLE)
    assert len(sent.wait_for(3)) >= 3
    assert reports.items == ["mode: battle"]
    performance.stop()
    log.close()
    assert f",command,mode,{BATTLE}\n" in log.path.read_text()
    assert logged(log)[0].source == "rnn"  # the command's line is no event and no bad line


def test_a_switch_to_polyphony_answers_the_musician_from_then_on(performances):
    sent, reports = Sent(), Recorder()
    performance = performances(USER_ONLY, FakePredictor(), sent, notify=in_words(reports))
    performance.start()
    performance.user_event([0.5, 0.5])
    performance.switch_mode(POLYPHONY)
    reports.wait_for(1)
    performance.user_event([0.5, 0.5])
    assert len(sent.wait_for(1)) == 1
    assert len(sent.wait_for(2, timeout=0.2)) == 1  # the event before the switch is not answered


def test_the_next_mode_cycles_through_all_four(performances):
    reports = Recorder()
    performance = performances(POLYPHONY, FakePredictor(), Sent(), notify=in_words(reports))
    performance.start()
    for _ in MODES:
        performance.switch_mode(None)
    order = list(MODES)
    expected = [order[(order.index(POLYPHONY) + n) % len(order)] for n in range(1, len(order) + 1)]
    assert [line for line in reports.wait_for(4) if line.startswith("mode:")] == [f"mode: {m}" for m in expected]
    assert performance.mode == POLYPHONY


def test_reset_clears_the_network_on_the_model_thread_and_is_logged(performances, log):
    predictor, reports = FakePredictor(), Recorder()
    performance = performances(POLYPHONY, predictor, Sent(), log=log, notify=in_words(reports))
    performance.start()
    performance.reset()
    assert predictor.network.resets.wait_for(1) == ["model"]
    assert reports.wait_for(1) == ["model reset: it plays on from a fresh start, as at the beginning of a piece"]
    performance.stop()
    log.close()
    assert log.path.read_text().endswith(",command,reset\n")


@pytest.mark.parametrize("start", [start_responding, start_battle])
def test_another_model_plays_from_then_on_and_the_old_ones_playing_is_dropped(performances, start):
    sent, silenced, reports = Sent(), Recorder(), Recorder()
    performance = start(performances, sent, silenced, reports)
    newer = FakePredictor(values=[0.25, 0.75])
    performance.play(newer, "models/newer.weights.h5", "sampling: as stored")
    switched = said(reports, "now playing models/newer.weights.h5, from a fresh start; sampling: as stored")
    assert silenced.wait_for(1)  # what the old model still had to sound ended with it
    assert performance.predictor is newer
    if performance.mode == BATTLE:  # battle starts over with the new model playing by itself
        assert len(newer.inputs.wait_for(1)) == 1
        assert all(list(values) == [0.25, 0.75] for when, values in sent.items if when > switched)
    performance.user_event([0.5, 0.5])
    assert len(newer.inputs.wait_for(1)) >= 1  # the musician is heard by the new model


def test_playing_another_model_is_logged_as_a_command(performances, log):
    performance = performances(POLYPHONY, FakePredictor(), Sent(), log=log, notify=in_words(Recorder()))
    performance.start()
    performance.play(FakePredictor(), "models/other.weights.h5", "sampling: as stored")
    performance.user_event([0.5, 0.5])
    performance.stop()
    log.close()
    assert ",command,model,models/other.weights.h5\n" in log.path.read_text()


def test_reset_zeroes_a_real_networks_memory(performances):
    network = NumpyMDRNN(MDRNNWeights.random(3, SIZES["xxs"]))
    reports = Recorder()
    performance = performances(POLYPHONY, Predictor(network, 1.0, 0.01, seed=0), Sent(), notify=in_words(reports))
    performance.start()
    performance.user_event([0.9, 0.1])
    performance.reset()
    reports.wait_for(1)
    assert not any(h.any() or c.any() for h, c in zip(network._h, network._c))


def test_pause_sends_nothing_while_the_model_listens_and_the_musician_is_logged(performances, log):
    predictor, sent, reports = FakePredictor(), Sent(), Recorder()
    performance = performances(POLYPHONY, predictor, sent, log=log, notify=in_words(reports))
    performance.start()
    performance.pause(True)
    reports.wait_for(1)
    for n in range(3):
        performance.user_event([n / 4, 0.5])
    assert len(predictor.inputs.wait_for(3)) == 3  # it keeps listening
    assert sent.wait_for(1, timeout=0.2) == []
    performance.pause(None)  # the key toggles
    reports.wait_for(2)
    performance.user_event([0.75, 0.5])
    assert len(sent.wait_for(1)) == 1
    assert reports.items == ["paused: the model sends nothing until resumed; your playing is still logged",
                             "resumed: the model plays again"]
    performance.stop()
    events = logged(log)
    assert [e.source for e in events] == ["interface"] * 4 + ["rnn"]
    assert ",command,pause,1\n" in log.path.read_text() and ",command,pause,0\n" in log.path.read_text()


def test_pause_stops_battle_at_once_and_resuming_starts_it_again(performances):
    sent, silenced, reports = Sent(), Recorder(), Recorder()
    performance = start_battle(performances, sent, silenced, reports)
    performance.pause(True)
    paused = said(reports, "paused: the model sends nothing until resumed; your playing is still logged")
    count = len([w for w, _ in sent.items if w < paused])
    assert len(sent.wait_for(count + 1, timeout=0.2)) == count
    performance.pause(True)  # already paused: said again, and nothing changes
    performance.pause(False)
    resumed = said(reports, "resumed: the model plays again")
    assert len(sent.wait_until(lambda items: sum(w > resumed for w, _ in items) >= 3)) >= count + 3
    performance.pause(False)  # already playing: a second battle does not begin beside the first
    said(reports, "resumed: the model plays again")
    performance.stop()
    # Battle began twice, at the start and on resuming, each from a random event with dt 0.1.
    assert [event[0] for event in performance.predictor.inputs.items].count(0.1) == 2


def test_pause_holds_back_the_response(performances):
    sent, reports = Sent(), Recorder()
    performance = performances(CALL_RESPONSE, FakePredictor(), sent, call_response_threshold=0.05,
                               notify=in_words(reports))
    performance.start()
    performance.pause(True)
    reports.wait_for(1)
    performance.user_event([0.5, 0.5])
    assert sent.wait_for(1, timeout=0.3) == []
    assert "call and response: the model plays (response)" not in reports.items


def test_commands_are_never_lost_behind_a_full_inbox(performances):
    predictor = BlockingPredictor()
    performance = performances(POLYPHONY, predictor, Sent(), notify=in_words(Recorder()))
    performance.start()
    try:
        performance.user_event([0.0, 0.0])
        assert predictor.entered.wait(WAIT)
        performance.reset()
        for n in range(2 * INBOX_SIZE):  # the stalest events make room, never the reset before them
            performance.user_event([0.5, 0.5])
        assert performance.inputs_dropped == INBOX_SIZE
    finally:
        predictor.release.set()
    assert predictor.network.resets.wait_for(1) == ["model"]


def test_user_only_without_a_model_says_once_that_commands_have_nothing_to_act_on(performances):
    reports = Recorder()
    performance = performances(USER_ONLY, None, Sent(), notify=in_words(reports))
    performance.start()
    performance.switch_mode(BATTLE)
    performance.reset()
    performance.pause(True)
    assert reports.items == ["warning: /mode: user only has no model to switch, reset or pause; start IMPS in "
                             "another mode to use /mode, /reset and /pause. Said once"]
    assert performance.mode == USER_ONLY
