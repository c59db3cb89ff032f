"""Driving the three scripts as a musician does: as processes, from a project folder."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from conftest import ROOT, script_env


def run_script(name: str, *args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / name), *args], cwd=cwd, env=script_env(),
                          capture_output=True, text=True, timeout=timeout)


class Server:
    """predictive_music_model.py running in the background, its output collected."""

    def __init__(self, *args: str, cwd: Path):
        self.process = subprocess.Popen([sys.executable, str(ROOT / "predictive_music_model.py"), *args], cwd=cwd,
                                        env=script_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_output(self, text: str, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while text not in self.output:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.process.poll() is not None and not self._more_coming():
                    return text in self.output
                self._changed.wait(min(remaining, 0.5))
            return True

    def _more_coming(self) -> bool:
        return not self.process.stdout.closed and self.process.poll() is None

    def stop(self, sig=signal.SIGINT, timeout: float = 10) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()


def oscsend(port: int, address: str, types: str, *values) -> None:
    """liblo's oscsend: a third-party OSC client."""
    subprocess.run(["oscsend", "127.0.0.1", str(port), address, types, *map(str, values)], check=True, timeout=10)


class OSCDump:
    """liblo's oscdump on a port, line by line."""

    def __init__(self, port: int):
        self.process = subprocess.Popen(["oscdump", "-L", str(port)], stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.strip())
                self._changed.notify_all()

    def messages(self, address: str) -> list[list[str]]:
        """Each message to `address` as [address, types, value, ...]."""
        return [line.split()[1:] for line in list(self.lines) if len(line.split()) > 1 and line.split()[1] == address]

    def wait_for(self, address: str, count: int, timeout: float = 30) -> list[list[str]]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.messages(address)) < count and time.monotonic() < deadline:
                self._changed.wait(0.5)
        return self.messages(address)

    def close(self):
        self.process.terminate()
        self.process.wait(5)
