"""The performance, seen and played from the web, without slowing it down.

IMPS's threads (OSC, MIDI, serial, the player) tell the hub of each /interface and
/prediction only while a page or a browser instrument is connected: the hub listens to
the server only then (PerformanceServer.listen), so with no page open the performance
pays one truth test per event. An event is appended to a bounded queue under a lock and the
asyncio loop is woken once for however many arrive before it runs (call_soon_threadsafe),
never once per event. On the loop, each client has a bounded queue of its own: a client
too slow to keep up loses its oldest events (counted), and nobody else waits for it.

Pages are shown at most SHOWN_RATE events a second, five times a fast player's 200: a
flood of /interface beyond that is counted, not drawn, so that encoding it for pages never
takes the interpreter from the threads that play. Instruments get every prediction.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from typing import Sequence

from ..perform.osc import PREDICTION
from ..perform.server import PerformanceServer

CLIENT_QUEUE = 4096  # events a client may fall behind by (20 s at 200 a second) before its oldest go
MAX_CLIENTS = 32  # pages and instruments at once; more are refused, so a flood of connections costs little
SHOWN_RATE = 1000  # events a second that pages are shown at most, counted in windows of:
WINDOW = 0.1  # seconds


class Client:
    """One connected page or instrument: what is waiting to go to it, and how much it lost."""

    def __init__(self, wants_interface: bool, unshown_before: int = 0):
        self.wants_interface = wants_interface  # pages watch both; instruments get predictions only
        self.waiting: deque = deque(maxlen=CLIENT_QUEUE)
        self.dropped = 0
        self.unshown_before = unshown_before  # the hub's count of events beyond SHOWN_RATE when this client came
        self.ready = asyncio.Event()

    def offer(self, item) -> None:
        if len(self.waiting) == CLIENT_QUEUE:
            self.dropped += 1
        self.waiting.append(item)
        self.ready.set()

    async def take(self) -> list:
        """Everything waiting, once there is something: sent as one batch."""
        await self.ready.wait()
        self.ready.clear()
        items = list(self.waiting)
        self.waiting.clear()
        return items


class Hub:
    def __init__(self, server: PerformanceServer):
        self.server = server
        self.clients: set[Client] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        # From IMPS's threads, until the loop takes them; bounded should the loop ever stall.
        self._arrived: deque = deque(maxlen=CLIENT_QUEUE)
        self._lock = threading.Lock()
        self._woken = False
        self._encode = server.sender.packet
        self._window_ends = 0.0
        self._in_window = 0
        self.unshown = 0  # events beyond SHOWN_RATE, shown to no page
        self._instruments = 0  # connected clients that want predictions only

    # On the asyncio loop.
    def join(self, wants_interface: bool) -> Client | None:
        """A new client, or None when there are MAX_CLIENTS already."""
        if len(self.clients) >= MAX_CLIENTS:
            return None
        client = Client(wants_interface, self.unshown)
        if not self.clients:
            self._loop = asyncio.get_running_loop()
            self.server.listen(self.heard)
        self.clients.add(client)
        self._instruments += not wants_interface
        return client

    def leave(self, client: Client) -> None:
        if client not in self.clients:
            return
        self.clients.discard(client)
        self._instruments -= not client.wants_interface
        if not self.clients:
            self.server.unlisten(self.heard)

    def unshown_since(self, client: Client) -> int:
        """Events beyond SHOWN_RATE since `client` came: not shown to it."""
        return self.unshown - client.unshown_before

    def _deliver(self) -> None:
        with self._lock:
            arrived, self._arrived, self._woken = self._arrived, deque(maxlen=CLIENT_QUEUE), False
        for address, when, values, shown in arrived:
            packet = self._encode(values) if address == PREDICTION else None
            for client in self.clients:
                if client.wants_interface:
                    if shown:
                        client.offer((address, when, values))
                elif packet is not None:
                    client.offer(packet)

    # On IMPS's threads: count, append and, at most once until the loop has run, wake it.
    def heard(self, address: str, when: float, values: Sequence[float]) -> None:
        with self._lock:
            if when >= self._window_ends:
                self._window_ends, self._in_window = when + WINDOW, 0
            self._in_window += 1
            shown = self._in_window <= SHOWN_RATE * WINDOW
            if not shown:
                self.unshown += 1
                if address != PREDICTION or not self._instruments:
                    return  # nobody is to get it: it costs no more than this
            self._arrived.append((address, when, [float(v) for v in values], shown))
            wake, self._woken = not self._woken, True
        if wake and self._loop is not None:
            try:
                self._loop.call_soon_threadsafe(self._deliver)
            except RuntimeError:  # the loop has closed: the web server is stopping
                pass


