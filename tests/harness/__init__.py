"""Playing a running performance server from outside, as a musician's patch does:
free ports, predictive_music_model.py as a process of its own (limited in file size,
as on a disk that fills, when asked), packets sent at a steady rate, and OSC packets
good and bad (random and malformed packets mixed with valid /interface messages), to
show that the server survives whatever arrives; two servers playing for a long while
(soak); and, for MIDI, a JACK server of its own with a controller's and a synth's ports.

Used by the tests and by the benchmark and reliability scripts in utils/ (through
utils/bootstrap.py); not part of the imps package, which never imports it.
"""

from __future__ import annotations

import math
import os
import re
import resource
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from pythonosc.osc_message_builder import OscMessageBuilder

from imps.core.cli import READY
from imps.perform.histogram import SecondsHistogram
from imps.perform.osc import INTERFACE

ROOT = Path(__file__).resolve().parents[2]  # the repository: tests/harness/ is two below it
FIXTURES = ROOT / "tests" / "fixtures"  # files the original IMPS wrote (tests/fixtures/README.md)
SERVER_SCRIPT = ROOT / "predictive_music_model.py"


def free_udp_port() -> int:
    """A UDP port on localhost that nothing is bound to right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def message(address: str, *args: tuple[str, object]) -> bytes:
    """An OSC message with explicitly typed arguments, e.g. ("f", 0.5)."""
    builder = OscMessageBuilder(address)
    for type_tag, value in args:
        builder.add_arg(value, type_tag)
    return builder.build().dgram


NTP_EPOCH_OFFSET = 2_208_988_800  # seconds from 1900 (NTP's epoch) to 1970
IMMEDIATELY = b"\x00" * 7 + b"\x01"


def drain(sock: socket.socket, quiet: float = 0.0) -> int:
    """Read and drop what `sock` holds until it has been quiet for `quiet` seconds (0: what
    is there now); how many packets there were. The socket's timeout is left as it was."""
    timeout, count = sock.gettimeout(), 0
    sock.settimeout(quiet)
    try:
        while True:
            sock.recv(65536)
            count += 1
    except (BlockingIOError, TimeoutError):
        return count
    finally:
        sock.settimeout(timeout)


def an_hour_from_now() -> bytes:
    """An OSC time tag an hour ahead: a server honouring it would sit on the bundle."""
    return struct.pack(">II", int(time.time()) + NTP_EPOCH_OFFSET + 3600, 0)


def bundle(*contents: bytes, timetag: bytes = IMMEDIATELY) -> bytes:
    """An OSC bundle of messages or bundles, each element prefixed by its size."""
    return b"#bundle\x00" + timetag + b"".join(struct.pack(">i", len(c)) + c for c in contents)


@dataclass
class Packet:
    kind: str
    data: bytes
    valid_values: list[float] | None = None  # the /interface values a valid packet carries


def valid_interface(rng: np.random.Generator, n_values: int) -> Packet:
    values = [float(np.float32(v)) for v in rng.random(n_values)]
    return Packet("valid /interface", message(INTERFACE, *(("f", v) for v in values)), values)


def malformed(rng: np.random.Generator, n_values: int) -> Packet:
    """One packet of a randomly chosen kind that the server must reject."""
    good = valid_interface(rng, n_values).data
    kinds = {
        "random bytes": lambda: rng.bytes(int(rng.integers(0, 200))),
        "wrong address": lambda: message("/" + "".join(rng.choice(list("abcxyz/"), 8)), ("f", 0.5)),
        "too few values": lambda: message(INTERFACE, *(("f", 0.5),) * int(rng.integers(0, n_values))),
        "too many values": lambda: message(INTERFACE, *(("f", 0.5),) * (n_values + int(rng.integers(1, 5)))),
        "strings": lambda: message(INTERFACE, *(("s", "loud"),) * n_values),
        "ints and floats mixed with a blob": lambda: message(
            INTERFACE, *(("i", 1),) * (n_values - 1), ("b", b"\x00\x01")),
        "NaN": lambda: message(INTERFACE, ("f", math.nan), *(("f", 0.5),) * (n_values - 1)),
        "infinity": lambda: message(INTERFACE, *(("f", 0.5),) * (n_values - 1), ("f", math.inf)),
        "truncated": lambda: good[:int(rng.integers(1, len(good)))],
        "nested bundle of bad messages": lambda: bundle(
            bundle(message(INTERFACE, ("s", "x")), timetag=an_hour_from_now()), message("/nowhere", ("f", 1.0))),
        "bad type tag": lambda: b"/interface\x00\x00,fZ\x00" + struct.pack(">ff", 0.5, 0.5),
    }
    kind = list(kinds)[int(rng.integers(len(kinds)))]
    return Packet(kind, kinds[kind]())


