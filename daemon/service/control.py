"""The local control channel: how `outpost status|sync|stop|config` and the tray drive the engine.

A TCP socket on 127.0.0.1 (a random port; the same code on Linux, macOS and Windows) speaking one
JSON object per line each way:

    -> {"secret": "...", "op": "status", "args": {...}}
    <- {"ok": true, "result": ...}   or   {"ok": false, "error": "<code>", "message": "..."}

The port and a random secret are written to HOME/state/control.json, readable by its owner only
(mode 0600); a request without the secret is refused, so other users of the computer cannot
drive the daemon. Each connection is served on its own short-lived thread: `status` answers
from the engine's memory and never waits behind a sync in progress.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import secrets
import socket
import threading
from pathlib import Path
from typing import Any, Protocol

import orjson

from core.errors import OutpostError
from daemon.home import Home

log = logging.getLogger("outpost.daemon.control")
MAX_LINE = 64 << 20
READ_TIMEOUT = 10.0


class DaemonNotRunning(OutpostError):
    code = "not_running"


class ControlError(OutpostError):
    """An error the daemon answered; `code` is the daemon-side error's code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Controller(Protocol):
    """What the control channel serves; the engine implements it, and so does ControlClient,
    so the tray and the CLI drive either one the same way."""

    def status(self, since: int | None = None, wait: float = 0.0) -> dict[str, Any]: ...

    def sync_now(self, wait: bool = True, trigger: str = "now") -> dict[str, Any] | None: ...

    def stop(self) -> None: ...

    def set_config(self, key: str, value: str) -> dict[str, Any]: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def credentials_changed(self) -> None: ...

    def conflicts(self) -> dict[str, Any]: ...


def control_file(home: Home) -> Path:
    return home.state / "control.json"


