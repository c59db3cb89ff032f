"""The performance server: OSC (and MIDI, serial) in, the interaction loop, OSC (and MIDI, serial) out, the log."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Callable, Sequence

import numpy as np

from ..core.errors import ModelRefused
from ..core.logs import PerformanceLog
from ..core.notices import Notice, TemperaturesSet, TimescaleSet, words
from ..core.weights import MDRNNWeights
from .config import ServerConfig
from .engine import Predictor
from .interaction import MODE_NAMES, PLAYER_SIZE, Performance
from .midimap import UNTOUCHED
from .model_choice import predictor_for
from .osc import (INTERFACE, MODE, PAUSE, PREDICTION, RESET, TEMPERATURE, TIMESCALE, BadArguments, OSCServer,
                  PredictionSender, RateLimitedWarner, parse_values)

# Hears each event as it happens, on the thread that has it: the address (/interface or
# /prediction), the monotonic time and the values. It must return at once.
COMMANDS = (MODE, RESET, PAUSE, TEMPERATURE, TIMESCALE)

Listener = Callable[[str, float, Sequence[float]], None]


class PerformanceServer:
    """Its threads tell what happens as notices (imps.core.notices); `report` gets each
    one's words, the line the musician reads."""

    def __init__(self, config: ServerConfig, predictor: Predictor | None, report: Callable[[str], None] = print):
        self.config = config
        self.report = report
        self.warner = RateLimitedWarner(notify=self._tell)
        # Every control's latest value: a MIDI message changes one, an OSC /interface all.
        self._controls = np.full(config.dimension - 1, UNTOUCHED)
        self._input_lock = threading.Lock()  # the OSC, MIDI and serial threads take turns with the musician's events
        self.midi = self.serial = self.log = self.sender = None
        # Whoever watches the performance (the web page); empty, the cost is one truth test per event.
        self._listeners: tuple[Listener, ...] = ()
        if config.midi is not None:  # first: a port that is not there leaves no empty log behind
            from .midi import MidiLink
            self.midi = MidiLink(config.midi, self._midi_control, self._tell)
        try:
            if config.serial is not None:
                from .serial_link import SerialLink
                self.serial = SerialLink(config.serial, config.dimension - 1, self._event, self._tell)
            self.log = PerformanceLog.start(config.logs_dir, config.dimension, max_bytes=config.log_max_bytes,
                                            notify=self._tell) if config.logs_dir is not None else None
            self.sender = PredictionSender(config.client_ip, config.client_port, config.dimension - 1)
            self.performance = Performance(config.mode, predictor, self._send, self.log, config.call_response_threshold,
                                           config.max_wait, config.verbose, self._tell,
                                           self.midi.end_notes if self.midi else None)
            self._commands = {TEMPERATURE: self._temperature, TIMESCALE: self._timescale, MODE: self._mode,
                              RESET: self._reset, PAUSE: self._pause}
            self.osc = OSCServer(config.server_ip, config.server_port, {INTERFACE: self._interface, **self._commands},
                                 self.warner)
        except Exception:
            if self.midi is not None:
                self.midi.close()
            if self.serial is not None:
                self.serial.close()
            if self.sender is not None:
                self.sender.close()
            self._close_log()
            raise

    def listen(self, listener: Listener) -> None:
        """From now on, tell `listener` of every /interface and /prediction."""
        self._listeners = (*self._listeners, listener)

    def unlisten(self, listener: Listener) -> None:
        self._listeners = tuple(other for other in self._listeners if other != listener)  # bound methods: equal, not the same

    def _heard(self, address: str, values: Sequence[float]) -> None:
        now = time.monotonic()
        for listener in self._listeners:
            listener(address, now, values)

    def _tell(self, notice: Notice) -> None:
        self.report(words(notice))

    def _interface(self, address: str, *args) -> None:
        try:
            values = parse_values(args, self.config.dimension - 1)
        except BadArguments as bad:
            self.osc.reject(f"bad {INTERFACE}", f"{INTERFACE} dropped: {bad}")
            return
        self._event(values)

    def _event(self, values: Sequence[float]) -> None:
        """The musician's event with every control's value (OSC's /interface, a serial line)."""
        with self._input_lock:
            self._controls[:] = values
            self.performance.user_event(values)
            if self._listeners:
                self._heard(INTERFACE, values)

    def _midi_control(self, index: int, value: float) -> None:
        """One control moved on MIDI: an event carrying every control's latest value."""
        with self._input_lock:
            self._controls[index] = value
            values = self._controls.copy()
            self.performance.user_event(values)
            if self._listeners:
                self._heard(INTERFACE, values)

    def _send(self, values: Sequence[float]) -> None:
        """A prediction to the synth: /prediction, MIDI and serial at the same moment."""
        self.sender.send(values)
        if self._listeners:
            self._heard(PREDICTION, values)
        if self.midi is not None:
            self.midi.send(values)
        if self.serial is not None:
            self.serial.send(values)

    def _non_negative(self, address: str, args: tuple, count: int, expected: str) -> list[float] | None:
        """The arguments as `count` floats not below zero, or None after rejecting them."""
        try:
            values = parse_values(args, count)
            if min(values) >= 0:
                return values
        except BadArguments:
            pass
        self.osc.reject(f"bad {address}", f"{address} dropped: expected {expected}, got {args!r}")
        return None

    # Each command's handler says whether it took the command (the web's POSTs answer so).
    def _temperature(self, address: str, *args) -> bool:
        values = self._non_negative(TEMPERATURE, args, 2, "sigma and pi temperatures (two floats, not negative)")
        predictor = self.performance.predictor
        if values is not None and predictor is not None:
            predictor.sigma_temp, predictor.pi_temp = values
            self._tell(TemperaturesSet(*values))
        return values is not None

    def _timescale(self, address: str, *args) -> bool:
        values = self._non_negative(TIMESCALE, args, 1, "one float, not negative")
        if values is not None:
            self.performance.timescale = values[0]
            self._tell(TimescaleSet(values[0]))
        return values is not None

    # The commands: each hands its change to the model thread (Performance).
    def _mode(self, address: str, *args) -> bool:
        name = args[0].lower() if len(args) == 1 and isinstance(args[0], str) else None
        if name not in MODE_NAMES:
            self.osc.reject(f"bad {MODE}", f"{MODE} dropped: expected one of {', '.join(MODE_NAMES)}, got {args!r}")
            return False
        self.performance.switch_mode(MODE_NAMES[name])
        return True

    def _reset(self, address: str, *args) -> bool:
        if args:
            self.osc.reject(f"bad {RESET}", f"{RESET} dropped: expected no arguments, got {args!r}")
            return False
        self.performance.reset()
        return True

    def _pause(self, address: str, *args) -> bool:
        try:
            value = parse_values(args, 1)[0]
        except BadArguments:
            value = None
        if value not in (0.0, 1.0):
            self.osc.reject(f"bad {PAUSE}", f"{PAUSE} dropped: expected 1 (pause) or 0 (resume), got {args!r}")
            return False
        self.performance.pause(value == 1.0)
        return True

    def play_model(self, weights: MDRNNWeights, name: str) -> str:
        """Play `weights` (called `name`) from now on in place of the model playing, through
        the same network and at the temperatures the musician gave at start, else the ones
        stored with them: the line that says which. ModelRefused if it cannot be played here."""
        playing = self.performance.predictor
        if playing is None:
            raise ModelRefused("this performance plays no model (--only): start IMPS in another mode to play one")
        if weights.dimension != self.config.dimension:
            raise ModelRefused(f"{name} is a {weights.dimension}-d model and this performance plays "
                               f"{self.config.dimension}-d events: start IMPS with --dimension={weights.dimension} "
                               "to play it")
        predictor, sampling_line = predictor_for(weights, self.config, type(playing.network))
        self.performance.play(predictor, name, sampling_line)
        return sampling_line

    def command(self, address: str, args: tuple) -> bool:
        """A command from elsewhere than OSC (the web page), checked and counted as over
        OSC: whether it was taken. `address` is one of COMMANDS."""
        return self._commands[address](address, *args)

    def start(self) -> None:
        self.performance.start()
        self.osc.start()
        if self.midi is not None:
            self.midi.start()
        if self.serial is not None:
            self.serial.start()

    def stop(self) -> None:
        if self.midi is not None:
            self.midi.stop_input()
        if self.serial is not None:
            self.serial.stop_input()
        self.osc.stop()
        self.performance.stop()
        if self.midi is not None:
            self.midi.close()
        if self.serial is not None:
            self.serial.close()
        self.sender.close()
        self._close_log()

    def _close_log(self) -> None:
        if self.log is not None:
            self.log.close()

    @property
    def rejects(self) -> Counter:
        return self.osc.rejects

    def summary(self) -> str:
        p = self.performance
        parts = [f"{p.user_events} events from the musician", f"{p.predictions_sent} predictions sent"]
        late = p.player.lateness
        if late.count:
            parts.append(f"predictions left {late.percentile(50) * 1000:.2f} ms (median), "
                         f"{late.percentile(99) * 1000:.2f} ms (99th percentile) after they were due")
        if p.waits_capped:
            parts.append(f"{p.waits_capped} predicted waits capped at {p.max_wait:g} s")
        if p.out_of_range_events:
            parts.append(f"{p.out_of_range_events} events with values outside 0-1 (logged as sent, clipped for the "
                         "model)")
        if p.inputs_dropped:
            parts.append(f"{p.inputs_dropped} stale model inputs dropped")
        if p.player.dropped:
            parts.append(f"{p.player.dropped} predictions dropped with {PLAYER_SIZE} already waiting to sound")
        if self.midi is not None:
            parts.extend(self.midi.summary_parts())
        if self.serial is not None:
            parts.extend(self.serial.summary_parts())
        if self.rejects:
            parts.append("rejected: " + ", ".join(f"{n} {kind}" for kind, n in sorted(self.rejects.items())))
        if self.log is not None:
            parts.append(self.log.summary())
        return "; ".join(parts)
