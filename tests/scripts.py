"""Driving the three scripts as a musician does: as processes, from a project folder,
with liblo's oscsend and oscdump as the musician's patch."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

from conftest import ROOT, script_env


def run_script(name: str, *args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / name), *args], cwd=cwd, env=script_env(),
                          capture_output=True, text=True, timeout=timeout)


def one_error_line(result: subprocess.CompletedProcess) -> str:
    """The one line a script prints when it fails: `error: ...`, never a traceback."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and "Traceback" not in result.stderr
    return lines[0]


class Process:
    """A background process whose output is collected line by line as it comes."""

    def __init__(self, command: list[str], **popen):
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        **popen)
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

    def wait_until(self, done: Callable[[], bool], timeout: float) -> bool:
        """Block until `done()` holds, the process has ended, or `timeout` passes."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not done():
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.process.poll() is not None:
                    return done()
                self._changed.wait(min(remaining, 0.5))
            return True


class Server(Process):
    """predictive_music_model.py running in the background."""

    def __init__(self, *args: str, cwd: Path):
        super().__init__([sys.executable, str(ROOT / "predictive_music_model.py"), *args], cwd=cwd,
                         env=script_env())

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_output(self, text: str, timeout: float = 60) -> bool:
        return self.wait_until(lambda: text in self.output, timeout)

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


class OSCDump(Process):
    """liblo's oscdump listening on a port: a third-party OSC server."""

    def __init__(self, port: int):
        super().__init__(["oscdump", "-L", str(port)])

    def messages(self, address: str) -> list[list[str]]:
        """Each message to `address` as [address, types, value, ...]."""
        return [fields[1:] for fields in (line.split() for line in list(self.lines))
                if len(fields) > 1 and fields[1] == address]

    def wait_for(self, address: str, count: int, timeout: float = 30) -> list[list[str]]:
        self.wait_until(lambda: len(self.messages(address)) >= count, timeout)
        return self.messages(address)

    def close(self):
        self.process.terminate()
        self.process.wait(5)