def read_control_file(home: Home) -> dict[str, Any] | None:
    try:
        data = orjson.loads(control_file(home).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(data, dict) or "port" not in data or "secret" not in data:
        return None
    return data


def write_private(path: Path, data: bytes) -> None:
    """Write a file only its owner can read, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


# -- server ----------------------------------------------------------------------------------


class ControlServer:
    def __init__(self, target: Controller, home: Home) -> None:
        self.target = target
        self.home = home
        self.secret = secrets.token_urlsafe(32)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])
        self._closing = False
        self._thread = threading.Thread(target=self._accept, name="outpost-control",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()
        write_private(control_file(self.home), orjson.dumps(
            {"port": self.port, "secret": self.secret, "pid": os.getpid()}))
        log.info("control channel on 127.0.0.1:%d", self.port)

    def close(self) -> None:
        self._closing = True
        with contextlib.suppress(OSError):  # wake the blocked accept()
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        self._thread.join(2)
        with contextlib.suppress(OSError):
            self.sock.close()
        info = read_control_file(self.home)
        if info and info.get("secret") == self.secret:
            with contextlib.suppress(OSError):
                control_file(self.home).unlink()

    def _accept(self) -> None:
        while not self._closing:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                if self._closing:
                    return
                continue
            if self._closing:
                conn.close()
                return
            threading.Thread(target=self._serve, args=(conn,), name="outpost-control-conn",
                             daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.settimeout(READ_TIMEOUT)
                line = _read_line(conn)
                conn.settimeout(None)
                answer = self._answer(line)
            except (OSError, ValueError) as exc:
                log.debug("control connection dropped: %s", exc)
                return
            with contextlib.suppress(OSError):
                conn.sendall(orjson.dumps(answer) + b"\n")

    def _answer(self, line: bytes) -> dict[str, Any]:
        try:
            req = orjson.loads(line)
        except orjson.JSONDecodeError:
            return {"ok": False, "error": "bad_request", "message": "not a JSON request"}
        if not isinstance(req, dict):
            return {"ok": False, "error": "bad_request", "message": "not a JSON object"}
        given = req.get("secret")
        if not isinstance(given, str) or not hmac.compare_digest(given, self.secret):
            return {"ok": False, "error": "forbidden", "message": "wrong control secret"}
        op, args = req.get("op"), req.get("args") or {}
        if not isinstance(args, dict):
            return {"ok": False, "error": "bad_request", "message": "args must be an object"}
        try:
            return {"ok": True, "result": self._dispatch(str(op), args)}
        except OutpostError as exc:
            return {"ok": False, "error": exc.code, "message": exc.message}
        except (TypeError, ValueError) as exc:
            return {"ok": False, "error": "bad_request", "message": f"bad arguments: {exc}"}
        except Exception as exc:
            log.exception("control request %r failed", op)
            return {"ok": False, "error": "internal", "message": f"the daemon failed: {exc}"}

    def _dispatch(self, op: str, args: dict[str, Any]) -> Any:
        t = self.target
        if op == "ping":
            return {"pid": os.getpid()}
        if op == "status":
            since = args.get("since")
            return t.status(int(since) if since is not None else None,
                            min(float(args.get("wait", 0)), 300.0))
        if op == "sync":
            return t.sync_now(bool(args.get("wait", True)), str(args.get("trigger", "now")))
        if op == "stop":
            t.stop()
            return {"pid": os.getpid()}
        if op == "config_set":
            return t.set_config(str(args["key"]), str(args["value"]))
        if op == "pause":
            t.pause()
            return None
        if op == "resume":
            t.resume()
            return None
        if op == "credentials":
            t.credentials_changed()
            return None
        if op == "conflicts":
            return t.conflicts()
        raise ControlError("bad_request", f"unknown operation {op!r}")


def _read_line(conn: socket.socket) -> bytes:
    buf = bytearray()
    while not buf.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        buf += chunk
        if len(buf) > MAX_LINE:
            raise ValueError("request too long")
    if not buf:
        raise ValueError("empty request")
    return bytes(buf)


# -- client ----------------------------------------------------------------------------------


class ControlClient:
    """Talks to the running daemon of `home`; the same methods as the engine (Controller)."""

    def __init__(self, home: Home, *, connect_timeout: float = 3.0) -> None:
        self.home = home
        self.connect_timeout = connect_timeout

    def call(self, op: str, args: dict[str, Any] | None = None, *,
             timeout: float | None = 30.0) -> Any:
        info = read_control_file(self.home)
        if info is None:
            raise DaemonNotRunning(f"the Outpost daemon is not running for {self.home.root}")
        try:
            sock = socket.create_connection(("127.0.0.1", int(info["port"])),
                                            timeout=self.connect_timeout)
        except OSError:
            raise DaemonNotRunning("the Outpost daemon does not answer") from None
        with sock:
            sock.settimeout(timeout)
            try:
                sock.sendall(orjson.dumps({"secret": info["secret"], "op": op,
                                           "args": args or {}}) + b"\n")
                line = _read_line(sock)
            except TimeoutError:
                raise ControlError("timeout", "the Outpost daemon did not answer in time") from None
            except (OSError, ValueError) as exc:
                raise DaemonNotRunning(f"the Outpost daemon closed the connection ({exc})") \
                    from None
        try:
            answer = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise ControlError("bad_answer", "the Outpost daemon answered garbage") from None
        if not isinstance(answer, dict) or not answer.get("ok"):
            answer = answer if isinstance(answer, dict) else {}
            raise ControlError(str(answer.get("error", "error")),
                               str(answer.get("message", "the daemon refused the request")))
        return answer.get("result")

    # The Controller methods.

    def ping(self) -> dict[str, Any]:
        result: dict[str, Any] = self.call("ping", timeout=5)
        return result

    def status(self, since: int | None = None, wait: float = 0.0) -> dict[str, Any]:
        result: dict[str, Any] = self.call("status", {"since": since, "wait": wait},
                                           timeout=wait + 15)
        return result

    def sync_now(self, wait: bool = True, trigger: str = "now") -> dict[str, Any] | None:
        result: dict[str, Any] | None = self.call(
            "sync", {"wait": wait, "trigger": trigger}, timeout=None if wait else 15)
        return result

    def stop(self) -> None:
        self.call("stop", timeout=15)

    def set_config(self, key: str, value: str) -> dict[str, Any]:
        result: dict[str, Any] = self.call("config_set", {"key": key, "value": value})
        return result

    def pause(self) -> None:
        self.call("pause")

    def resume(self) -> None:
        self.call("resume")

    def credentials_changed(self) -> None:
        self.call("credentials")

    def conflicts(self) -> dict[str, Any]:
        result: dict[str, Any] = self.call("conflicts", timeout=60)
        return result
