"""The performance server: OSC in, the interaction loop, OSC out, the log."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .engine import Predictor
from .interaction import PLAYER_SIZE, Performance
from .logs import PerformanceLog
from .osc import INTERFACE, TEMPERATURE, TIMESCALE, OSCServer, PredictionSender, RateLimitedWarner, parse_values


@dataclass
class ServerConfig:
    dimension: int
    mode: str
    server_ip: str = "localhost"
    server_port: int = 5001
    client_ip: str = "localhost"
    client_port: int = 5000
    logs_dir: Path | None = None  # None: do not log
    call_response_threshold: float = 2.0
    verbose: bool = False


class PerformanceServer:
    def __init__(self, config: ServerConfig, predictor: Predictor | None, report: Callable[[str], None] = print):
        self.config = config
        self.report = report
        self.warner = RateLimitedWarner(emit=report)
        self.log = PerformanceLog.start(config.logs_dir, config.dimension) if config.logs_dir is not None else None
        sender = PredictionSender(config.client_ip, config.client_port, config.dimension - 1)
        self.performance = Performance(config.mode, predictor, sender.send, self.log,
                                       config.call_response_threshold, config.verbose, report)
        handlers = {INTERFACE: self._interface, TEMPERATURE: self._temperature, TIMESCALE: self._timescale}
        try:
            self.osc = OSCServer(config.server_ip, config.server_port, handlers, self.warner)
        except Exception:
            self._close_log()
            raise

    def _interface(self, address: str, *args) -> None:
        values = parse_values(args, self.config.dimension - 1)
        if isinstance(values, str):
            self.osc.reject(f"bad {INTERFACE}", f"{INTERFACE} dropped: {values}")
            return
        self.performance.user_event(values)

    def _temperature(self, address: str, *args) -> None:
        values = parse_values(args, 2)
        predictor = self.performance.predictor
        if isinstance(values, str) or min(values) < 0:
            self.osc.reject(f"bad {TEMPERATURE}", f"{TEMPERATURE} dropped: expected sigma and pi temperatures "
                                                  f"(two floats, not negative), got {args!r}")
            return
        if predictor is not None:
            predictor.sigma_temp, predictor.pi_temp = values
            self.report(f"temperatures: sigma {values[0]:g}, pi {values[1]:g}")

    def _timescale(self, address: str, *args) -> None:
        values = parse_values(args, 1)
        if isinstance(values, str) or values[0] < 0:
            self.osc.reject(f"bad {TIMESCALE}", f"{TIMESCALE} dropped: expected one float, not negative, got {args!r}")
            return
        self.performance.timescale = values[0]
        self.report(f"timescale: {values[0]:g}")

    def start(self) -> None:
        self.performance.start()
        self.osc.start()

    def stop(self) -> None:
        self.osc.stop()
        self.performance.stop()
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
        if p.player.lateness:
            late = np.array(p.player.lateness) * 1000
            parts.append(f"predictions left {np.median(late):.2f} ms (median), {np.percentile(late, 99):.2f} ms "
                         "(99th percentile) after they were due")
        if p.out_of_range_events:
            parts.append(f"{p.out_of_range_events} events with values outside 0-1 (logged as sent, clipped for the "
                         "model)")
        if p.inputs_dropped:
            parts.append(f"{p.inputs_dropped} stale model inputs dropped")
        if p.player.dropped:
            parts.append(f"{p.player.dropped} predictions dropped with {PLAYER_SIZE} already waiting to sound")
        if self.rejects:
            parts.append("rejected: " + ", ".join(f"{n} {kind}" for kind, n in sorted(self.rejects.items())))
        if self.log is not None:
            parts.append(f"{self.log.lines} lines logged to {self.log.path}")
        return "; ".join(parts)
