"""MIDI in and out: a controller's messages become IMPS's controls, predictions become
messages to a synth or to the controller's lights.

python-rtmidi opens the ports (ALSA's sequencer or JACK); mido checks what arrives and
names the kinds IMPS does not map; midicodec.py reads the bytes of those it maps and
makes the bytes it sends.
This module is imported only when MIDI is asked for, so OSC users never need mido or
python-rtmidi.

Data flows one way, as in the OSC server. rtmidi's own thread only stamps each
message's arrival and puts it on a queue; the MIDI thread blocks on that queue, maps the
message and hands the control's new value on. Predictions are sent on the player's
thread, at the same moment as their /prediction. A third thread wakes once a second to
read the port lists: rtmidi says nothing when a port goes away, so that is how a
vanished port is noticed, and how it is found again.
"""

from __future__ import annotations

import contextlib
import functools
import os
import queue
import sys
import threading
import time
from collections import Counter
from typing import Callable, Iterator, Sequence

from ..core.errors import MidiPortNotFound, MidiUnavailable
from ..core.notices import MidiPortBack, MidiPortGone, MidiPortsUnreadable, Notice, say
from .config import MidiConfig
from .midicodec import PredictionEncoder, decode
from .midimap import Control

try:
    import mido
    import rtmidi
except ImportError as missing:
    raise MidiUnavailable("", f"the MIDI libraries cannot be loaded ({missing})", library_missing=True) from None

CLIENT_NAME = "IMPS"  # how IMPS shows among the MIDI system's clients
APIS = {"alsa": rtmidi.API_LINUX_ALSA, "jack": rtmidi.API_UNIX_JACK}
INPUT, OUTPUT = "input", "output"
PORT_CHECK_INTERVAL = 1.0  # seconds between readings of the port list
# rtmidi hands each message to Python on the MIDI system's thread, which must first take
# the GIL; JACK's thread has one period (1.3 ms at 64 frames) before JACK counts it late
# and its messages are lost. Python lets a busy thread keep the GIL for its switch
# interval, 5 ms unless told otherwise, so IMPS with a MIDI input asks for this instead.
GIL_SWITCH_INTERVAL = 0.0002
# A DIN MIDI cable runs at 31,250 baud, 10 bits a byte on the wire.
DIN_BYTES_PER_SECOND = 3125
# rtmidi's JACK output closes its port without waiting for what is queued to leave in
# the next JACK period, and garbles it (seen here: the last note-offs came out as copies
# of other messages). Closing waits this long first: several periods of
# the largest usual size (2048 frames at 44.1 kHz is 46 ms).
OUTPUT_DRAIN = 0.25


@contextlib.contextmanager
def c_stderr_silenced() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for a while: ALSA's and JACK's C libraries
    print there when no MIDI system is running, lines a musician can do nothing with
    (IMPS says what was wrong in its own words instead)."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


def _api_label(api: str | None) -> str:
    return api or "the system's default MIDI"


def _client(direction: str, api: str | None) -> rtmidi.MidiIn | rtmidi.MidiOut:
    kind = rtmidi.MidiIn if direction == INPUT else rtmidi.MidiOut
    with c_stderr_silenced():
        try:
            return kind(rtapi=APIS[api] if api else rtmidi.API_UNSPECIFIED, name=CLIENT_NAME)
        except rtmidi.SystemError as error:
            raise MidiUnavailable(_api_label(api), f"no MIDI system answers through {_api_label(api)} "
                                                   f"({str(error).strip()})") from None


def list_ports(api: str | None) -> tuple[list[str], list[str]]:
    """The input and output ports the MIDI system shows."""
    lists = []
    for direction in (INPUT, OUTPUT):
        client = _client(direction, api)
        lists.append(client.get_ports())
        client.delete()
    return lists[0], lists[1]


def _matching(ports: Sequence[str], wanted: str) -> str | None:
    return next((port for port in ports if wanted.casefold() in port.casefold()), None)


class Port:
    """IMPS's port connected to the first port of the MIDI system whose name contains
    `wanted` (in any case); reconnected to it by `check` once it has gone and come back.
    An input port hands each message to `callback` on rtmidi's thread."""

    def __init__(self, direction: str, wanted: str, api: str | None,
                 callback: Callable[[tuple[list[int], float], object], None] | None = None):
        self.direction, self.wanted, self.callback = direction, wanted, callback
        self.client = _client(direction, api)
        if callback is not None:
            self.client.ignore_types(sysex=False, timing=False, active_sense=False)  # counted, not hidden
        ports = self.client.get_ports()
        self.name = _matching(ports, wanted)
        if self.name is None:
            self.client.delete()
            raise MidiPortNotFound(direction, wanted, ports)
        self._open(ports)

    def _open(self, ports: list[str]) -> None:
        with c_stderr_silenced():
            self.client.open_port(ports.index(self.name), name=self.direction)
        if self.callback is not None:
            self.client.set_callback(self.callback)  # closing the port let go of it
        self.connected = True

    def check(self) -> MidiPortGone | MidiPortBack | None:
        """Whether the port has gone or come back since the last check."""
        ports = self.client.get_ports()
        if self.connected and self.name not in ports:
            if self.callback is not None:
                self.client.cancel_callback()
            self.client.close_port()
            self.connected = False
            return MidiPortGone(self.direction, self.name, self.wanted)
        if not self.connected and (name := _matching(ports, self.wanted)) is not None:
            self.name = name
            self._open(ports)
            return MidiPortBack(self.direction, name)
        return None

    def close(self) -> None:
        if self.callback is not None:
            self.client.cancel_callback()
        with c_stderr_silenced():
            self.client.close_port()
            self.client.delete()


