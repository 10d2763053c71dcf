"""Running the API with uvicorn on a socket we bind ourselves.

Binding first turns "address in use" and similar into a one-line error before anything else
starts, and lets a caller (tests, scripts) bind port 0 and learn the port it got.
"""

from __future__ import annotations

import socket
import ssl
import sys
from collections.abc import Callable
from pathlib import Path

import uvicorn

from cloud.api import create_app
from core.errors import OutpostError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8750
SHUTDOWN_TIMEOUT = 10  # seconds; a TLS client that vanished would otherwise hold a stop ~30 s
# How long a thread holding the GIL keeps it when another asks: Python's default is 5 ms. A
# tenant's writer gives the GIL up around every SQLite statement of a batch and then waits to
# take it back while a request thread reads the next batch in Python; at 0.5 ms a push of
# 100,000 objects kept its writer busy 1.36 times its CPU time instead of 1.43 (own time 1.86 s
# against 2.03, medians of 6 interleaved runs; 8 more: 1.77 against 1.84 s, the whole program
# 2.07 against 2.23; docs/performance.md).
SWITCH_INTERVAL = 0.0005


class ListenError(OutpostError):
    code = "cannot_listen"


def bind(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> socket.socket:
    """A listening TCP socket on host:port (IPv4 or IPv6, whichever the host is)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        # The protocol must be IPPROTO_TCP, not 0: asyncio only turns Nagle off (TCP_NODELAY)
        # on sockets that say so, and with Nagle on, keep-alive replies wait ~40 ms for ACKs.
        sock = socket.socket(family, kind, proto or socket.IPPROTO_TCP)
    except OSError as exc:
        raise ListenError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise ListenError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def make_server(
    data_dir: Path, *, ssl_certfile: str | None = None, ssl_keyfile: str | None = None,
    log_level: str = "info", access_log: bool = True, shutdown_timeout: int = SHUTDOWN_TIMEOUT,
) -> uvicorn.Server:
    """A uvicorn server for the API over `data_dir`; run it with `.run(sockets=[bind(...)])`."""
    config = uvicorn.Config(
        create_app(data_dir), log_level=log_level, access_log=access_log,
        ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile, server_header=False,
        proxy_headers=True, forwarded_allow_ips="127.0.0.1",
        timeout_graceful_shutdown=shutdown_timeout,
    )
    return uvicorn.Server(config)


def serve(
    data_dir: Path, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
    ssl_certfile: str | None = None, ssl_keyfile: str | None = None, log_level: str = "info",
    shutdown_timeout: int = SHUTDOWN_TIMEOUT, announce: Callable[[str], None] | None = None,
) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM stop it cleanly); `announce` is told the
    base URL once the port is bound."""
    server = make_server(data_dir, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile,
                         log_level=log_level, shutdown_timeout=shutdown_timeout)
    if ssl_certfile:
        try:
            server.config.load()  # a bad certificate or key fails here, before binding
        except ssl.SSLError as exc:
            raise ListenError(f"cannot use the TLS certificate {ssl_certfile} and key "
                              f"{ssl_keyfile}: {exc.reason or exc}") from None
    sock = bind(host, port)
    sys.setswitchinterval(SWITCH_INTERVAL)  # this process is the server's: set it for all
    if announce is not None:
        bound = sock.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        announce(f"{'https' if ssl_certfile else 'http'}://{shown}:{bound}")
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
