"""The web server on a thread of the performance's process: uvicorn on its own asyncio
loop. The socket is bound here, before the thread starts, so a port in use is a one-line
error at start and a browser that connects at once waits in the listen queue."""

from __future__ import annotations

import errno
import socket
import threading
from typing import Sequence

import uvicorn
from starlette.routing import BaseRoute

from ..core.errors import WebError
from ..perform.server import PerformanceServer
from .app import MAX_FRAME, Folders, create_app
from .security import Access

class WebServer:
    def __init__(self, host: str, port: int, server: PerformanceServer | None, routes: Sequence[BaseRoute] = (),
                 access: Access | None = None, folders: Folders = Folders()):
        self.access = access or Access.for_host(host)
        self.app = create_app(server, self.access, routes, folders)
        try:
            family, kind, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
            self._socket = socket.socket(family, kind)
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._socket.bind(address)
            self._socket.listen(128)
        except OSError as error:
            if getattr(self, "_socket", None) is not None:
                self._socket.close()
            raise WebError(host, port, error.errno == errno.EADDRINUSE, error.strerror or str(error)) from None
        # No access log: at 200 events a second it would be the terminal's noise, not IMPS's.
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off", ws="websockets-sansio",
                                ws_max_size=MAX_FRAME)
        self._uvicorn = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._uvicorn.run, kwargs={"sockets": [self._socket]}, name="web",
                                        daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        return self._socket.getsockname()[:2]

    def url(self) -> str:
        """The page's URL, with the token when one is needed, as the musician opens it."""
        host, port = self.address
        if host in ("0.0.0.0", "::"):
            host = socket.gethostname()  # reachable from the network, unlike 0.0.0.0
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}/" + (f"?token={self.access.token}" if self.access.token else "")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._uvicorn.should_exit = True
        self._thread.join(timeout=5.0)
        self._socket.close()