def packets(count: int, n_values: int, valid_fraction: float = 0.3, seed: int = 0) -> list[Packet]:
    """`count` packets, about `valid_fraction` of them valid /interface messages; a valid
    message also goes in a bundle now and then, which the server must accept."""
    rng = np.random.default_rng(seed)
    result = []
    for _ in range(count):
        if rng.random() < valid_fraction:
            packet = valid_interface(rng, n_values)
            if rng.random() < 0.1:
                packet = Packet("valid /interface in a future bundle", bundle(packet.data, timetag=an_hour_from_now()),
                                packet.valid_values)
            result.append(packet)
        else:
            result.append(malformed(rng, n_values))
    return result


def cpu_seconds(pid: int) -> float:
    """The CPU time process `pid` has used, user and system, in s (clock ticks: 10 ms each)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def wakeups(pid: int, thread: int | None = None) -> int:
    """How many times the threads of process `pid` (or just its thread `thread`, a native
    id) have gone to sleep and been woken: their voluntary context switches, summed. A
    count, exact where CPU time comes in ticks."""
    total = 0
    tasks = [Path(f"/proc/{pid}/task/{thread}")] if thread is not None else Path(f"/proc/{pid}/task").iterdir()
    for task in tasks:
        with suppress(FileNotFoundError):  # a thread that has just ended
            status = (task / "status").read_text()
            total += int(re.search(r"^voluntary_ctxt_switches:\s+(\d+)", status, re.M).group(1))
    return total


class Process:
    """A background process whose output (stdout and stderr together) is collected line
    by line as it comes, so a caller can wait on a condition instead of polling."""

    def __init__(self, command: list[str], **popen):
        # Never the terminal the tests run in: a server would read keys from it.
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, **popen)
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

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


def limit_file_size(limit: int | None) -> Callable[[], None] | None:
    """For Popen's preexec_fn: the child may make no file larger than `limit` bytes, as if
    the disk filled there (Python ignores SIGXFSZ, so the write that reaches the limit
    fails with "File too large"). None: no limit."""
    if limit is None:
        return None
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


class ServerProcess(Process):
    """predictive_music_model.py (this project's, unless `script` names a copy) with these
    flags, run in the folder `cwd` with `env` added to the environment, with no file
    larger than `file_size_limit` bytes when one is given."""

    def __init__(self, *flags: str, cwd: Path, file_size_limit: int | None = None, script: Path = SERVER_SCRIPT,
                 env: dict[str, str] | None = None):
        super().__init__([sys.executable, str(script), *flags], cwd=cwd,
                         env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
                         preexec_fn=limit_file_size(file_size_limit))

    def wait_for_output(self, text: str, timeout: float = 60) -> bool:
        return self.wait_until(lambda: text in self.output, timeout)

    def wait_ready(self, timeout: float = 60) -> bool:
        """Whether the server said it is listening (cli.READY) within `timeout`."""
        return self.wait_for_output(READY, timeout)

    def stop(self, sig: int = signal.SIGINT, timeout: float = 10) -> int:
        """Signal the server to stop and return its exit code (killing it if it will not),
        once all it printed is in `lines`."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self._reader.join(timeout=5)

    def summary(self) -> str:
        return next((line for line in self.lines if line.startswith("stopped:")), "")


class Stage(ServerProcess):
    """The server logging in a folder of its own, listening on a free port, with a synth
    socket for its /prediction messages."""

    def __init__(self, folder: Path, *flags: str, dimension: int = 9, file_size_limit: int | None = None):
        self.folder = folder
        self.dimension = dimension
        self.port = free_udp_port()
        self.synth = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.synth.bind(("127.0.0.1", 0))
        super().__init__("-d", str(dimension), "--log", "--serverip", "127.0.0.1", "--serverport", str(self.port),
                         "--clientip", "127.0.0.1", "--clientport", str(self.synth.getsockname()[1]), *flags,
                         cwd=folder, file_size_limit=file_size_limit)
        if not self.wait_ready(30):
            raise RuntimeError("the server did not start:\n" + self.output)
        self.sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        # Its (first) log, as it says when it starts: another server may log in the same folder.
        self.log = folder / re.search(rf"logging to (.+?)\. {re.escape(READY)}", self.output).group(1)

    def send(self, data: bytes) -> None:
        self.sender.sendto(data, ("127.0.0.1", self.port))

    def logged_interface_lines(self) -> int:
        return self.log.read_bytes().count(b",interface,")

    def wait_for_lines(self, count: int, timeout: float = 30) -> int:
        """Wait until the log holds `count` of the musician's events; return how many it has."""
        deadline = time.monotonic() + timeout
        while (lines := self.logged_interface_lines()) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return lines

    def memory_mb(self, field: str = "VmRSS") -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(rf"{field}:\s+(\d+)", status).group(1)) / 1024

    def stop_timed(self, sig: int = signal.SIGINT) -> tuple[int, float]:
        """Stop as `stop` does; return the exit code and the seconds it took."""
        began = time.monotonic()
        code = self.stop(sig)
        return code, time.monotonic() - began


