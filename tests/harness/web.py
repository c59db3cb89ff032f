"""The web page's server seen from outside: a performance with imps.web on a free port,
and plain HTTP and WebSocket clients (real sockets, as a browser's)."""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import threading
from pathlib import Path

from imps.perform.config import ServerConfig
from imps.perform.model_choice import model_to_play
from imps.perform.server import PerformanceServer
from imps.web.address import bind
from imps.web.runner import WebServer
from imps.web.security import Access

from . import ServerProcess, free_udp_port


def free_tcp_port() -> int:
    """A TCP port on localhost that nothing is bound to right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def script_with_web(cwd: Path, synth_port: int) -> tuple[ServerProcess, int]:
    """predictive_music_model.py in polyphony, 3-d, playing to `synth_port`, with its web page
    on a free port of 127.0.0.1 (keys off: no terminal here); the process and that port."""
    port = free_tcp_port()
    server = ServerProcess("-d", "3", "--polyphony", "--nokeys", "--serverport", str(free_udp_port()),
                           "--clientport", str(synth_port), "--web", str(port), cwd=cwd)
    return server, port


class WebStage:
    """A PerformanceServer (the default model, playing to `synth_port`) with its web page
    on a free port of 127.0.0.1; `access` as the page is to be guarded."""

    def __init__(self, synth_port: int, dimension: int = 3, mode: str = "polyphony", access: Access | None = None,
                 logs_dir: Path | None = None, report=lambda line: None):
        self.osc_port = free_udp_port()
        config = ServerConfig(dimension, mode, server_ip="127.0.0.1", server_port=self.osc_port,
                              client_ip="127.0.0.1", client_port=synth_port, logs_dir=logs_dir)
        self.server = PerformanceServer(config, model_to_play(config).predictor, report=report)
        self.server.start()
        self.web = WebServer(bind("127.0.0.1", 0), self.server, access=access)
        self.web.start()
        self.port = self.web.address[1]
        self.http = f"http://127.0.0.1:{self.port}"
        self.ws = f"ws://127.0.0.1:{self.port}"

    def request(self, method: str, path: str, body: object = None, headers: dict[str, str] | None = None
                ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request on a fresh connection: status, headers (lower-case names), body."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            data = json.dumps(body).encode() if body is not None else None
            connection.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def csrf(self, headers: dict[str, str] | None = None) -> str:
        status, _, body = self.request("GET", "/api/session", headers=headers)
        assert status == 200, body
        return json.loads(body)["csrf"]

    def stop(self) -> None:
        self.web.stop()
        self.server.stop()


class Watcher:
    """A page watching the stream /ws/watch of the web page on 127.0.0.1:`port`, as a
    browser tab does (its own Origin, no token on this machine): on a thread of its own,
    every message read and discarded; `received` counts them. The server may stop first
    (the stream then ends quietly); `stop` ends it otherwise."""

    def __init__(self, port: int, timeout: float = 10):
        self.url = f"ws://127.0.0.1:{port}/ws/watch"
        self.origin = f"http://127.0.0.1:{port}"
        self.received = 0
        self.error: BaseException | None = None
        self._connected = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._stopping: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._watch(),), daemon=True)
        self._thread.start()
        if not self._connected.wait(timeout) or self.error is not None:
            self.stop()
            raise RuntimeError(f"no page could watch {self.url}: {self.error!r}")

    async def _watch(self) -> None:
        import websockets
        self._stopping = asyncio.Event()
        try:
            async with websockets.connect(self.url, origin=self.origin, max_size=None) as page:
                self._connected.set()
                reading = asyncio.ensure_future(self._read(page))
                stopping = asyncio.ensure_future(self._stopping.wait())
                await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
                reading.cancel()
                stopping.cancel()
        except Exception as error:  # noqa: BLE001  (reported by the constructor, or left in `error`)
            self.error = error
        finally:
            self._connected.set()

    async def _read(self, page) -> None:
        from websockets.exceptions import ConnectionClosed
        try:
            while True:
                await page.recv()
                self.received += 1
        except ConnectionClosed:
            pass  # the server stopped

    def stop(self) -> int:
        """End the watch (if the server has not) and return how many messages came."""
        if self._thread.is_alive():
            if self._stopping is not None:
                self._loop.call_soon_threadsafe(self._stopping.set)
            self._thread.join(10)
        if not self._thread.is_alive():
            self._loop.close()
        return self.received

    def __enter__(self) -> Watcher:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


WEB_MODES = ("off", "closed", "open")


class Page:
    """The web page during one server's measurement, as `mode` says: "off", no --web (the
    figures as they have always been); "closed", --web 127.0.0.1:<a free port> and no page
    open; "open", that and a Watcher on the stream from `open` (once the server is ready)
    to `close` (once it has stopped, so a stop is measured with the page still watching)."""

    def __init__(self, mode: str = "off"):
        if mode not in WEB_MODES:
            raise ValueError(f"the web page is one of {WEB_MODES}, not {mode!r}")
        self.mode = mode
        self.port = free_tcp_port() if mode != "off" else None
        self.watcher: Watcher | None = None
        self.received = 0

    @property
    def flags(self) -> tuple[str, ...]:
        return ("--web", f"127.0.0.1:{self.port}") if self.port else ()

    def open(self) -> None:
        if self.mode == "open" and self.watcher is None:
            self.watcher = Watcher(self.port)

    def close(self) -> int:
        """Stop watching; the messages the watcher received (0 unless open)."""
        if self.watcher is not None:
            self.received += self.watcher.stop()
            self.watcher = None
        return self.received
