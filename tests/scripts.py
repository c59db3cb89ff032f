"""Driving the three scripts as a musician does: as processes, from a project folder,
with liblo's oscsend and oscdump as the musician's patch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import ROOT, script_env
from harness import Process, ServerProcess, limit_file_size

Server = ServerProcess  # what the tests call predictive_music_model.py running in the background


def run_script(name: str, *args: str, cwd: Path, timeout: float = 300,
               file_size_limit: int | None = None) -> subprocess.CompletedProcess:
    """Run a script to its end; with `file_size_limit`, it can make no file larger (a disk that fills)."""
    return subprocess.run([sys.executable, str(ROOT / name), *args], cwd=cwd, env=script_env(),
                          capture_output=True, text=True, timeout=timeout,
                          preexec_fn=limit_file_size(file_size_limit))


def run_python(code: str, *args: str, cwd: Path, file_size_limit: int | None = None) -> subprocess.CompletedProcess:
    """Run `code` with this checkout's imps in a Python of its own, as run_script does a script."""
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env={**script_env(), "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=300, preexec_fn=limit_file_size(file_size_limit))


def one_error_line(result: subprocess.CompletedProcess) -> str:
    """The one line a script prints when it fails: `error: ...`, never a traceback."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and "Traceback" not in result.stderr
    return lines[0]


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