def paced(sender, packets, rate: float) -> None:
    """Send at about `rate` packets a second, in small bursts."""
    began = time.perf_counter()
    for i, data in enumerate(packets):
        sender(data)
        if i % 50 == 49:
            delay = began + (i + 1) / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)


_FLOOD_SENDER = """
import socket, sys, time
from pythonosc.osc_message_builder import OscMessageBuilder
port, n_values, rate, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
builder = OscMessageBuilder("/interface")
for _ in range(n_values):
    builder.add_arg(0.5, "f")
data = builder.build().dgram
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
began = time.perf_counter()
sent = 0
while time.perf_counter() - began < seconds:
    for _ in range(100):
        s.sendto(data, ("127.0.0.1", port))
    sent += 100
    delay = began + sent / rate - time.perf_counter()
    if delay > 0:
        time.sleep(delay)
print(sent)
"""


def flood(port: int, n_values: int, rate: float, seconds: float) -> int:
    """Send valid /interface messages to localhost:`port` at `rate` a second for
    `seconds` from another process, as another program on the machine would; return
    how many were sent."""
    sender = subprocess.run([sys.executable, "-c", _FLOOD_SENDER, str(port), str(n_values), str(rate), str(seconds)],
                            capture_output=True, text=True, check=True)
    return int(sender.stdout)


class _Listener(threading.Thread):
    """Hears every /prediction that reaches a synth socket: how many, and the longest
    silence between two. Once asked to stop, it stops at the first silence of `quiet` s."""

    def __init__(self, synth: socket.socket, quiet: float = 0.5):
        super().__init__(daemon=True)
        self.synth = synth
        self.synth.settimeout(quiet)
        self.heard = 0
        self.longest_silence = 0.0
        self._stopping = threading.Event()

    def run(self) -> None:
        last = None
        while True:
            try:
                self.synth.recv(65536)
            except socket.timeout:
                if self._stopping.is_set():
                    return
                continue
            now = time.monotonic()
            if last is not None:
                self.longest_silence = max(self.longest_silence, now - last)
            last = now
            self.heard += 1

    def stop(self) -> None:
        self._stopping.set()
        self.join()


@dataclass
class Soak:
    """Two servers that played for `seconds` in one folder, as an installation does (see soak)."""
    stages: dict[str, Stage]  # "battle" and "polyphony", stopped
    seconds: float
    window: float  # seconds at each end whose round trips are compared
    round_trips: tuple[SecondsHistogram, SecondsHistogram]  # polyphony, the first and the last window
    sent: int  # /interface events sent to the polyphony server
    unanswered: int  # of those, not answered within a second
    heard: int  # /prediction messages the battle server's synth received
    longest_silence: float  # seconds between two of them, the longest
    memory: dict[str, tuple[float, float]]  # resident MB of each server after the warm-up and at the end
    peak: dict[str, float]  # each server's highest resident MB
    codes: dict[str, int]  # exit codes

    def predictions_sent(self, name: str) -> int:
        """What the server says it sent, in its summary."""
        return int(re.search(r"(\d+) predictions sent", self.stages[name].summary()).group(1))


