"""Shared test fixtures: paths, free ports, and a real OSC receiver."""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from pathlib import Path

import pytest
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import BlockingOSCUDPServer

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT.parent / "shared" / "fixtures"
LEGACY_DATASET_4D = FIXTURES / "training-dataset-4d-12ksmall.npz"
LEGACY_WEIGHTS_4D_S = FIXTURES / "musicMDRNN-dim4-layers2-units64-mixtures5-scale10.h5"  # weights only
LEGACY_MODEL_2D_XS = FIXTURES / "musicMDRNN-dim2-layers2-units32-mixtures5-scale10.h5"  # whole saved model

sys.path.insert(0, str(ROOT))


def free_udp_port() -> int:
    """A UDP port on localhost that nothing is bound to right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def udp_port() -> int:
    return free_udp_port()


class Recorder:
    """Collects items from other threads; waits on a condition until enough arrive.
    Called as a callback, it records the call's arguments (the first only, with
    `whole_call=False`)."""

    def __init__(self, whole_call: bool = True):
        self.items: list = []
        self._whole_call = whole_call
        self._condition = threading.Condition()

    def add(self, item) -> None:
        with self._condition:
            self.items.append(item)
            self._condition.notify_all()

    def __call__(self, *args) -> None:
        self.add(args if self._whole_call else args[0])

    def wait_until(self, predicate, timeout: float = 10.0) -> list:
        """Block until `predicate(items)` holds or `timeout` passes; return the items."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while not predicate(self.items):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._condition.wait(remaining)
            return list(self.items)

    def wait_for(self, count: int, timeout: float = 10.0) -> list:
        return self.wait_until(lambda items: len(items) >= count, timeout)


class OSCReceiver:
    """A python-osc server on a free port that records every message it gets as
    (monotonic time, address, arguments)."""

    def __init__(self):
        self.recorder = Recorder()
        dispatcher = Dispatcher()
        dispatcher.set_default_handler(lambda address, *args: self.recorder.add((time.monotonic(), address, args)))
        self.server = BlockingOSCUDPServer(("127.0.0.1", 0), dispatcher)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def messages(self) -> list[tuple[float, str, tuple]]:
        return self.recorder.items

    def wait_for(self, count: int, timeout: float = 10.0) -> list[tuple[float, str, tuple]]:
        return self.recorder.wait_for(count, timeout)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def osc_receiver():
    receiver = OSCReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def in_tmp_dir(tmp_path, monkeypatch):
    """Run with a fresh working directory, as a musician's project folder."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def python() -> str:
    return sys.executable


def script(name: str) -> str:
    return str(ROOT / name)


def script_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    return env
