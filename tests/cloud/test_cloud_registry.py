"""The registry: data folder layout, tiers and seats, prefixes, passwords, concurrency."""

from __future__ import annotations

import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cloud.passwords import hash_password, verify_password
from cloud.registry import Registry
from cloud.tiers import TIERS, seat_limit
from core.errors import Conflict, NotFound, StoreError, Unauthorized, ValidationError
from core.signing import public_key_b64, sign, verify

PW = "correct horse battery staple"


def test_init_lays_out_the_data_folder(tmp_path: Path) -> None:
    data = tmp_path / "cloud"
    with Registry.init(data, url="https://cloud.example.com/") as reg:
        assert reg.url == "https://cloud.example.com"
        key = reg.signing_key()
        assert reg.public_key_b64() == public_key_b64(key)
        verify(reg.public_key_b64(), b"manifest", sign(key, b"manifest"))
    assert (data / "registry.db").is_file()
    assert (data / "tenants").is_dir()
    assert stat.S_IMODE((data / "keys").stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "keys" / "signing.pem").stat().st_mode) == 0o600
    assert (data / "keys" / "signing.pub").read_text().strip() == public_key_b64(key)
    assert 'url = "https://cloud.example.com"' in (data / "cloud.toml").read_text()
    assert not [p for p in data.rglob("*") if ".creating" in p.name or p.suffix == ".tmp"]


def test_init_refuses_to_overwrite_and_open_needs_init(tmp_path: Path) -> None:
    data = tmp_path / "cloud"
    Registry.init(data).close()
    pem = (data / "keys" / "signing.pem").read_bytes()
    with pytest.raises(StoreError, match="refusing to overwrite"):
        Registry.init(data)
    assert (data / "keys" / "signing.pem").read_bytes() == pem
    with pytest.raises(StoreError, match="not an Outpost cloud data folder"):
        Registry.open(tmp_path / "empty")
    with pytest.raises(ValidationError, match="url"):
        Registry.init(tmp_path / "other", url="ftp://x")
    assert not (tmp_path / "other" / "registry.db").exists()


def test_registry_newer_than_the_program_is_refused(registry: Registry, data_dir: Path) -> None:
    registry.conn.execute("PRAGMA user_version = 999")
    registry.close()
    with pytest.raises(StoreError, match="newer"):
        Registry.open(data_dir)


def test_tiers_and_extra_seats(registry: Registry) -> None:
    assert TIERS == {"starter": 1, "optimal": 2, "extended": 5}
    for tier, seats in TIERS.items():
        t = registry.create_tenant(f"t-{tier}", tier)
        assert (t.tier, t.seats) == (tier, seats)
    assert registry.create_tenant("plus", "optimal", extra_seats=3).seats == 5
    assert seat_limit("extended", 2) == 7
    with pytest.raises(ValidationError, match="tier"):
        registry.create_tenant("gold", "gold")
    with pytest.raises(ValidationError, match="extra_seats"):
        registry.create_tenant("neg", "starter", extra_seats=-1)
    with pytest.raises(Conflict, match="already exists"):
        registry.create_tenant("plus", "starter")
    with pytest.raises(ValidationError, match="tenant"):
        registry.create_tenant("Not A Slug", "starter")
    with pytest.raises(NotFound):
        registry.tenant("nobody")
    assert [t.name for t in registry.list_tenants()] == sorted(
        ["t-starter", "t-optimal", "t-extended", "plus"])


def test_tenant_store_is_an_infobase_with_the_cloud_prefix(registry: Registry) -> None:
    registry.create_tenant("acme", "starter")
    assert registry.tenant_path("acme").is_file()
    with registry.tenant_store("acme") as store:
        assert store.prefix == "00"
        assert store.put("counterparties", {"name": "X"})["fields"]["code"] == "00-000001"


def test_seats_are_taken_and_freed(registry: Registry) -> None:
    registry.create_tenant("acme", "starter")
    first = registry.create_workstation("acme", "Laptop")
    with pytest.raises(Conflict) as exc:
        registry.create_workstation("acme", "Desk")
    assert exc.value.message == ("no free licence seat: tier 'starter' allows 1 "
                                 "workstation(s), 1 in use")
    assert len(registry.list_workstations("acme")) == 1  # the refusal wrote nothing
    revoked = registry.revoke_workstation("acme", first.id)
    assert revoked.revoked_at is not None and not revoked.active
    assert registry.revoke_workstation("acme", first.id).revoked_at == revoked.revoked_at
    second = registry.create_workstation("acme", "Desk")
    assert second.active and registry.seats_in_use("acme") == 1
    assert [w.id for w in registry.list_workstations("acme", include_revoked=False)] == [
        second.id]
    registry.set_tier("acme", "starter", extra_seats=1)
    registry.create_workstation("acme", "Third")
    with pytest.raises(Conflict, match="with 1 extra seat"):
        registry.create_workstation("acme", "Fourth")
    with pytest.raises(Conflict, match="revoke some first"):
        registry.set_tier("acme", "starter", extra_seats=0)
    assert registry.set_tier("acme", "extended").seats == 6
    with pytest.raises(NotFound):
        registry.revoke_workstation("acme", "no-such-id")


