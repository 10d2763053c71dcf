"""The session to the cloud: plain http only where it is safe, proxies, TLS verification on."""

from __future__ import annotations

import ssl

import pytest

from daemon.sync.transport import InsecureURL, check_url, make_session


def test_plain_http_is_refused_except_on_loopback_or_when_allowed() -> None:
    check_url("http://127.0.0.1:8000", allow_http=False)
    check_url("http://localhost:8000", allow_http=False)
    check_url("https://cloud.example.com", allow_http=False)
    check_url("http://cloud.example.com", allow_http=True)
    with pytest.raises(InsecureURL, match=r"refusing plain http to cloud\.example\.com"):
        check_url("http://cloud.example.com", allow_http=False)
    with pytest.raises(InsecureURL, match="not an http"):
        check_url("ftp://cloud.example.com", allow_http=True)


def test_the_configured_proxy_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://env-proxy:3128")
    s = make_session("https://cloud.example.com", proxy="http://configured:8080")
    assert s.proxies == {"http": "http://configured:8080", "https": "http://configured:8080"}


def test_the_environment_proxy_is_read_once_and_no_proxy_holds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://env-proxy:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example.com")
    s = make_session("https://cloud.example.com")
    assert s.proxies["https"] == "http://env-proxy:3128"
    assert not s.trust_env  # not looked up again on every call
    assert make_session("https://sync.internal.example.com").proxies == {}


def test_tls_is_verified_against_the_system_store() -> None:
    s = make_session("https://cloud.example.com")
    adapter = s.get_adapter("https://cloud.example.com")
    ctx = adapter.poolmanager.connection_pool_kw["ssl_context"]
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    assert ctx.check_hostname
