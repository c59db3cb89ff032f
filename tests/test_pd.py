"""Pure Data plays with IMPS: the real Pd (puredata-core), headless, talking OSC over UDP
with a running predictive_music_model.py.

Pd runs as `pd -nogui -nosound -nomidi -noprefs -nrt -stderr`, so everything it prints
(its [print] objects, and any error, such as "couldn't create") arrives on its stderr,
which these tests read line by line (-nrt: no attempt at real-time priority, which
prints a warning when Pd is not root). Every Pd is killed when its test ends, pass or fail.

- tests/pd/imps-test.pd is told its ports with `-send "imps-test listen PORT"` and
  `-send "imps-test connect PORT"`, then plays gestures of random values by itself and
  prints what it sends and what comes back.
- The example patches in examples/ use IMPS's fixed ports, 5001 and 5000; the tests run
  a copy with free ports put in their place, play its faders through the faders' receive
  names (`-send "imps-fader1 0.3"`), and hear what comes back by adding a [print] to the
  copy's [route prediction].
"""

from __future__ import annotations

import math
import re
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import ROOT, free_udp_port
from imps.core.logs import read_log
from imps.core.names import log_glob
from scripts import Server

PD = "pd"  # Debian's puredata-core; .ci/run installs it
PD_FLAGS = ["-nogui", "-nosound", "-nomidi", "-noprefs", "-nrt", "-stderr"]
TEST_PATCH = ROOT / "tests" / "pd" / "imps-test.pd"
EXAMPLES = ROOT / "examples"
EXAMPLE_PATCHES = sorted(EXAMPLES.glob("*.pd"))
CONNECT = "connect 127.0.0.1 5001"  # where the examples send /interface: IMPS's --serverport
LISTEN = "listen 5000"  # where the examples hear /prediction: IMPS's --clientport
needs_pd = pytest.mark.peers("pd")
BOXES = [["#X", kind] for kind in ("obj", "msg", "text", "floatatom", "symbolatom", "listbox")]


