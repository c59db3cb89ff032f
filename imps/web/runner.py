"""The web server on a thread of the performance's process: uvicorn on its own asyncio
loop, serving a socket bound beforehand (address.py), so a port in use is a one-line
error at start and a browser that connects before it serves waits in the listen queue."""

from __future__ import annotations

import asyncio
import socket
import threading
from contextlib import suppress
from typing import Sequence

import uvicorn
from starlette.routing import BaseRoute

from ..perform.server import PerformanceServer
from .app import MAX_FRAME, Folders, create_app
from .security import Access


class _Server(uvicorn.Server):
    """uvicorn that sleeps until it is told to stop, and then stops at once.

    uvicorn's own loop wakes ten times a second to see whether to stop, and its shutdown
    gives open connections time to finish: a performance with no page open would pay the
    one, and every stop the other. Here the loop waits on an event, and stopping tells each
    connection so (a WebSocket gets its close frame, 1012) without waiting for it."""

    def __init__(self, config: uvicorn.Config):
        super().__init__(config)
        self._stopping: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.serving = threading.Event()

    async def main_loop(self) -> None:
        self._loop, self._stopping = asyncio.get_running_loop(), asyncio.Event()
        await self.on_tick(0)  # the default headers, once (so no Date header: it would need the tick)
        self.serving.set()
        if not self.should_exit:  # stop() sets it before it looks at serving: one of the two sees the other
            await self._stopping.wait()

    async def shutdown(self, sockets: Sequence[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        await asyncio.sleep(0)  # one turn of the loop: the close frames are written, the transports closed

    def stop(self) -> None:
        """From any thread."""
        self.should_exit = True  # should it not have reached main_loop yet
        if self.serving.is_set():
            with suppress(RuntimeError):  # the loop has closed already
                self._loop.call_soon_threadsafe(self._stopping.set)


class WebServer:
    """The page, its streams and the library's `routes`, served on the `listening` socket
    (address.bind) for `server`, guarded by `access` (by default as the bound host asks)."""

    def __init__(self, listening: socket.socket, server: PerformanceServer | None, routes: Sequence[BaseRoute] = (),
                 access: Access | None = None, folders: Folders = Folders()):
        self._socket = listening
        self.access = access or Access.for_host(listening.getsockname()[0])
        self.app = create_app(server, self.access, routes, folders)
        # No access log: at 200 events a second it would be the terminal's noise, not IMPS's.
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off", ws="websockets-sansio",
                                ws_max_size=MAX_FRAME, date_header=False)
        self._uvicorn = _Server(config)
        self._thread = threading.Thread(target=self._uvicorn.run, kwargs={"sockets": [self._socket]}, name="web",
                                        daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        return self._socket.getsockname()[:2]

    def start(self) -> None:
        """Serve from now on: returns once the server is up."""
        self._thread.start()
        self._uvicorn.serving.wait(timeout=10.0)

    def stop(self) -> None:
        self._uvicorn.stop()
        self._thread.join(timeout=5.0)
        self._socket.close()
