"""The outpost-cloud command line, run as a real subprocess."""

from __future__ import annotations

import datetime
import ipaddress
import json
import signal
import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cloud.registry import Registry

PW = "correct horse battery staple"
COMMANDS = [[], ["init"], ["serve"], ["seed"], ["tenant"], ["tenant", "create"],
            ["tenant", "set-tier"], ["tenant", "list"], ["user"], ["user", "add"],
            ["user", "list"], ["org"], ["org", "add"], ["org", "list"], ["workstation"],
            ["workstation", "list"], ["workstation", "revoke"]]


def test_version_and_help_everywhere(cli: Any) -> None:
    assert cli("--version", check=True).stdout.strip().startswith("outpost-cloud, version ")
    with ThreadPoolExecutor(4) as pool:
        helps = list(pool.map(lambda cmd: cli(*cmd, "--help", check=True).stdout, COMMANDS))
    for cmd, out in zip(COMMANDS, helps, strict=True):
        assert out.startswith("Usage: outpost-cloud"), cmd


def test_init_then_refuses_to_overwrite(cli: Any, one_line_error: Any, tmp_path: Path) -> None:
    data = tmp_path / "cloud"
    out = cli("init", "--data", str(data), "--url", "https://c.example", check=True).stdout
    assert "initialised" in out and "fingerprint" in out
    pem = (data / "keys" / "signing.pem").read_bytes()
    line = one_line_error(cli("init", "--data", str(data)))
    assert "refusing to overwrite" in line
    assert (data / "keys" / "signing.pem").read_bytes() == pem
    # The environment variable names the folder when --data is absent.
    env_data = tmp_path / "from-env"
    cli("init", data_dir=env_data, check=True)
    assert (env_data / "registry.db").is_file()


def test_tenants_users_orgs_seed_workstations(cli: Any, one_line_error: Any,
                                              data_dir: Path) -> None:
    t = json.loads(cli("tenant", "create", "acme", "--tier", "starter", "--json",
                       data_dir=data_dir, check=True).stdout)
    assert t["name"] == "acme" and t["seats"] == 1
    assert "extended" in cli("tenant", "set-tier", "acme", "--tier", "extended",
                             "--extra-seats", "1", data_dir=data_dir, check=True).stdout
    listed = json.loads(cli("tenant", "list", "--json", data_dir=data_dir, check=True).stdout)
    assert listed[0]["seats"] == 6 and listed[0]["in_use"] == 0

    out = cli("user", "add", "acme", "ann", "--role", "user", "--password-stdin",
              data_dir=data_dir, input=PW + "\n", check=True).stdout
    assert "ann" in out
    with Registry.open(data_dir) as reg:
        assert reg.authenticate("acme", "ann", PW).role == "user"

    org_id = cli("org", "add", "acme", "North LLC", "--tax-id", "77", data_dir=data_dir,
                 check=True).stdout.strip()
    assert str(uuid.UUID(org_id)) == org_id
    south = json.loads(cli("org", "add", "acme", "South", "--json", data_dir=data_dir,
                           check=True).stdout)
    assert south["entity"] == "organizations" and south["fields"]["name"] == "South"
    orgs = json.loads(cli("org", "list", "acme", "--json", data_dir=data_dir,
                          check=True).stdout)
    assert {o["id"] for o in orgs} == {org_id, south["id"]}

    report = json.loads(cli("seed", "acme", "--objects", "400", "--seed", "3", "--json",
                            data_dir=data_dir, check=True).stdout)
    assert report["objects"] == 400 and report["organizations_created"] == 0
    assert "seeded 50 objects" in cli("seed", "acme", "--objects", "50", data_dir=data_dir,
                                      check=True).stdout

    with Registry.open(data_dir) as reg:
        ws = reg.create_workstation("acme", "Laptop", orgs=[org_id], users=["ann"])
    listed_ws = json.loads(cli("workstation", "list", "acme", "--json", data_dir=data_dir,
                               check=True).stdout)
    assert [w["id"] for w in listed_ws] == [ws.id] and listed_ws[0]["orgs"] == [org_id]
    assert "1 of 6 in use" in cli("workstation", "list", "acme", data_dir=data_dir,
                                  check=True).stdout
    out = cli("workstation", "revoke", "acme", ws.prefix, data_dir=data_dir, check=True).stdout
    assert "revoked" in out and "0 of 6 in use" in out
    listed_ws = json.loads(cli("workstation", "list", "acme", "--json", data_dir=data_dir,
                               check=True).stdout)
    assert listed_ws[0]["revoked_at"] is not None
    assert json.loads(cli("workstation", "list", "acme", "--active", "--json",
                          data_dir=data_dir, check=True).stdout) == []


