"""The performance, seen and played from the web, without slowing it down.

IMPS's threads (OSC, MIDI, serial, the player) tell the hub of each /interface and
/prediction only while a page or a browser instrument is connected: the hub listens to
the server only then (PerformanceServer.listen), so with no page open the performance
pays one truth test per event. An event is appended to a list under a lock and the
asyncio loop is woken once for however many arrive before it runs (call_soon_threadsafe),
never once per event. On the loop, each client has a bounded queue of its own: a client
too slow to keep up loses its oldest events (counted), and nobody else waits for it.
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


class Client:
    """One connected page or instrument: what is waiting to go to it, and how much it lost."""

    def __init__(self, wants_interface: bool):
        self.wants_interface = wants_interface  # pages watch both; instruments get predictions only
        self.waiting: deque = deque(maxlen=CLIENT_QUEUE)
        self.dropped = 0
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

    # On the asyncio loop.
    def join(self, wants_interface: bool) -> Client | None:
        """A new client, or None when there are MAX_CLIENTS already."""
        if len(self.clients) >= MAX_CLIENTS:
            return None
        client = Client(wants_interface)
        if not self.clients:
            self._loop = asyncio.get_running_loop()
            self.server.listen(self._heard)
        self.clients.add(client)
        return client

    def leave(self, client: Client) -> None:
        self.clients.discard(client)
        if not self.clients:
            self.server.unlisten(self._heard)

    def _deliver(self) -> None:
        with self._lock:
            arrived, self._arrived, self._woken = self._arrived, deque(maxlen=CLIENT_QUEUE), False
        for address, when, values in arrived:
            packet = self._encode(values) if address == PREDICTION else None
            for client in self.clients:
                if client.wants_interface:
                    client.offer((address, when, values))
                elif packet is not None:
                    client.offer(packet)

    # On IMPS's threads: append and, at most once until the loop has run, wake it.
    def _heard(self, address: str, when: float, values: Sequence[float]) -> None:
        item = (address, when, [float(v) for v in values])
        with self._lock:
            self._arrived.append(item)
            wake, self._woken = not self._woken, True
        if wake and self._loop is not None:
            try:
                self._loop.call_soon_threadsafe(self._deliver)
            except RuntimeError:  # the loop has closed: the web server is stopping
                pass


