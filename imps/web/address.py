"""Where the web page listens: its socket, bound before anything of the web stack is
imported, and the URL a musician opens. The performance says it is ready as soon as its
own sockets are; the web server (runner.py) is loaded after that and starts serving this
socket, and a browser that connects meanwhile waits in the listen queue."""

from __future__ import annotations

import errno
import socket

from ..core.errors import WebError

BACKLOG = 128  # connections that may wait to be served


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port; a port in use is WebError, one line."""
    listening = None
    try:
        family, kind, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        listening = socket.socket(family, kind)
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind(address)
        listening.listen(BACKLOG)
        return listening
    except OSError as error:
        if listening is not None:
            listening.close()
        raise WebError(host, port, error.errno == errno.EADDRINUSE, error.strerror or str(error)) from None


def page_url(listening: socket.socket, token: str | None) -> str:
    """The page's URL, with the token when one is needed, as the musician opens it."""
    host, port = listening.getsockname()[:2]
    if host in ("0.0.0.0", "::"):
        host = socket.gethostname()  # reachable from the network, unlike 0.0.0.0
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/" + (f"?token={token}" if token else "")