class Pd:
    """A headless Pd with one patch open, its printout collected line by line."""

    def __init__(self, patch: Path, *messages: str):
        args = [PD, *PD_FLAGS, "-open", str(patch)]
        for message in messages:
            args += ["-send", message]
        self.process = subprocess.Popen(args, cwd=patch.parent, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def printed(self, name: str) -> list[list[float]]:
        """The numbers of every line that Pd's [print NAME] printed, in order."""
        return [[float(word) for word in line.split()[1:]] for line in list(self.lines)
                if line.startswith(f"{name}:")]

    def wait_for(self, name: str, count: int, timeout: float = 20) -> list[list[float]]:
        """Wait until [print NAME] has printed `count` lines (or `timeout` passes, or Pd ends)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.printed(name)) < count and self.process.poll() is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(min(remaining, 0.2))
        return self.printed(name)

    def close(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._reader.join(5)  # the last of its printout

    def __enter__(self) -> "Pd":
        return self

    def __exit__(self, *exc):
        self.close()


def top_level_boxes(patch_text: str) -> list[str]:
    """The boxes of a patch's main window, in the order `#X connect` numbers them: a
    subpatch counts as one box, its `#X restore` line."""
    boxes, depth = [], 0
    for record in re.split(r"(?<!\\);\s*\n", patch_text):
        record = record.strip()
        if record.startswith("#N canvas"):
            depth += 1
        elif record.startswith("#X restore"):
            depth -= 1
            if depth == 1:
                boxes.append(record)
        elif depth == 1 and record.split()[:2] in BOXES:
            boxes.append(record)
    return boxes


def example_on_ports(example: Path, folder: Path, interface_port: int, prediction_port: int,
                     print_predictions: bool = False) -> Path:
    """A copy of an example patch in `folder` that sends /interface to `interface_port` and
    hears /prediction on `prediction_port`, optionally printing what [route prediction] lets
    through as `prediction: x1 ... xN`."""
    text = example.read_text()
    assert text.count(CONNECT) == 1 and text.count(LISTEN) == 1, f"{example.name} should [{CONNECT}( and [{LISTEN}("
    text = text.replace(CONNECT, f"connect 127.0.0.1 {interface_port}").replace(LISTEN, f"listen {prediction_port}")
    if print_predictions:
        boxes = top_level_boxes(text)
        [route] = [i for i, box in enumerate(boxes) if re.fullmatch(r"#X obj -?\d+ -?\d+ route prediction", box)]
        text += f"#X obj 10 10 print prediction;\n#X connect {route} 0 {len(boxes)} 0;\n"
    copy = folder / example.name
    copy.write_text(text)
    return copy


def imps_server(dimension: int, interface_port: int, prediction_port: int, cwd: Path) -> Server:
    """IMPS in polyphony (an answer to every gesture), logging, on the given ports."""
    server = Server(f"--dimension={dimension}", "--polyphony", "--log", "--modelsize=xxs",
                    "--serverip", "127.0.0.1", "--serverport", str(interface_port),
                    "--clientip", "127.0.0.1", "--clientport", str(prediction_port), cwd=cwd)
    if not server.wait_ready():
        server.stop()
        pytest.fail(f"IMPS did not start listening:\n{server.output}")
    return server


def logged(cwd: Path, dimension: int, source: str) -> list[list[float]]:
    [log] = (cwd / "logs").glob(log_glob(dimension))
    return [event.values for event in read_log(log, dimension - 1).events if event.source == source]


def assert_same(pd_values: list[list[float]], imps_values: list[list[float]]):
    """Pd prints six significant digits of what IMPS logged as float32."""
    assert len(pd_values) == len(imps_values)
    for heard, sent in zip(pd_values, imps_values):
        assert len(heard) == len(sent)
        assert all(math.isclose(h, s, rel_tol=1e-5, abs_tol=1e-9) for h, s in zip(heard, sent)), (heard, sent)


def assert_gestures(gestures: list[list[float]], count: int, n_values: int):
    assert len(gestures) == count
    for values in gestures:
        assert len(values) == n_values and all(0.0 <= v <= 1.0 for v in values), values


@pytest.mark.slow
@needs_pd
@pytest.mark.parametrize("dimension", [4, 9])
def test_the_test_patch_plays_with_imps_on_any_ports(dimension, tmp_path):
    count = 12
    interface_port, prediction_port = free_udp_port(), free_udp_port()
    server = imps_server(dimension, interface_port, prediction_port, tmp_path)
    try:
        with Pd(TEST_PATCH, f"imps-test listen {prediction_port}", f"imps-test connect {interface_port}",
                f"imps-test play {count} {dimension - 1}") as pd:
            predictions = pd.wait_for("prediction", count)
            sent = pd.printed("sent")
    finally:
        code = server.stop()
    assert code == 0, server.output
    # Pd connected, sent twelve gestures of random values, and heard twelve answers.
    assert pd.printed("connected") == [[1.0]], pd.output
    assert_gestures(sent, count, dimension - 1)
    assert_gestures(predictions, count, dimension - 1)
    assert not pd.printed("other"), pd.output
    assert f"{count} events from the musician; {count} predictions sent" in server.output
    # What Pd sent is what IMPS heard; what Pd heard is what IMPS played.
    assert_same(sent, logged(tmp_path, dimension, "interface"))
    assert_same(predictions, logged(tmp_path, dimension, "rnn"))
    # Pd printed nothing else: no errors.
    assert all(line.split(":")[0] in {"connected", "sent", "prediction"} for line in pd.lines), pd.output


FADER_MOVES = {
    # Each move of a fader sends all the faders' values.
    "imps-8-faders.pd": (9, [("imps-fader1", 0.1), ("imps-fader2", 0.2), ("imps-fader8", 1.0), ("imps-fader3", 0.3),
                             ("imps-fader2", 0.25), ("imps-fader8", 0.0)],
                         [[0.1, 0, 0, 0, 0, 0, 0, 0], [0.1, 0.2, 0, 0, 0, 0, 0, 0], [0.1, 0.2, 0, 0, 0, 0, 0, 1],
                          [0.1, 0.2, 0.3, 0, 0, 0, 0, 1], [0.1, 0.25, 0.3, 0, 0, 0, 0, 1],
                          [0.1, 0.25, 0.3, 0, 0, 0, 0, 0]]),
    "imps-2d-minimal.pd": (2, [("imps-fader1", 0.25), ("imps-fader1", 0.5), ("imps-fader1", 1.0)],
                           [[0.25], [0.5], [1.0]]),
}


def test_every_example_is_played_here():
    assert sorted(FADER_MOVES) == [p.name for p in EXAMPLE_PATCHES]


@pytest.mark.slow
@needs_pd
@pytest.mark.parametrize("example", EXAMPLE_PATCHES, ids=lambda p: p.name)
def test_example_loads_and_starts_audio_without_a_word(example, tmp_path):
    """Every object creates (vanilla Pd, no externals), the audio graph builds, and the
    ports open: a clean load prints nothing at all."""
    copy = example_on_ports(example, tmp_path, free_udp_port(), free_udp_port())
    result = subprocess.run([PD, *PD_FLAGS, "-open", str(copy), "-send", "pd dsp 1", "-send", "pd quit"],
                            cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (result.stdout + result.stderr).strip() == ""


@pytest.mark.slow
@needs_pd
@pytest.mark.parametrize("example", EXAMPLE_PATCHES, ids=lambda p: p.name)
def test_example_plays_with_imps(example, tmp_path):
    dimension, moves, expected = FADER_MOVES[example.name]
    interface_port, prediction_port = free_udp_port(), free_udp_port()
    patch = example_on_ports(example, tmp_path, interface_port, prediction_port, print_predictions=True)
    server = imps_server(dimension, interface_port, prediction_port, tmp_path)
    try:
        with Pd(patch, "pd dsp 1", *(f"{fader} {value}" for fader, value in moves)) as pd:
            predictions = pd.wait_for("prediction", len(moves))
    finally:
        code = server.stop()
    assert code == 0, server.output
    # The faders' moves reached IMPS as /interface, all the faders' values each time.
    assert_same(logged(tmp_path, dimension, "interface"), expected)
    # Each was answered, and the answers came back through the patch's [route prediction].
    assert_gestures(predictions, len(moves), dimension - 1)
    assert_same(predictions, logged(tmp_path, dimension, "rnn"))
    assert all(line.startswith("prediction:") for line in pd.lines), pd.output
