"""The HTTP session to the cloud: timeouts on every call, retries with backoff, TLS from the
operating system's trust store (so corporate proxies with their own CA work), an optional proxy.

Every sync call is idempotent by design (a pull re-reads from a cursor; a push carries its
batch id), so POSTs are retried too.
"""

from __future__ import annotations

import ipaddress
import ssl
from typing import Any
from urllib.parse import urlsplit

import requests
import truststore
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from core.errors import OutpostError

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 60.0


class InsecureURL(OutpostError):
    code = "insecure_url"


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, *, allow_http: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InsecureURL(f"the cloud URL {url!r} is not an http(s) URL")
    if parts.scheme == "http" and not (allow_http or is_loopback(url)):
        raise InsecureURL(
            f"refusing plain http to {parts.hostname}: use https, or set allow_http true"
        )


class _TrustStoreAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        ctx = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        kwargs["ssl_context"] = ctx
        super().init_poolmanager(*args, **kwargs)


def make_session(url: str, *, proxy: str = "", retries: int = 3) -> requests.Session:
    """A session for the cloud at `url`. The proxy is the configured one, else the one the
    environment (HTTPS_PROXY, NO_PROXY...) names for `url`, looked up once here: requests would
    otherwise read the environment again on every call."""
    s = requests.Session()
    s.trust_env = False
    if not proxy:
        env = requests.utils.get_environ_proxies(url)
        scheme = urlsplit(url).scheme
        proxy = env.get(scheme) or env.get("all") or ""
    retry = Retry(
        total=retries, connect=retries, read=1, status=retries, backoff_factor=0.3,
        backoff_jitter=0.3, status_forcelist=(502, 503, 504), allowed_methods=None,
        raise_on_status=False, respect_retry_after_header=True,
    )
    s.mount("https://", _TrustStoreAdapter(max_retries=retry))
    s.mount("http://", HTTPAdapter(max_retries=retry))
    if proxy:
        s.proxies = {"http": proxy, "https": proxy}
    s.headers["User-Agent"] = "outpost-workstation"
    return s
