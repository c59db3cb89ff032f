"""Who may use the page (imps.web.security), through real sockets: no token, a wrong
token, the token in the URL then the cookie, a foreign Origin, a POST without the CSRF
token, and a flood of WebSocket connections while the performance plays on."""

from __future__ import annotations

import asyncio
import socket

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from harness import message
from harness.web import WebStage
from imps.web.hub import MAX_CLIENTS
from imps.web.security import COOKIE, TOKEN_ENVIRONMENT, Access, same_origin

TOKEN = "a-token-for-the-tests"


@pytest.fixture
def guarded(osc_receiver):
    stage = WebStage(osc_receiver.port, access=Access(TOKEN, "the-csrf-token"))
    yield stage
    stage.stop()


@pytest.fixture
def open_stage(osc_receiver):
    stage = WebStage(osc_receiver.port)
    yield stage
    stage.stop()


def test_no_token_is_needed_on_loopback_and_one_is_made_beyond_it():
    assert Access.for_host("127.0.0.1", {}).token is None
    assert Access.for_host("::1", {}).token is None
    made = Access.for_host("0.0.0.0", {})
    assert made.token and len(made.token) >= 32 and Access.for_host("0.0.0.0", {}).token != made.token
    assert Access.for_host("0.0.0.0", {TOKEN_ENVIRONMENT: "mine"}).token == "mine"
    assert Access.for_host("127.0.0.1", {TOKEN_ENVIRONMENT: "mine"}).token == "mine"  # asked for, so kept


def test_the_origin_must_be_the_pages_own_when_there_is_one():
    assert same_origin({"host": "pi.local:8000"})  # not a browser: nothing to trick
    assert same_origin({"host": "pi.local:8000", "origin": "http://pi.local:8000"})
    assert not same_origin({"host": "pi.local:8000", "origin": "http://evil.example"})
    assert not same_origin({"host": "pi.local:8000", "origin": "null"})
    assert not same_origin({"origin": "http://pi.local:8000"})


def test_on_loopback_the_page_opens_without_a_token(open_stage):
    status, _, body = open_stage.request("GET", "/")
    assert status == 200 and b"<title>IMPS</title>" in body


@pytest.mark.parametrize("path", ["/", "/api/session", "/static/app.js", "/no/such/page"])
@pytest.mark.parametrize("token", [None, "wrong", TOKEN[:-1], TOKEN + "x"])
def test_without_the_right_token_every_route_answers_401(guarded, path, token):
    query = f"?token={token}" if token else ""
    status, headers, body = guarded.request("GET", path + query)
    assert status == 401 and b"token" in body
    assert "set-cookie" not in headers
    status, _, _ = guarded.request("GET", path, headers={"Cookie": f"{COOKIE}={token or ''}"})
    assert status == 401


def test_the_token_in_the_url_sets_an_httponly_cookie_that_lets_the_browser_in(guarded):
    status, headers, _ = guarded.request("GET", f"/?token={TOKEN}")
    assert status == 200
    cookie = headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={TOKEN};") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    status, _, _ = guarded.request("GET", "/api/session", headers={"Cookie": f"{COOKIE}={TOKEN}"})
    assert status == 200


def test_websockets_need_the_token_and_the_pages_origin(guarded):
    async def status_of(path: str, **options) -> int:
        try:
            async with websockets.connect(guarded.ws + path, open_timeout=5, **options):
                return 101
        except InvalidStatus as refused:
            return refused.response.status_code

    async def check():
        cookie = {"additional_headers": {"Cookie": f"{COOKIE}={TOKEN}"}}
        for path in ("/ws/watch", "/ws/osc"):
            assert await status_of(path) == 403  # refused before the handshake: 403, as uvicorn answers
            assert await status_of(path + "?token=wrong") == 403
            assert await status_of(path, **cookie) == 101
            assert await status_of(path + f"?token={TOKEN}") == 101
            assert await status_of(path, origin="http://evil.example", **cookie) == 403
            assert await status_of(path, origin=f"http://127.0.0.1:{guarded.port}", **cookie) == 101
    asyncio.run(check())


def test_a_post_needs_the_csrf_token_and_the_pages_origin(guarded):
    cookie = {"Cookie": f"{COOKIE}={TOKEN}"}
    csrf = guarded.csrf(cookie)
    body = {"args": [2]}
    forged = [
        {**cookie},  # a form on another site posting with the musician's cookie, but no CSRF token
        {**cookie, "X-CSRF-Token": "guessed"},
        {**cookie, "X-CSRF-Token": csrf, "Origin": "http://evil.example"},
    ]
    for headers in forged:
        status, _, answer = guarded.request("POST", "/api/command/timescale", body, headers)
        assert status == 403, answer
    assert guarded.server.performance.timescale == 1.0
    status, _, _ = guarded.request("POST", "/api/command/timescale", body, {"X-CSRF-Token": csrf})
    assert status == 401  # the CSRF token alone is not the token
    status, _, _ = guarded.request("POST", "/api/command/timescale", body,
                                   {**cookie, "X-CSRF-Token": csrf, "Origin": f"http://127.0.0.1:{guarded.port}"})
    assert status == 200 and guarded.server.performance.timescale == 2.0


def test_on_loopback_a_post_still_needs_the_csrf_token(open_stage):
    status, _, _ = open_stage.request("POST", "/api/command/reset", {"args": []})
    assert status == 403
    status, _, _ = open_stage.request("POST", "/api/command/reset", {"args": []}, {"X-CSRF-Token": open_stage.csrf()})
    assert status == 200


def test_a_flood_of_websocket_connections_leaves_the_server_up_and_playing(open_stage, osc_receiver):
    async def flood():
        async def one(path):
            try:
                return await websockets.connect(open_stage.ws + path, open_timeout=10)
            except (InvalidStatus, OSError, asyncio.TimeoutError):
                return None
        opened = await asyncio.gather(*(one("/ws/osc" if i % 2 else "/ws/watch") for i in range(300)))
        held = [connection for connection in opened if connection is not None]
        # While they are held the performance plays on: a UDP /interface is answered.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as patch:
            patch.sendto(message("/interface", ("f", 0.5), ("f", 0.5)), ("127.0.0.1", open_stage.osc_port))
        assert osc_receiver.wait_for(1)
        await asyncio.gather(*(connection.close() for connection in held))
        return len(held)

    held = asyncio.run(flood())
    assert 0 < held <= MAX_CLIENTS  # the rest were refused, not queued
    status, _, _ = open_stage.request("GET", "/api/session")
    assert status == 200

    async def afterwards():
        async with websockets.connect(open_stage.ws + "/ws/osc") as instrument:
            await instrument.send(message("/interface", ("f", 0.2), ("f", 0.8)))
            return await asyncio.wait_for(instrument.recv(), 5)
    assert asyncio.run(afterwards()).startswith(b"/prediction\x00")
