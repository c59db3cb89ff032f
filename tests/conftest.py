"""Shared test fixtures: paths, free ports, a real OSC receiver, the third-party
programs some tests play with, and a real JACK server with MIDI ports of its own."""

from __future__ import annotations

import importlib
import itertools
import os
import shutil
import sys
import threading
import time

import pytest
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import BlockingOSCUDPServer

from harness import FIXTURES, ROOT, JackServer, VirtualMidiIn, VirtualMidiOut, free_udp_port

LEGACY_DATASET_4D = FIXTURES / "training-dataset-4d-12ksmall.npz"
LEGACY_WEIGHTS_4D_S = FIXTURES / "musicMDRNN-dim4-layers2-units64-mixtures5-scale10.h5"  # weights only
LEGACY_MODEL_2D_XS = FIXTURES / "musicMDRNN-dim2-layers2-units32-mixtures5-scale10.h5"  # whole saved model

# Programs that tests drive as a musician's peers, and the Debian package of each.
PEERS = {"oscsend": "liblo-tools", "oscdump": "liblo-tools", "pd": "puredata-core", "jackd": "jackd2",
         "jack_wait": "jackd2"}
# Set (as .ci/run does) to make a missing peer a failure: CI must never pass by skipping.
REQUIRE_PEERS = "IMPS_REQUIRE_PEERS"



def utils_script(name: str):
    """A script of utils/ imported as a module, for its tests to call its functions."""
    if str(ROOT / "utils") not in sys.path:
        sys.path.insert(0, str(ROOT / "utils"))
    return importlib.import_module(name)

def skip_or_fail(reason: str) -> None:
    """Skip a test that lacks a peer; fail it instead under IMPS_REQUIRE_PEERS=1."""
    if os.environ.get(REQUIRE_PEERS) == "1":
        pytest.fail(f"{reason}; {REQUIRE_PEERS}=1 makes this a failure", pytrace=False)
    pytest.skip(reason)


def pytest_configure(config):
    config.addinivalue_line("markers", "peers(*programs): the test drives these programs (see PEERS); it skips "
                                       f"when one is missing, or fails when {REQUIRE_PEERS}=1")


def pytest_runtest_setup(item):
    for marker in item.iter_markers("peers"):
        missing = [name for name in marker.args if shutil.which(name) is None]
        if not missing:
            continue
        packages = sorted({PEERS[name] for name in missing})
        skip_or_fail(f"needs {', '.join(missing)} on PATH, from the Debian package{'s' if len(packages) > 1 else ''} "
                     f"{', '.join(packages)} (sudo apt-get install {' '.join(packages)})")


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


def says_what_tensorflow_sees(line: str) -> bool:
    """Whether `line` is the trainer's devices line for the devices TensorFlow sees on
    this machine: the CPU where it sees no GPU, else how many GPUs (their names are the
    driver's, so only the count is checked). Scripts started by a test see the same."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return line == "training on the CPU: TensorFlow sees no GPU"
    return line.startswith(f"training on {len(gpus)} GPU{'s' if len(gpus) > 1 else ''}: ")


def leaked_noise(stderr: str) -> list[str]:
    """The lines of a process's stderr that must not be there: TensorFlow's known notices,
    which imps.learn.tfnoise keeps back, and a traceback. A machine with a GPU (or another
    TensorFlow) may print notices of its own, which are not IMPS's to hide."""
    from imps.learn.tfnoise import is_noise

    return [line for line in stderr.splitlines() if is_noise(line) or line.startswith("Traceback")]


_jack_names = itertools.count()


@pytest.fixture
def jack(monkeypatch):
    """A JACK server of this test's own (dummy backend, a small period, a private name),
    named in the environment for the test and for the scripts it starts; stopped
    afterwards. Use with @pytest.mark.peers("jackd", "jack_wait")."""
    try:
        for library in ("mido", "rtmidi"):
            importlib.import_module(library)
    except ImportError as error:
        skip_or_fail(f"needs the Python packages mido and python-rtmidi (pip install -r requirements.txt), and "
                     f"python-rtmidi needs ALSA's library, from the Debian package libasound2 ({error})")
    server = JackServer(f"imps-test-{os.getpid()}-{next(_jack_names)}", synchronous=True)
    monkeypatch.setenv("JACK_DEFAULT_SERVER", server.name)
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    yield server
    server.stop()


class VirtualSynth(VirtualMidiIn):
    """A synth's port on the JACK server, recording each message's bytes as it arrives."""

    def __init__(self, name: str = "synth"):
        self.recorder = Recorder(whole_call=False)
        super().__init__(name, lambda message, arrived: self.recorder.add(message))

    @property
    def messages(self) -> list[list[int]]:
        return list(self.recorder.items)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[list[int]]:
        return self.recorder.wait_for(count, timeout)


@pytest.fixture
def controller(jack):
    port = VirtualMidiOut("controller")
    yield port
    port.close()


@pytest.fixture
def synth(jack):
    port = VirtualSynth()
    yield port
    port.close()


def sounding_notes(messages: list[list[int]]) -> set[tuple[int, int]]:
    """The (channel 1-16, note) pairs still sounding after these messages."""
    sounding = set()
    for status, *data in messages:
        kind, channel = status & 0xF0, (status & 0x0F) + 1
        if kind == 0x90 and data[1] > 0:
            sounding.add((channel, data[0]))
        elif kind in (0x80, 0x90):
            sounding.discard((channel, data[0]))
    return sounding