def test_prefixes_are_unique_among_active_workstations(registry: Registry) -> None:
    registry.create_tenant("acme", "extended")
    auto = [registry.create_workstation("acme", f"W{i}").prefix for i in range(3)]
    assert auto == ["01", "02", "03"]
    ab = registry.create_workstation("acme", "Named", prefix="ab")
    assert ab.prefix == "AB"
    with pytest.raises(Conflict, match="prefix 'AB' is already used by workstation 'Named'"):
        registry.create_workstation("acme", "Again", prefix="AB")
    for bad in ("00", "A", "ABC", "a-", "é1"):
        with pytest.raises(ValidationError, match="prefix"):
            registry.create_workstation("acme", "Bad", prefix=bad)
    registry.revoke_workstation("acme", ab.id)
    assert registry.create_workstation("acme", "Reuse", prefix="AB").prefix == "AB"
    assert registry.find_workstation("acme", "ab").name == "Reuse"
    assert registry.find_workstation("acme", "W1").prefix == "02"


def test_workstation_checks_orgs_users_and_options(registry: Registry) -> None:
    registry.create_tenant("acme", "extended")
    registry.add_user("acme", "boss", "admin", PW)
    registry.add_user("acme", "ann", "user", PW)
    registry.add_user("acme", "bot", "sync", PW)
    with registry.tenant_store("acme") as store:
        org = store.put("organizations", {"name": "North"})["id"]
    ws = registry.create_workstation("acme", "Laptop", orgs=[org, org], users=["ann", "bot"],
                                     priority="workstation", receive_only=["items"],
                                     catalogs="used")
    again = registry.workstation("acme", ws.id)
    assert again == ws
    assert again.to_json()["orgs"] == [org] and again.users == ["ann", "bot"]
    cases = [
        ({"orgs": ["8c0d2f7e-0000-4000-8000-000000000000"]}, "orgs: no organization"),
        ({"orgs": []}, "orgs"),
        ({"orgs": ["nope"]}, "orgs"),
        ({"users": ["boss"]}, "users: 'boss' is an admin"),
        ({"users": ["ghost"]}, "users: no user"),
        ({"priority": "loudest"}, "priority"),
        ({"catalogs": "some"}, "catalogs"),
        ({"receive_only": ["widgets"]}, "receive_only: unknown entity"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValidationError, match=message):
            registry.create_workstation("acme", "Bad", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="name"):
        registry.create_workstation("acme", "  ")
    assert len(registry.list_workstations("acme")) == 1


def test_passwords_are_hashed_never_stored(registry: Registry, data_dir: Path) -> None:
    secret = "Unguessable-Password-4711"
    registry.create_tenant("acme", "starter")
    registry.add_user("acme", "ann", "user", secret)
    registry.add_user("acme", "bob", "admin", secret)
    rows = registry.conn.execute("SELECT login, password FROM users").fetchall()
    hashes = [str(r[1]) for r in rows]
    assert all(h.startswith("scrypt$16384$8$1$") for h in hashes)
    assert hashes[0] != hashes[1]  # salted
    registry.close()
    for f in data_dir.iterdir():
        if f.is_file():
            assert secret.encode() not in f.read_bytes(), f
    with Registry.open(data_dir) as reg:
        assert reg.authenticate("acme", "ann", secret).role == "user"
        for tenant, login, pw in [("acme", "ann", "wrong"), ("acme", "ghost", secret),
                                  ("nowhere", "ann", secret), ("acme", "ann", "")]:
            with pytest.raises(Unauthorized, match="wrong login or password"):
                reg.authenticate(tenant, login, pw)
        with pytest.raises(Conflict):
            reg.add_user("acme", "ann", "user", secret)
        with pytest.raises(ValidationError, match="role"):
            reg.add_user("acme", "carl", "root", secret)
        with pytest.raises(ValidationError, match="password"):
            reg.add_user("acme", "carl", "user", "")
        with pytest.raises(ValidationError, match="login"):
            reg.add_user("acme", "has:colon", "user", secret)


def test_a_changed_password_ends_cached_logins(registry: Registry) -> None:
    registry.create_tenant("acme", "starter")
    registry.add_user("acme", "ann", "user", PW)
    tag = registry.password_tag("acme", "ann")
    registry.authenticate("acme", "ann", PW)
    registry.authenticate("acme", "ann", PW)  # now from the cache
    registry.set_password("acme", "ann", "a brand new password")
    with pytest.raises(Unauthorized):
        registry.authenticate("acme", "ann", PW)
    assert registry.authenticate("acme", "ann", "a brand new password").login == "ann"
    assert registry.password_tag("acme", "ann") not in (None, tag)
    assert registry.password_tag("acme", "ghost") is None


def test_hash_format_and_verification() -> None:
    stored = hash_password("pw", n=2**10)
    assert stored.split("$")[1] == "1024"
    assert verify_password("pw", stored)
    assert not verify_password("pW", stored)
    for broken in ("", "scrypt$x", "bcrypt$1$2$3$4$5", stored[:-4]):
        assert not verify_password("pw", broken)


_RACE = textwrap.dedent("""
    import sys
    from pathlib import Path
    from cloud.registry import Registry
    from core.errors import Conflict
    reg = Registry.open(Path(sys.argv[1]))
    sys.stdin.readline()  # start together
    try:
        reg.create_workstation("race", "W" + sys.argv[2])
        print("created")
    except Conflict as exc:
        print("refused:", exc.message)
""")


def test_seats_hold_across_processes(registry: Registry, data_dir: Path) -> None:
    registry.create_tenant("race", "starter", extra_seats=1)  # 2 seats
    procs = [subprocess.Popen([sys.executable, "-c", _RACE, str(data_dir), str(i)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for i in range(6)]
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    outs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert outs.count("created") == 2, outs
    refused = [o for o in outs if o.startswith("refused")]
    assert len(refused) == 4
    assert all("tier 'starter'" in o and "2 in use" in o for o in refused), refused
    assert registry.seats_in_use("race") == 2
