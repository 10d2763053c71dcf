"""The HTTP API against a real uvicorn server: auth, roles, isolation, seats, errors, paging."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from cloud.registry import Registry
from cloud.seed import seed
from installer.verify import verify_bundle

PW = "correct horse battery staple"
ADMIN, USER, SYNC = ("boss", PW), ("ann", PW), ("bot", PW)
OTHER_ADMIN = ("chief", "globex password 1")


@dataclass
class Cloud:
    data: Path
    reg: Registry
    api: Any
    orgs: list[str]


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory, serve: Any) -> Iterator[Cloud]:
    """Tenants acme (optimal, seeded, users of every role) and globex, behind one server."""
    data = tmp_path_factory.mktemp("api") / "data"
    reg = Registry.init(data)
    reg.create_tenant("acme", "optimal")
    reg.create_tenant("globex", "extended")
    reg.add_user("acme", "boss", "admin", PW)
    reg.add_user("acme", "ann", "user", PW)
    reg.add_user("acme", "bot", "sync", PW)
    reg.add_user("globex", "chief", "admin", OTHER_ADMIN[1])
    with reg.tenant_store("acme") as store:
        seed(store, "acme", 600, seed=11)
        orgs = [o["id"] for o in store.list_objects("organizations")]
    with serve(data) as api:
        yield Cloud(data, reg, api, orgs)
    reg.close()


def objects(entity: str, oid: str | None = None, tenant: str = "acme") -> str:
    return f"/tenants/{tenant}/objects/{entity}" + (f"/{oid}" if oid else "")


def test_health_and_openapi(cloud: Cloud) -> None:
    r = cloud.api.call("GET", "/health")
    assert r.status_code == 200 and r.json() == {"status": "ok", "version": "0.1.0"}
    doc = requests.get(cloud.api.base + "/openapi.json", timeout=10).json()
    assert "/api/v1/tenants/{tenant}/objects/{entity}/{id}" in doc["paths"]
    assert "/api/v1/tenants/{tenant}/workstations" in doc["paths"]


def test_authentication_failures(cloud: Cloud) -> None:
    path = objects("items")
    for auth in [None, ("boss", "wrong"), ("ghost", PW), OTHER_ADMIN, ("", "")]:
        r = cloud.api.call("GET", path, auth=auth)
        assert r.status_code == 401, auth
        assert r.headers["WWW-Authenticate"].startswith("Basic")
        assert r.json()["error"] == "unauthorized"
    for header in ["Basic !!!", "Basic " + "Ym9zcw==", "Bearer abc", "Basic"]:
        r = cloud.api.call("GET", path, headers={"Authorization": header})
        assert r.status_code == 401, header
    # An unknown tenant answers exactly like a wrong password: nothing tells it apart.
    unknown = cloud.api.call("GET", objects("items", tenant="nosuch"), auth=ADMIN)
    wrong = cloud.api.call("GET", path, auth=("boss", "wrong"))
    assert (unknown.status_code, unknown.json()) == (wrong.status_code, wrong.json())


def test_roles(cloud: Cloud) -> None:
    oid = str(uuid.uuid4())
    for method, kw in [("GET", {}), ("PUT", {"json": {"fields": {"name": "X"}}}),
                       ("DELETE", {})]:
        r = cloud.api.call(method, objects("counterparties", oid), auth=SYNC, **kw)
        assert r.status_code == 403 and r.json()["error"] == "forbidden"
    assert cloud.api.call("GET", objects("items"), auth=SYNC).status_code == 403
    for who in (USER, SYNC):
        r = cloud.api.call("POST", "/tenants/acme/workstations", auth=who, json={"name": "W"})
        assert r.status_code == 403
        assert cloud.api.call("GET", "/tenants/acme/workstations", auth=who).status_code == 403
    assert cloud.api.call("GET", objects("items"), auth=USER).status_code == 200
    r = cloud.api.call("PUT", objects("counterparties", oid), auth=USER,
                       json={"fields": {"name": "Made by a user"}})
    assert r.status_code == 201


def test_tenant_isolation(cloud: Cloud) -> None:
    with Registry.open(cloud.data) as reg, reg.tenant_store("acme") as store:
        inv = store.list_objects("sales_invoices", limit=1)[0]
    ws = cloud.reg.create_workstation("acme", "Isolated")
    try:
        attempts = [
            ("GET", objects("sales_invoices"), {}),
            ("GET", objects("sales_invoices", inv["id"]), {}),
            ("PUT", objects("sales_invoices", inv["id"]), {"json": {"fields": {"total": 1}}}),
            ("DELETE", objects("sales_invoices", inv["id"]), {}),
            ("GET", "/tenants/acme/workstations", {}),
            ("POST", "/tenants/acme/workstations", {"json": {"name": "Intruder"}}),
            ("DELETE", f"/tenants/acme/workstations/{ws.id}", {}),
            ("GET", f"/tenants/acme/workstations/{ws.id}/bundle", {}),
        ]
        for method, path, kw in attempts:
            r = cloud.api.call(method, path, auth=OTHER_ADMIN, **kw)
            assert r.status_code in (401, 403, 404), (method, path, r.status_code)
            assert inv["id"] not in r.text and ws.id not in r.text
        # Through its own tenant, globex's admin finds nothing of acme's either.
        r = cloud.api.call("GET", objects("sales_invoices", inv["id"], tenant="globex"),
                           auth=OTHER_ADMIN)
        assert r.status_code == 404
        r = cloud.api.call("DELETE", f"/tenants/globex/workstations/{ws.id}", auth=OTHER_ADMIN)
        assert r.status_code == 404
        r = cloud.api.call("GET", objects("sales_invoices", tenant="globex"), auth=OTHER_ADMIN)
        assert r.json() == {"items": [], "next": None}
        with Registry.open(cloud.data) as reg, reg.tenant_store("acme") as store:
            assert store.get("sales_invoices", inv["id"]) == inv
        assert cloud.reg.workstation("acme", ws.id).active
    finally:
        cloud.reg.revoke_workstation("acme", ws.id)


def test_seats_under_concurrent_creation(cloud: Cloud) -> None:
    cloud.reg.create_tenant("rush", "starter")
    cloud.reg.add_user("rush", "root", "admin", PW)
    barrier = threading.Barrier(10)
    results: list[requests.Response] = []
    lock = threading.Lock()

    def create(i: int) -> None:
        barrier.wait()
        r = requests.post(cloud.api.base + "/api/v1/tenants/rush/workstations",
                          json={"name": f"W{i}"}, auth=("root", PW), timeout=60)
        with lock:
            results.append(r)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    codes = sorted(r.status_code for r in results)
    assert codes == [201] + [409] * 9, codes
    for r in results:
        if r.status_code == 409:
            assert r.json()["error"] == "conflict"
            assert "tier 'starter' allows 1 workstation(s), 1 in use" in r.json()["message"]
    listed = cloud.api.call("GET", "/tenants/rush/workstations", auth=("root", PW)).json()
    assert len(listed["items"]) == 1 and listed["in_use"] == 1 and listed["seats"] == 1
    # Revoking frees the seat for the next one.
    ws_id = listed["items"][0]["id"]
    r = cloud.api.call("DELETE", f"/tenants/rush/workstations/{ws_id}", auth=("root", PW))
    assert r.status_code == 204 and r.content == b""
    r = cloud.api.call("POST", "/tenants/rush/workstations", auth=("root", PW),
                       json={"name": "Next", "prefix": "nx"})
    assert r.status_code == 201 and r.json()["prefix"] == "NX"


def test_workstation_management(cloud: Cloud, tmp_path: Path) -> None:
    body = {"name": "Field laptop", "orgs": cloud.orgs[:1], "users": ["ann", "bot"],
            "prefix": "FL", "priority": "workstation", "receive_only": ["items"],
            "catalogs": "used"}
    r = cloud.api.call("POST", "/tenants/acme/workstations", auth=ADMIN, json=body)
    assert r.status_code == 201, r.text
    ws = r.json()
    assert {k: ws[k] for k in body} == body and ws["revoked_at"] is None
    try:
        r = cloud.api.call("POST", "/tenants/acme/workstations", auth=ADMIN,
                           json={"name": "Same prefix", "prefix": "fl"})
        assert r.status_code == 409 and "prefix 'FL'" in r.json()["message"]
        bad_bodies = [
            ({"orgs": [str(uuid.uuid4())]}, "orgs"),
            ({"users": ["boss"]}, "users"),
            ({"prefix": "00"}, "prefix"),
            ({"priority": "loud"}, "priority"),
            ({"catalogs": 3}, "catalogs"),
            ({"receive_only": ["nothing"]}, "receive_only"),
            ({"name": 5}, "name"),
            ({"name": ""}, "name"),
            ({"colour": "red"}, "colour"),
        ]
        for extra, field in bad_bodies:
            r = cloud.api.call("POST", "/tenants/acme/workstations", auth=ADMIN,
                               json={"name": "Bad", **extra})
            assert r.status_code == 422, (extra, r.text)
            assert r.json()["message"].startswith(field), (extra, r.json())
        r = cloud.api.call("POST", "/tenants/acme/workstations", auth=ADMIN, json={})
        assert r.status_code == 422 and r.json()["field"] == "name"
        got = cloud.api.call("GET", f"/tenants/acme/workstations/{ws['id']}", auth=ADMIN)
        assert got.json() == ws
        r = cloud.api.call("GET", f"/tenants/acme/workstations/{ws['id']}/bundle", auth=ADMIN)
        assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
        zip_path = tmp_path / "bundle.zip"
        zip_path.write_bytes(r.content)
        verified = verify_bundle(zip_path, pinned_key=cloud.reg.public_key_b64())
        assert verified.manifest["workstation"] == ws["id"]
        r = cloud.api.call("GET", "/tenants/acme/workstations/nope/bundle", auth=ADMIN)
        assert r.status_code == 404
    finally:
        r = cloud.api.call("DELETE", f"/tenants/acme/workstations/{ws['id']}", auth=ADMIN)
        assert r.status_code == 204
    assert cloud.api.call("DELETE", "/tenants/acme/workstations/nope",
                          auth=ADMIN).status_code == 404


def test_object_lifecycle(cloud: Cloud) -> None:
    oid = str(uuid.uuid4())
    r = cloud.api.call("PUT", objects("items", oid), auth=ADMIN,
                       json={"fields": {"name": "Widget", "unit": "pcs", "price": 2.5}})
    assert r.status_code == 201
    created = r.json()
    assert created["id"] == oid and created["entity"] == "items" and created["org"] is None
    assert created["fields"]["code"].startswith("00-") and created["version"] > 0
    assert cloud.api.call("GET", objects("items", oid), auth=USER).json() == created
    r = cloud.api.call("PUT", objects("items", oid), auth=USER, json={"fields": {"price": 3}})
    assert r.status_code == 200
    updated = r.json()
    assert updated["fields"] == {**created["fields"], "price": 3}
    assert updated["version"] > created["version"]
    # An object read back can be sent again as it is.
    assert cloud.api.call("PUT", objects("items", oid), auth=ADMIN,
                          json=updated).status_code == 200
    r = cloud.api.call("DELETE", objects("items", oid), auth=ADMIN)
    assert r.status_code == 204
    assert cloud.api.call("GET", objects("items", oid), auth=ADMIN).status_code == 404
    r = cloud.api.call("DELETE", objects("items", oid), auth=ADMIN)
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_invoice_with_lines(cloud: Cloud) -> None:
    page = cloud.api.call("GET", objects("items") + "?limit=2", auth=USER).json()["items"]
    cp = cloud.api.call("GET", objects("counterparties") + "?limit=1",
                        auth=USER).json()["items"][0]
    oid = str(uuid.uuid4())
    lines = [{"item": page[0]["id"], "quantity": 2, "price": 10.0, "amount": 20.0},
             {"item": page[1]["id"], "quantity": 1, "price": 5.5, "amount": 5.5}]
    fields = {"date": "2025-03-01", "organization": cloud.orgs[0], "counterparty": cp["id"],
              "total": 25.5, "posted": True, "lines": lines}
    r = cloud.api.call("PUT", objects("sales_invoices", oid), auth=USER, json={"fields": fields})
    assert r.status_code == 201, r.text
    got = cloud.api.call("GET", objects("sales_invoices", oid), auth=USER).json()
    assert got["org"] == cloud.orgs[0]
    assert got["fields"]["lines"] == lines and got["fields"]["posted"] is True


def test_bad_input_is_named_and_never_a_500(cloud: Cloud) -> None:
    oid = str(uuid.uuid4())
    cp = cloud.api.call("GET", objects("counterparties") + "?limit=1",
                        auth=USER).json()["items"][0]["id"]
    good = {"date": "2025-03-01", "organization": cloud.orgs[0], "counterparty": cp}
    missing = str(uuid.uuid4())

    def put(entity: str, body: Any, **kw: Any) -> requests.Response:
        return cloud.api.call("PUT", objects(entity, oid), auth=ADMIN, json=body, **kw)

    for raw in ['{"fields": ', "not json", '{"fields": {"name": "x",}}', "\x00"]:
        r = cloud.api.call("PUT", objects("items", oid), auth=ADMIN, data=raw.encode(),
                           headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and r.json()["error"] == "bad_json", raw
    cases: list[tuple[str, Any, str]] = [
        ("widgets", {"fields": {"name": "x"}}, "entity"),
        ("items", {"fields": {"name": "x", "colour": "red"}}, "colour"),
        ("items", {"fields": {"name": 5}}, "name"),
        ("items", {"fields": {"name": "x", "price": "cheap"}}, "price"),
        ("items", {"fields": {"name": "x" * 201}}, "name"),
        ("items", {"fields": {"unit": "kg"}}, "name"),
        ("items", {"fields": "nope"}, "fields"),
        ("items", {"name": "x"}, "fields"),
        ("items", [1, 2], "body"),
        ("sales_invoices", {"fields": {**good, "date": "01.03.2025"}}, "date"),
        ("sales_invoices", {"fields": {**good, "counterparty": missing}}, "counterparty"),
        ("sales_invoices", {"fields": {**good, "organization": None}}, "organization"),
        ("sales_invoices", {"fields": {**good, "posted": "yes"}}, "posted"),
        ("sales_invoices", {"fields": {**good, "lines": [{"quantity": 1}]}}, "lines[0].item"),
        ("sales_invoices", {"fields": {**good, "lines": [{"item": missing, "quantity": 1}]}},
         "lines[0].item"),
        ("sales_invoices", {"fields": {**good, "lines": "many"}}, "lines"),
        ("payments", {"fields": {**good, "amount": 5, "invoice": missing}}, "invoice"),
        ("payments", {"fields": good}, "amount"),
    ]
    for entity, body, field in cases:
        r = put(entity, body)
        assert r.status_code == 422, (entity, body, r.text)
        assert field in r.json()["message"], (field, r.json())
    nested = b'{"fields": {"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}"
    r = cloud.api.call("PUT", objects("items", oid), auth=ADMIN, data=nested,
                       headers={"Content-Type": "application/json"})
    assert r.status_code in (400, 422)
    for raw, field in [(b'{"fields": {"name": "x", "price": NaN}}', "price"),
                       (b'{"fields": {"name": "x", "price": 1e400}}', "price"),
                       (b'{"fields": {"name": "x", "price": ' + b"9" * 40 + b"}}", "price")]:
        r = cloud.api.call("PUT", objects("items", oid), auth=ADMIN, data=raw,
                           headers={"Content-Type": "application/json"})
        assert r.status_code == 422 and field in r.json()["message"], (raw, r.text)
    r = cloud.api.call("PUT", objects("items", oid), auth=ADMIN, data=b'{"fields": {}}',
                       headers={"Content-Type": "text/plain"})
    assert r.status_code == 422 and "JSON" in r.json()["message"]
    for path in [objects("items", "not-a-uuid"), objects("items") + "?limit=0",
                 objects("items") + "?limit=abc", objects("items") + "?org=zzz",
                 objects("items") + "?after=zzz", objects("nothing")]:
        r = cloud.api.call("GET", path, auth=ADMIN)
        assert r.status_code == 422, (path, r.text)
    assert cloud.api.call("GET", objects("items", oid), auth=ADMIN).status_code == 404
    assert cloud.api.call("GET", "/nowhere").status_code == 404
    assert cloud.api.call("PATCH", objects("items", oid), auth=ADMIN).status_code == 405


def test_paging_with_an_org_filter(cloud: Cloud) -> None:
    org = cloud.orgs[1]
    seen: list[str] = []
    after = None
    while True:
        query = f"?org={org}&limit=25" + (f"&after={after}" if after else "")
        page = cloud.api.call("GET", objects("sales_invoices") + query, auth=USER).json()
        assert len(page["items"]) <= 25
        assert all(o["org"] == org and o["fields"]["organization"] == org
                   for o in page["items"])
        seen += [o["id"] for o in page["items"]]
        if page["next"] is None:
            break
        assert page["next"] == page["items"][-1]["id"]
        after = page["next"]
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    with Registry.open(cloud.data) as reg, reg.tenant_store("acme") as store:
        assert len(seen) == store.count("sales_invoices", org=org) > 25
        everything = store.count("sales_invoices")
    r = cloud.api.call("GET", objects("sales_invoices") + "?limit=1000", auth=USER).json()
    assert len(r["items"]) == everything and r["next"] is None
    # Shared catalogs belong to every organization.
    r = cloud.api.call("GET", objects("items") + f"?org={org}&limit=1000", auth=USER).json()
    assert len(r["items"]) > 0 and all(o["org"] is None for o in r["items"])
