"""Shared test fixtures: paths, free ports, a real OSC receiver, and the third-party
programs some tests play with."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import BlockingOSCUDPServer

from imps.probe import free_udp_port

ROOT = Path(__file__).resolve().parent.parent
# Files written by the original IMPS (tests/fixtures/README.md says where they come from).
FIXTURES = ROOT / "tests" / "fixtures"
LEGACY_DATASET_4D = FIXTURES / "training-dataset-4d-12ksmall.npz"
LEGACY_WEIGHTS_4D_S = FIXTURES / "musicMDRNN-dim4-layers2-units64-mixtures5-scale10.h5"  # weights only
LEGACY_MODEL_2D_XS = FIXTURES / "musicMDRNN-dim2-layers2-units32-mixtures5-scale10.h5"  # whole saved model

# Programs that tests drive as a musician's peers, and the Debian package of each.
PEERS = {"oscsend": "liblo-tools", "oscdump": "liblo-tools", "pd": "puredata-core"}
# Set (as .ci/run does) to make a missing peer a failure: CI must never pass by skipping.
REQUIRE_PEERS = "IMPS_REQUIRE_PEERS"


def pytest_configure(config):
    config.addinivalue_line("markers", "peers(*programs): the test drives these programs (see PEERS); it skips "
                                       f"when one is missing, or fails when {REQUIRE_PEERS}=1")


def pytest_runtest_setup(item):
    for marker in item.iter_markers("peers"):
        missing = [name for name in marker.args if shutil.which(name) is None]
        if not missing:
            continue
        packages = sorted({PEERS[name] for name in missing})
        reason = (f"needs {', '.join(missing)} on PATH, from the Debian package{'s' if len(packages) > 1 else ''} "
                  f"{', '.join(packages)} (sudo apt-get install {' '.join(packages)})")
        if os.environ.get(REQUIRE_PEERS) == "1":
            pytest.fail(f"{reason}; {REQUIRE_PEERS}=1 makes this a failure", pytrace=False)
        pytest.skip(reason)


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


def script_env() -> dict:
    return {**os.environ, "PYTHONUNBUFFERED": "1"}
