"""The cloud's sync API as Python calls; HTTP failures become the errors in sync/errors.py."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import requests

from core import wire
from core.version import __version__
from daemon.sync import errors
from daemon.sync.transport import CONNECT_TIMEOUT, READ_TIMEOUT, check_url, make_session


class CloudClient:
    def __init__(
        self, cloud_url: str, tenant: str, *, token: str | None = None, proxy: str = "",
        allow_http: bool = False, retries: int = 3, read_timeout: float = READ_TIMEOUT,
    ) -> None:
        check_url(cloud_url, allow_http=allow_http)
        self.root = cloud_url.rstrip("/") + "/api/v1"
        self.base = f"{self.root}/tenants/{tenant}/sync"
        self.token = token
        self.read_timeout = read_timeout
        self.session = make_session(cloud_url, proxy=proxy, retries=retries)

    def close(self) -> None:
        self.session.close()

    # -- calls -------------------------------------------------------------------------------

    def health(self, *, timeout: float = 3.0) -> dict[str, Any]:
        data: dict[str, Any] = self._call("GET", f"{self.root}/health", timeout=timeout, auth=False)
        return data

    def login(self, workstation: str, login: str, password: str, binding: str) -> str:
        data = self._call(
            "POST", f"{self.base}/login", body={"workstation": workstation, "binding": binding},
            basic=(login, password), auth=False,
        )
        return str(data["token"])

    def whoami(self) -> dict[str, Any]:
        data: dict[str, Any] = self._call("GET", f"{self.base}/whoami")
        return data

    def pull(self, cursor: int, limit: int, *, confirmed: int | None = None) -> dict[str, Any]:
        body = {"cursor": cursor, "limit": limit}
        if confirmed is not None:
            body["confirmed"] = confirmed
        data: dict[str, Any] = self._call("POST", f"{self.base}/pull", body=body)
        return data

    def push(self, batch: str, cursor: int, changes: str, *, after: str | None = None,
             ) -> dict[str, Any]:
        """Send a batch; `changes` is its JSON array as the outbox keeps it. `after` names a
        batch sent before this one and not answered yet: the cloud applies this one after it."""
        body = {"batch": batch, "cursor": cursor, "changes": orjson.Fragment(changes),
                "compact": True}  # applied objects answered as two arrays (docs/protocol.md)
        headers = {wire.BATCH_HEADER: batch}  # the cloud reads them before the body
        if after is not None:
            body["after"] = after
            headers[wire.AFTER_HEADER] = after
        data: dict[str, Any] = self._call("POST", f"{self.base}/push", body=body,
                                          headers=headers)
        return data

    def wait(self, cursor: int, timeout: float) -> dict[str, Any]:
        """Long-poll: returns when there is something after `cursor` for us, or at `timeout`."""
        data: dict[str, Any] = self._call(
            "GET", f"{self.base}/wait", params={"cursor": cursor, "timeout": timeout},
            timeout=timeout + 10,
        )
        return data

    def snapshot(self, dest: Path) -> int:
        """Download a fresh copy of this workstation's infobase into `dest`; its cursor."""
        tmp = dest.with_name(dest.name + ".part")
        try:
            with self._send("GET", f"{self.base}/snapshot", stream=True) as resp:
                self._raise_for(resp)
                cursor = int(resp.headers.get("X-Outpost-Cursor", "-1"))
                with open(tmp, "wb") as f:
                    for chunk in resp.iter_content(1 << 20):
                        f.write(chunk)
            if cursor < 0:
                raise errors.CloudRefused("the cloud's snapshot carries no cursor")
            os.replace(tmp, dest)
            return cursor
        finally:
            tmp.unlink(missing_ok=True)

    # -- plumbing ----------------------------------------------------------------------------

    def _call(
        self, method: str, url: str, *, body: Any = None, params: dict[str, Any] | None = None,
        timeout: float | None = None, auth: bool = True, basic: tuple[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        resp = self._send(method, url, body=body, params=params, timeout=timeout, auth=auth,
                          basic=basic, headers=headers)
        self._raise_for(resp)
        return wire.decode(resp.content, resp.headers.get("Content-Type"))

    def _send(
        self, method: str, url: str, *, body: Any = None, params: dict[str, Any] | None = None,
        timeout: float | None = None, auth: bool = True, basic: tuple[str, str] | None = None,
        stream: bool = False, headers: dict[str, str] | None = None,
    ) -> requests.Response:
        headers = {**(headers or {}), "Accept": f"{wire.ZSTD_JSON}, {wire.JSON}",
                   "X-Outpost-Version": __version__}
        data = None
        if body is not None:
            data, headers["Content-Type"] = wire.encode(body)
        if auth:
            if not self.token:
                raise errors.NotLoggedIn("not signed in: run `outpost login` first")
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            return self.session.request(
                method, url, data=data, params=params, headers=headers, auth=basic,
                timeout=(CONNECT_TIMEOUT, timeout or self.read_timeout), stream=stream,
            )
        except requests.exceptions.SSLError as exc:
            raise errors.SyncError(f"TLS verification of the cloud failed: {_short(exc)}") from None
        except requests.exceptions.ProxyError as exc:
            raise errors.Offline(f"the proxy refused the connection: {_short(exc)}") from None
        except requests.exceptions.Timeout:
            raise errors.Offline(f"the cloud at {_host(url)} did not answer in time") from None
        except requests.exceptions.ConnectionError as exc:
            why = _cause(exc)
            raise errors.Offline(f"cannot reach the cloud at {_host(url)} ({why})") from None
        except requests.exceptions.RequestException as exc:
            raise errors.Offline(f"cannot talk to the cloud: {_short(exc)}") from None

    @staticmethod
    def _raise_for(resp: requests.Response) -> None:
        if resp.status_code < 400:
            return
        code, message = "error", f"the cloud answered HTTP {resp.status_code}"
        try:
            data = wire.decode(resp.content, resp.headers.get("Content-Type"))
            code = str(data.get("error", code))
            message = str(data.get("message", message))
        except Exception:
            pass
        if resp.status_code == 401:
            raise errors.AuthFailed(message)
        if code == "revoked":
            raise errors.Revoked(message)
        if code in ("restored", "behind_horizon"):
            raise errors.MustRefresh(message)
        if code == "out_of_order":
            raise errors.OutOfOrder(message)
        if resp.status_code >= 500 or resp.status_code in (408, 429):
            raise errors.Offline(f"the cloud is unavailable: {message}")
        raise errors.CloudRefused(message)


def _host(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc or url


def _cause(exc: BaseException) -> str:
    """The root cause of a connection failure, in a few words."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        if isinstance(seen, socket.gaierror):
            return "name not found"
        if isinstance(seen, TimeoutError):
            return "timed out"
        if isinstance(seen, OSError) and seen.strerror:
            return seen.strerror.lower()
        nxt = seen.__cause__ or seen.__context__
        if nxt is None:
            for arg in getattr(seen, "args", ()):
                if isinstance(arg, BaseException):
                    nxt = arg
                    break
        if nxt is None and hasattr(seen, "reason") and isinstance(seen.reason, BaseException):
            nxt = seen.reason
        seen = nxt
    text = str(exc)
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "getaddrinfo" in text:
        return "name not found"
    return "no connection"


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) < 160 else text[:157] + "..."