def _kind_of(message: mido.Message) -> str:
    """What an ignored message was, for the summary."""
    if message.type == "control_change":
        return f"control_change (channel {message.channel + 1}, CC {message.control})"
    return message.type + (f" (channel {message.channel + 1})" if hasattr(message, "channel") else "")


class _Input:
    """An input port, the controls its messages set, and what it has brought."""

    def __init__(self, port: Port, controls: Sequence[Control]):
        self.port, self.controls = port, tuple(controls)
        self.index = {control.key: i for i, control in enumerate(self.controls)}
        self.received = 0  # messages that arrived on the port
        self.ignored: Counter = Counter()  # messages that map to no control, by kind
        self.echoes_ignored = 0  # the controller sending back what IMPS had just sent
        self.echo_sources: list[_Output] = []  # the outputs whose echoes it may bring


class _Output:
    """An output port, the controls it is sent, and what was not sent to it."""

    def __init__(self, port: Port, controls: Sequence[Control]):
        self.port = port
        self.encoder = PredictionEncoder(controls)
        self.din_free = -float("inf")  # when a DIN cable has carried the previous send
        self.thinned = 0  # predictions not sent: sooner than a DIN cable carries
        self.unsent_while_gone = 0  # predictions not sent while the port was gone


class MidiLink:
    """A performance's MIDI: each input port feeding `on_control(index, value)` on the MIDI
    thread, each output port sent its controls of every prediction (`send`), the port
    watcher telling `notify` of ports that go and come back, and counts."""

    def __init__(self, config: MidiConfig, on_control: Callable[[int, float], None],
                 notify: Callable[[Notice], None] = say):
        self.config = config
        self.on_control = on_control
        self.notify = notify
        self.last_arrival = -float("inf")  # monotonic time the latest mapped message arrived
        self.last_send = -float("inf")  # monotonic time the latest prediction left
        self._arrivals: queue.Queue = queue.Queue()
        self._output_lock = threading.Lock()  # the player's sends, the watcher's reconnects, ending notes
        self._stopping = threading.Event()
        self.inputs: list[_Input] = []
        self.outputs: list[_Output] = []
        try:
            if config.inputs:
                mido.Message.from_bytes([0xB0, 1, 0])  # mido's first message loads its tables: not while playing
                sys.setswitchinterval(GIL_SWITCH_INTERVAL)
            for i, wanted in enumerate(config.inputs):
                port = Port(INPUT, wanted.wanted, config.api, functools.partial(self._arrived, i))
                self.inputs.append(_Input(port, wanted.controls))
            for wanted in config.outputs:
                self.outputs.append(_Output(Port(OUTPUT, wanted.wanted, config.api), wanted.controls))
        except Exception:
            self._close_ports()
            raise
        for source in self.inputs:
            # A device named both ways (IMPSY's files name it so) echoes what its own output
            # was sent; with no such pair, any output may be the one echoing.
            same = [out for out in self.outputs if out.port.wanted.casefold() == source.port.wanted.casefold()]
            source.echo_sources = same or self.outputs
        self._reader = threading.Thread(target=self._read, name="midi-in", daemon=True)
        self._watcher = threading.Thread(target=self._watch, name="midi-ports", daemon=True)

    def start(self) -> None:
        self._reader.start()
        self._watcher.start()

    # rtmidi's thread: as little as possible.
    def _arrived(self, source: int, message: tuple[list[int], float], _data) -> None:
        self._arrivals.put((source, message[0], time.monotonic()))

    # The MIDI thread.
    def _read(self) -> None:
        while (item := self._arrivals.get()) is not None:
            source, data, arrived = item
            source = self.inputs[source]
            source.received += 1
            try:
                self._handle(source, data, arrived)
            except Exception as error:  # whatever goes wrong with one message must never end the input
                source.ignored[f"not handled ({type(error).__name__}: {error})"] += 1

    def _handle(self, source: _Input, data: list[int], arrived: float) -> None:
        try:  # mido checks every message, and names the kinds not mapped for the summary
            message = mido.Message.from_bytes(data)
        except ValueError:
            source.ignored["malformed"] += 1
            return
        key, data = decode(data)
        index = source.index.get(key)
        if index is None:
            source.ignored["note end" if key is None and message.type in ("note_on", "note_off")
                           else _kind_of(message)] += 1
            return
        control = source.controls[index]
        if self._is_echo(source, control, data, arrived):
            source.echoes_ignored += 1
            return
        self.last_arrival = arrived
        self.on_control(index, control.value(data))

    def _is_echo(self, source: _Input, control: Control, data: int, arrived: float) -> bool:
        if not self.config.feedback_protection:
            return False
        for out in source.echo_sources:
            sent = out.encoder.last_sent.get(control.key)
            if sent is not None and sent[0] == data and arrived - sent[1] <= self.config.feedback_window:
                return True
        return False

    # The player's thread.
    def send(self, values: Sequence[float]) -> None:
        """A prediction (values 0-1) as MIDI to each output: a control change or pitch bend
        only where its data changed; a note on ends the channel's previous note first."""
        if not self.outputs:
            return
        with self._output_lock:
            for out in self.outputs:
                self._send_to(out, values)

    def _send_to(self, out: _Output, values: Sequence[float]) -> None:
        now = time.monotonic()
        if not out.port.connected:
            out.unsent_while_gone += 1
            return
        if now < out.din_free:
            out.thinned += 1
            return
        messages, carried = out.encoder.messages(values)
        try:
            for message in messages:
                out.port.client.send_message(message)
        except rtmidi.RtMidiError:  # the port went between two checks: the watcher will say so
            out.unsent_while_gone += 1
            return
        self.last_send = time.monotonic()
        out.encoder.sent(carried, self.last_send)
        if self.config.din:
            out.din_free = now + sum(map(len, messages)) / DIN_BYTES_PER_SECOND

    def end_notes(self) -> None:
        """End every note IMPS left sounding (its pending predictions were dropped, or it stops)."""
        with self._output_lock:
            for out in self.outputs:
                note_offs = out.encoder.note_offs()
                if out.port.connected:
                    for message in note_offs:
                        out.port.client.send_message(message)

    # The port watcher.
    def _watch(self) -> None:
        said = None  # the last failure said, so that one failing every second is said once
        while not self._stopping.wait(PORT_CHECK_INTERVAL):
            try:
                for notice in self._check_ports():
                    self.notify(notice)
                said = None
            except rtmidi.RtMidiError as error:  # the MIDI system itself is in trouble: OSC plays on
                if str(error) != said:
                    said = str(error)
                    self.notify(MidiPortsUnreadable(said))

    def _check_ports(self) -> list[MidiPortGone | MidiPortBack]:
        notices = [notice for source in self.inputs if (notice := source.port.check()) is not None]
        for out in self.outputs:
            with self._output_lock:
                notice = out.port.check()
                if notice is not None and out.port.connected:
                    out.encoder.forget()
            if notice is not None:
                notices.append(notice)
        return notices

    def stop_input(self) -> None:
        """No more controls from MIDI: the input and the watcher stop."""
        self._stopping.set()
        if self._reader.is_alive():
            self._arrivals.put(None)
            self._reader.join(timeout=1.0)
        if self._watcher.is_alive():
            self._watcher.join(timeout=2 * PORT_CHECK_INTERVAL)

    def close(self) -> None:
        """End any sounding note and close the ports (after stop_input and the player)."""
        self.stop_input()
        self.end_notes()
        if self.outputs:
            time.sleep(OUTPUT_DRAIN)
        self._close_ports()

    def _close_ports(self) -> None:
        for port in [source.port for source in self.inputs] + [out.port for out in self.outputs]:
            port.close()

    def describe(self) -> str:
        """Where MIDI comes from and goes to, for the line the server prints when it listens."""
        parts = [f"MIDI in from {source.port.name!r}" +
                 (" (echoes of IMPS's output ignored)" if self.config.feedback_protection else "")
                 for source in self.inputs]
        parts += [f"MIDI out to {out.port.name!r}" + (" (thinned to what a DIN cable carries)" if self.config.din
                                                       else "")
                  for out in self.outputs]
        return ", ".join(parts)

    def summary_parts(self) -> list[str]:
        parts = []
        for source in self.inputs:
            # One port's counts read as they always have; with several, each names its port.
            origin = f" from {source.port.name!r}" if len(self.inputs) > 1 else ""
            parts.append(f"{source.received} MIDI messages in{origin}")
            if source.ignored:
                parts.append(f"MIDI ignored{origin} (not mapped): " +
                             ", ".join(f"{n} {kind}" for kind, n in sorted(source.ignored.items())))
            if source.echoes_ignored:
                parts.append(f"{source.echoes_ignored} MIDI echoes of IMPS's own output ignored{origin}")
        for out in self.outputs:
            to = f" to {out.port.name!r}" if len(self.outputs) > 1 else ""
            if out.thinned:
                parts.append(f"{out.thinned} predictions not sent over MIDI{to}, sooner than a DIN cable carries "
                             "them")
            if out.unsent_while_gone:
                parts.append(f"{out.unsent_while_gone} predictions not sent over MIDI{to} while the port was gone")
        return parts
