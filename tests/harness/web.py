"""The web page's server seen from outside: a performance with imps.web on a free port,
and plain HTTP and WebSocket clients (real sockets, as a browser's)."""

from __future__ import annotations

import http.client
import json
import socket
from pathlib import Path

from imps.perform.config import ServerConfig
from imps.perform.model_choice import model_to_play
from imps.perform.server import PerformanceServer
from imps.web.runner import WebServer
from imps.web.security import Access

from . import free_udp_port


def free_tcp_port() -> int:
    """A TCP port on localhost that nothing is bound to right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
        self.web = WebServer("127.0.0.1", 0, self.server, access=access)
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