def test_errors_are_one_line(cli: Any, one_line_error: Any, data_dir: Path,
                             tmp_path: Path) -> None:
    cli("tenant", "create", "acme", "--tier", "optimal", data_dir=data_dir, check=True)
    failures = [
        (("tenant", "create", "acme", "--tier", "optimal"), "already exists", 1),
        (("tenant", "create", "Bad Name", "--tier", "optimal"), "not a valid tenant name", 1),
        (("tenant", "create", "gold", "--tier", "gold"), "'--tier'", 2),
        (("tenant", "set-tier", "nobody", "--tier", "starter"), "no tenant 'nobody'", 1),
        (("user", "add", "nobody", "ann", "--role", "user", "--password-stdin"),
         "no tenant", 1),
        (("user", "add", "acme", "ann", "--role", "root", "--password-stdin"), "'--role'", 2),
        (("user", "add", "acme", "ann", "--role", "user", "--password-stdin"),
         "password", 1),
        (("org", "add", "nobody", "X"), "no tenant", 1),
        (("seed", "nobody", "--objects", "5"), "no tenant", 1),
        (("seed", "acme", "--objects", "-5"), "--objects", 2),
        (("workstation", "list", "nobody"), "no tenant", 1),
        (("workstation", "revoke", "acme", "nothing"), "no workstation", 1),
        (("serve", "--port", "70000"), "--port", 2),
        (("frobnicate",), "No such command", 2),
    ]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda f: cli(*f[0], data_dir=data_dir, input=""), failures))
    for (args, text, code), result in zip(failures, results, strict=True):
        line = one_line_error(result, code=code)
        assert text in line, (args, line)
    line = one_line_error(cli("tenant", "list", "--data", str(tmp_path / "void")))
    assert "not an Outpost cloud data folder" in line


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_for_health(proc: Any, url: str, **kw: Any) -> requests.Response:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            return requests.get(url, timeout=2, **kw)
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"the server did not come up: {proc.communicate(timeout=5)}")


def _stop(proc: Any) -> str:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    # uvicorn shuts down gracefully, then re-raises the signal so the exit status tells why.
    assert proc.returncode in (0, -signal.SIGTERM), err
    assert "Traceback" not in err
    return str(err)


def test_serve_runs_the_api_and_stops_cleanly(cli: Any, cli_popen: Any, one_line_error: Any,
                                               data_dir: Path) -> None:
    port = _free_port()
    proc = cli_popen("serve", "--data", str(data_dir), "--port", str(port),
                     "--log-level", "warning")
    try:
        health = _wait_for_health(proc, f"http://127.0.0.1:{port}/api/v1/health")
        assert health.json()["status"] == "ok"
        # The port is taken now: a second server says so in one line.
        line = one_line_error(cli("serve", "--port", str(port), data_dir=data_dir))
        assert "cannot listen on 127.0.0.1" in line and "in use" in line.lower()
    finally:
        err = _stop(proc)
    assert f"serving {data_dir} on http://127.0.0.1:{port}/api/v1" in err


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_serve_over_tls(cli: Any, cli_popen: Any, one_line_error: Any, data_dir: Path,
                        tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    line = one_line_error(cli("serve", "--ssl-certfile", str(bad), "--ssl-keyfile", str(bad),
                              data_dir=data_dir))
    assert "cannot use the TLS certificate" in line
    port = _free_port()
    proc = cli_popen("serve", "--data", str(data_dir), "--port", str(port), "--ssl-certfile",
                     str(cert), "--ssl-keyfile", str(key), "--log-level", "warning",
                     "--shutdown-timeout", "1")
    try:
        health = _wait_for_health(proc, f"https://127.0.0.1:{port}/api/v1/health",
                                  verify=str(cert))
        assert health.json()["status"] == "ok"
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=5)
    finally:
        _stop(proc)
