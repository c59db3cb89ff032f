"""Who may use the page: a token beyond this machine, a CSRF token on every change, and
the Origin checked wherever a browser could be tricked into acting for another site.

On 127.0.0.1 (and ::1) the page needs no token: only this machine's users reach it. Bound
to any other address it needs the token, given once in the URL (?token=...), from then on
kept in an HttpOnly cookie that the page's scripts cannot read. Every POST, and every
WebSocket, is checked for a foreign Origin; every POST must carry the CSRF token in the
X-CSRF-Token header, which only a page served by IMPS can read (GET /api/session).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..perform.osc import is_loopback

TOKEN_ENVIRONMENT = "IMPS_WEB_TOKEN"  # predictive_music_model.py names it too, for --help
COOKIE = "imps_web_token"
CSRF_HEADER = "x-csrf-token"
CHANGES = {"POST", "PUT", "PATCH", "DELETE"}  # the page only POSTs; the others are refused the same way


@dataclass(frozen=True)
class Access:
    """The token (None: none is needed) and the CSRF token, made once per process."""
    token: str | None
    csrf: str

    @classmethod
    def for_host(cls, host: str, environ: dict[str, str] = os.environ) -> Access:
        """A token from IMPS_WEB_TOKEN, or a new random one when bound beyond this machine."""
        token = environ.get(TOKEN_ENVIRONMENT) or (None if is_loopback(host) else secrets.token_urlsafe(24))
        key = (token or secrets.token_urlsafe(24)).encode()
        return cls(token, hmac.new(key, b"imps csrf", hashlib.sha256).hexdigest())

    def admits(self, given: str | None) -> bool:
        return self.token is None or (given is not None and hmac.compare_digest(given.encode(), self.token.encode()))

    def csrf_ok(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.csrf.encode())


def _headers(scope: Scope) -> dict[str, str]:
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}


def same_origin(headers: dict[str, str]) -> bool:
    """Whether a request's Origin, if it has one, is the page's own (its host and port).
    Programs that are not browsers send none, and cannot be tricked into acting for a site."""
    origin = headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == headers.get("host", "").lower() != ""


class Guard:
    """ASGI middleware in front of every route, the library's too: HTTP and WebSocket
    alike answer 401 without the token, 403 with a foreign Origin or (for a change) no
    CSRF token. A valid ?token= sets the cookie."""

    def __init__(self, app: ASGIApp, access: Access):
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = _headers(scope)
        from_url = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [None])[0]
        cookie = SimpleCookie(headers.get("cookie", ""))
        from_cookie = cookie[COOKIE].value if COOKIE in cookie else None
        admitted_by_url = from_url is not None and self.access.admits(from_url)
        if not (admitted_by_url or self.access.admits(from_cookie)):
            return await self._refuse(scope, receive, send, 401, "a token is needed: open the URL IMPS printed")
        if scope["type"] == "websocket" or scope["method"] in CHANGES:
            if not same_origin(headers):
                return await self._refuse(scope, receive, send, 403, "a page from another site may not do this")
            if scope["type"] == "http" and not self.access.csrf_ok(headers.get(CSRF_HEADER)):
                return await self._refuse(scope, receive, send, 403, "the CSRF token is missing or wrong")
        if admitted_by_url and self.access.token is not None and scope["type"] == "http":
            send = self._setting_cookie(send)
        await self.app(scope, receive, send)

    def _setting_cookie(self, send: Send) -> Send:
        cookie = f"{COOKIE}={self.access.token}; HttpOnly; SameSite=Strict; Path=/".encode("latin-1")

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie)]}
            await send(message)
        return sending

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, reason: str) -> None:
        if scope["type"] == "websocket":
            # Closed before it is accepted: the server answers the handshake with 403.
            await send({"type": "websocket.close", "code": 1008, "reason": reason})
            return
        body = (reason + "\n").encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
