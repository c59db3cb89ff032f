"""The Starlette app: the page, its state and commands, the watch stream, and OSC over
WebSocket for browser instruments; the library's routes are added beside these.

Routes of the performance (they answer 503 when the process plays nothing):
    GET  /                    the page (static/index.html)
    GET  /static/...          its scripts and styles, package data: no build step, no CDN
    GET  /api/session         the CSRF token and what the page needs to draw itself
    POST /api/command/NAME    mode, reset, pause, temperature or timescale, JSON {"args": [...]}
    WS   /ws/watch            JSON batches of events and, twice a second, the state
    WS   /ws/osc              binary OSC frames in (/interface and the commands), /prediction out
"""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..core.names import DATASETS_DIR, LOGS_DIR, MODELS_DIR
from ..perform.interaction import MODES
from ..perform.osc import PREDICTION
from ..perform.server import COMMANDS, PerformanceServer
from .hub import SHOWN_RATE, Client, Hub
from .security import Access, Guard

STATIC = Path(__file__).parent / "static"
STATE_INTERVAL = 0.5  # seconds between the state's updates to a watching page
MAX_FRAME = 64 * 1024  # bytes: an OSC packet is far smaller; a bigger frame is refused by the server


@dataclass(frozen=True)
class Folders:
    """Where the library's routes find and put files (the folders the scripts use)."""
    logs: Path = Path(LOGS_DIR)
    datasets: Path = Path(DATASETS_DIR)
    models: Path = Path(MODELS_DIR)


@dataclass
class Imps:
    """What every route reaches as request.app.state.imps."""
    server: PerformanceServer | None
    hub: Hub | None
    access: Access
    folders: Folders


def create_app(server: PerformanceServer | None, access: Access, routes: Sequence[BaseRoute] = (),
               folders: Folders = Folders()) -> Starlette:
    """The page for `server` (None: a process that plays nothing), with the library's
    `routes` added; every route behind the Guard (security.py)."""
    own = [
        Route("/", page),
        Route("/api/session", session),
        Route("/api/command/{name}", command, methods=["POST"]),
        WebSocketRoute("/ws/watch", watch),
        WebSocketRoute("/ws/osc", osc_socket),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=[*own, *routes], middleware=[Middleware(Guard, access=access)])
    app.state.imps = Imps(server, Hub(server) if server is not None else None, access, folders)
    return app


def imps_of(request: Request | WebSocket) -> Imps:
    return request.app.state.imps


async def page(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", headers={"cache-control": "no-store"})


async def session(request: Request) -> Response:
    imps = imps_of(request)
    server = imps.server
    about = {"csrf": imps.access.csrf, "playing": server is not None}
    if server is not None:
        about |= {"controls": server.config.dimension - 1, "modes": list(MODES), "shown_rate": SHOWN_RATE,
                  "model": server.performance.predictor is not None}
    return JSONResponse(about, headers={"cache-control": "no-store"})


async def command(request: Request) -> Response:
    """A command as OSC would send it, checked and counted by the same handler."""
    server = imps_of(request).server
    if server is None:
        return JSONResponse({"error": "nothing is playing"}, 503)
    address = "/" + request.path_params["name"]
    if address not in COMMANDS:
        return JSONResponse({"error": f"no command {address}"}, 404)
    try:
        body = json.loads(await request.body() or b"{}")
        args = body.get("args", []) if isinstance(body, dict) else None
    except ValueError:
        args = None
    if not isinstance(args, list):
        return JSONResponse({"error": 'expected JSON {"args": [...]}'}, 400)
    taken = await asyncio.get_running_loop().run_in_executor(None, server.command, address, tuple(args))
    return JSONResponse({"taken": taken}, 200 if taken else 400)


def state(server: PerformanceServer) -> dict:
    """What the watch view shows beside the lanes."""
    p = server.performance
    late = p.player.lateness
    return {
        "mode": p.mode, "turn": p.turn.name.lower() if p.turn is not None else None, "paused": p.paused,
        "sigma_temp": p.predictor.sigma_temp if p.predictor else None,
        "pi_temp": p.predictor.pi_temp if p.predictor else None,
        "timescale": p.timescale, "events": p.user_events, "predictions": p.predictions_sent,
        "late_ms": {"p50": late.percentile(50) * 1000, "p99": late.percentile(99) * 1000} if late.count else None,
        "refused": server.osc.reject_counts(), "log": str(server.log.path) if server.log is not None else None,
    }


async def _joined(websocket: WebSocket, wants_interface: bool) -> tuple[Hub, Client] | None:
    hub = imps_of(websocket).hub
    client = hub.join(wants_interface) if hub is not None else None
    if client is None:  # nothing plays, or too many are connected: refused before the handshake
        await websocket.close(code=1013)
        return None
    await websocket.accept()
    return hub, client


async def watch(websocket: WebSocket) -> None:
    joined = await _joined(websocket, wants_interface=True)
    if joined is None:
        return
    hub, client = joined
    sender = asyncio.create_task(_send_watch(websocket, hub, client))
    try:
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass  # the page has nothing to say here: its commands are POSTs
    finally:
        sender.cancel()
        hub.leave(client)


async def _send_watch(websocket: WebSocket, hub: Hub, client: Client) -> None:
    with _until_gone():
        await _watching(websocket, hub, client)


async def _watching(websocket: WebSocket, hub: Hub, client: Client) -> None:
    loop = asyncio.get_running_loop()
    next_state = 0.0
    while True:
        try:
            events = await asyncio.wait_for(client.take(), timeout=STATE_INTERVAL)
        except asyncio.TimeoutError:
            events = []
        message = {"now": time.monotonic(), "events": [[a == PREDICTION, t, v] for a, t, v in events],
                   "dropped": client.dropped, "unshown": hub.unshown_since(client)}
        if loop.time() >= next_state:
            message["state"] = state(hub.server)
            next_state = loop.time() + STATE_INTERVAL
        await websocket.send_text(json.dumps(message))


async def osc_socket(websocket: WebSocket) -> None:
    """A browser instrument: each binary frame is one OSC packet, handled exactly as a UDP
    datagram (OSCServer.handle); each /prediction comes back as a binary frame."""
    joined = await _joined(websocket, wants_interface=False)
    if joined is None:
        return
    hub, client = joined
    sender = asyncio.create_task(_send_predictions(websocket, client))
    peer = ("websocket", websocket.client.port if websocket.client else 0)
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("bytes")
            if data is None:
                hub.server.osc.reject("malformed packet", "a WebSocket text frame: OSC comes as binary frames")
                continue
            hub.server.osc.handle(data, peer)
    finally:
        sender.cancel()
        hub.leave(client)


async def _send_predictions(websocket: WebSocket, client: Client) -> None:
    with _until_gone():
        while True:
            for packet in await client.take():
                await websocket.send_bytes(packet)


def _until_gone() -> suppress:
    """A send to a client that has gone ends its sender quietly; the receiver sees it go."""
    return suppress(WebSocketDisconnect, RuntimeError, OSError)