def soak(folder: Path, seconds: float, warmup: float, window: float, rate: float = 50.0,
         flags: tuple[str, ...] = ()) -> Soak:
    """Two servers logging in `folder` for `seconds`: one in battle mode, playing by itself at
    the model's own pace; one in polyphony at /timescale 0, sent `rate` events a second, each
    answered at once, so the time from an event to its answer is the server's lateness seen
    from outside. Resident memory is read after `warmup` seconds and at the end. `flags`
    go to both servers."""
    if not 0 <= warmup < seconds:
        raise ValueError(f"the warm-up ({warmup} s) must end before the soak ({seconds} s) does")
    stages: dict[str, Stage] = {}
    listener = None
    try:
        stages["battle"] = battle = Stage(folder, "--battle", *flags)
        stages["polyphony"] = polyphony = Stage(folder, "--polyphony", *flags)
        polyphony.send(message("/timescale", ("f", 0.0)))
        if not polyphony.wait_for_output("timescale: 0", 10):
            raise RuntimeError("the polyphony server did not take /timescale 0:\n" + polyphony.output)
        listener = _Listener(battle.synth)
        listener.start()
        first, last = SecondsHistogram(), SecondsHistogram()
        after_warmup: dict[str, float] = {}
        sent = unanswered = 0
        rng = np.random.default_rng(0)
        began = time.monotonic()
        while (at := sent / rate) < seconds:
            if not after_warmup and at >= warmup:
                after_warmup = {name: stage.memory_mb() for name, stage in stages.items()}
            time.sleep(max(0.0, began + at - time.monotonic()))
            drain(polyphony.synth)  # an answer later than a second is not this event's
            polyphony.synth.settimeout(1.0)
            data = valid_interface(rng, polyphony.dimension - 1).data
            asked = time.monotonic()
            polyphony.send(data)
            sent += 1
            try:
                polyphony.synth.recv(65536)
            except socket.timeout:
                unanswered += 1
                continue
            round_trip = time.monotonic() - asked
            if at < window:
                first.add(round_trip)
            if at >= seconds - window:
                last.add(round_trip)
        memory = {name: (after_warmup[name], stage.memory_mb()) for name, stage in stages.items()}
        peak = {name: stage.memory_mb("VmHWM") for name, stage in stages.items()}
    finally:
        codes = {name: stage.stop() for name, stage in stages.items()}
        if listener is not None:
            listener.stop()
    return Soak(stages, seconds, window, (first, last), sent, unanswered, listener.heard, listener.longest_silence,
                memory, peak, codes)


class JackServer:
    """A JACK server of its own: the dummy backend (no sound card needed), a small period,
    and a private `name`, so no musician's server (nor another test's) is touched. Its
    clients find it by the environment: JACK_DEFAULT_SERVER=name, with
    JACK_NO_START_SERVER=1 so that none starts a server by itself."""

    def __init__(self, name: str, period: int = 64, rate: int = 48000, synchronous: bool = False):
        self.name, self.period, self.rate = name, period, rate
        # Synchronous (-S): each cycle waits for every client (up to 5 s), so a client that
        # a busy machine keeps off the CPU for a moment gets its MIDI late instead of losing it.
        self.process = subprocess.Popen(["jackd", "-n", name, *(["-S", "-t", "5000"] if synchronous else []),
                                         "-d", "dummy", "-r", str(rate), "-p", str(period)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        waited = subprocess.run(["jack_wait", "-w", "-s", name, "-t", "10"], capture_output=True, text=True)
        if waited.returncode != 0:
            self.stop()
            raise RuntimeError(f"jackd -n {name} did not start: {waited.stdout}{waited.stderr}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class VirtualMidiOut:
    """A MIDI output port of its own on the JACK server, as a controller is to IMPS:
    the port is named `{name}:out`."""

    def __init__(self, name: str):
        import rtmidi
        self.client = rtmidi.MidiOut(rtapi=rtmidi.API_UNIX_JACK, name=name)
        self.client.open_virtual_port("out")

    def send(self, *messages: list[int]) -> None:
        for data in messages:
            self.client.send_message(data)

    def send_paced(self, messages: list[list[int]], rate: float) -> None:
        """At about `rate` messages a second: JACK's dummy driver drops a burst of thousands."""
        began = time.monotonic()
        for i, data in enumerate(messages):
            self.client.send_message(data)
            delay = began + (i + 1) / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def close(self) -> None:
        self.client.close_port()
        self.client.delete()


class VirtualMidiIn:
    """A MIDI input port of its own on the JACK server, as a synth is to IMPS: the port
    is named `{name}:in`, and `on_message(bytes, monotonic arrival time)` hears every
    message, clock and SysEx included."""

    def __init__(self, name: str, on_message: Callable[[list[int], float], None]):
        import rtmidi
        self.client = rtmidi.MidiIn(rtapi=rtmidi.API_UNIX_JACK, name=name)
        self.client.ignore_types(sysex=False, timing=False, active_sense=False)
        self.client.open_virtual_port("in")
        self.client.set_callback(lambda message, _: on_message(list(message[0]), time.monotonic()))

    def close(self) -> None:
        self.client.cancel_callback()
        self.client.close_port()
        self.client.delete()


def latency_table(rows: dict[str, np.ndarray]) -> str:
    """Times (seconds) as the benchmarks' Markdown table, in ms: each row's name, median,
    90th and 99th percentiles and most."""
    lines = ["| time (ms) | median | 90th percentile | 99th percentile | most |", "| --- | ---: | ---: | ---: | ---: |"]
    for name, times in rows.items():
        ms = times * 1000
        lines.append(f"| {name} | {np.median(ms):.3f} | {np.percentile(ms, 90):.3f} | {np.percentile(ms, 99):.3f} | "
                     f"{ms.max():.3f} |")
    return "\n".join(lines)
