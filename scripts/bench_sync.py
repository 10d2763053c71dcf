#!/usr/bin/env python3
"""Sync throughput over loopback HTTP, against the raw local upsert of the same objects.

    .venv/bin/python scripts/bench_sync.py [--objects 100000] [--rounds 50] [--repeat 3]

Runs a real `outpost-cloud serve`, a workstation installed from a real bundle, and measures in
one run (the machine is shared and noisy, so ratios matter more than seconds):
  pull   N objects changed on the cloud, received by `outpost sync` (a child process: its wall
         time, and its peak memory)
  push   N objects written locally (raw SQL into the infobase), sent by `outpost sync`
  raw    the same N objects upserted straight into a copy of the local database taken just
         before (so they are new to it, as they were to the sync): the floor, run once just
         before the sync and once just after, the two averaged
  noop   a sync with nothing to do, in process, median of --rounds
Pull and push each run --repeat times from the same saved state (the cloud's data and the
home put back, the server restarted), each between two runs of its raw upsert, and nothing
runs while the kernel still has writes pending from what came before; each round's figures
print, then the medians, the ratio being the median of the rounds' own ratios (so a machine
slowing down between rounds does not move it).
For pull and push it also prints the sync's own time as the child reports it (`seconds` in
`outpost sync --json`): the same sync without the program's start and exit (Python and its
imports, SQLite's checkpoint when the last connection closes), which is what each sync of the
daemon, a long-running process, costs.
Targets: pull and push >= 40,000 objects/s and within 4x of raw; noop median < 10 ms;
client peak memory < 150 MB.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")

from core.apply import upsert_objects  # noqa: E402
from core.cli import collect_less  # noqa: E402
from core.store import Store  # noqa: E402
from daemon.workstation import Workstation  # noqa: E402
from tests.support.cloud import CloudServer, make_tenant  # noqa: E402
from tests.support.workstation import install, login, make_bundle  # noqa: E402

BIN = Path(sys.executable).parent


def cloud_objects(n: int) -> list[tuple[str, dict[str, object]]]:
    return [(str(uuid.uuid4()), {"code": f"B-{i:07d}", "name": f"Counterparty {i} Ltd",
                                 "tax_id": f"{7700000000 + i}"}) for i in range(n)]


# The child reports its own peak (VmHWM) at exit. Its rusage cannot: a child forked from this
# big process carries this process's resident size as its high-water mark across the exec.
PEAK_WRAPPER = """
import atexit, os, sys
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            open(os.environ["OUTPOST_BENCH_PEAK"], "w").write(line.split()[1])
atexit.register(peak)
from daemon.cli import main
sys.argv[0] = "outpost"
main()
"""


def compile_project() -> None:
    """Compile the project's modules, as installing it does (pip writes the bytecode at install
    time, the frozen program carries it). A child started from a checkout on a machine with
    PYTHONDONTWRITEBYTECODE set would otherwise compile every module on each start (about
    80 ms here), a cost no user's `outpost sync` pays."""
    for package in ("core", "cloud", "daemon", "bundle_builder", "installer"):
        compileall.compile_dir(ROOT / package, quiet=1)


def timed_sync(home: Path, scratch: Path) -> tuple[float, float, str]:
    """`outpost sync --json` in a child process: wall seconds, its own peak RSS in MB, its
    output."""
    peak_file = scratch / "peak.txt"
    peak_file.unlink(missing_ok=True)
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", PEAK_WRAPPER, "--home", str(home), "sync", "--json"],
        capture_output=True, text=True, cwd=ROOT,
        env={**os.environ, "OUTPOST_BENCH_PEAK": str(peak_file)},
    )
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"sync failed: {proc.stderr or proc.stdout}")
    peak = int(peak_file.read_text()) / 1024 if peak_file.exists() else float("nan")
    return wall, peak, proc.stdout


def snapshot(db: Path, scratch: Path) -> Path:
    """A copy of the local database as it is now: the raw upsert starts where the sync did."""
    copy = scratch / "before.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(copy) + suffix).unlink(missing_ok=True)
    src = Store.open(db)
    src.conn.execute(f"VACUUM INTO '{copy}'")
    src.close()
    return copy


def fresh_copy(before: Path, name: str) -> Path:
    """A copy of `before` for one raw upsert."""
    copy = before.with_name(name)
    for suffix in ("", "-wal", "-shm"):
        Path(str(copy) + suffix).unlink(missing_ok=True)
    shutil.copyfile(before, copy)
    return copy


def settle() -> None:
    """Write out everything the round's setup left for the kernel to write (copies of
    databases, the restored state): written back while a sync or a floor runs, it slowed
    whichever it met, by up to half."""
    os.sync()


def raw_upsert(copy: Path, objs: list[tuple[str, dict[str, object]]]) -> float:
    """The floor: `objs` upserted straight into `copy` (a database as the sync found it), in
    one transaction."""
    store = Store.open(copy)
    e = store.schema.entity("counterparties")
    t = time.perf_counter()
    with store.write():
        upsert_objects(store, e, objs)
    took = time.perf_counter() - t
    store.close()
    return took


@dataclass
class Round:
    wall: float  # the `outpost sync` child, start to exit
    own: float  # the sync as the child reports it, without the program's start and exit
    raw_before: float  # the raw upsert of the same objects, just before the sync
    raw_after: float  # and just after it
    peak_mb: float

    @property
    def raw(self) -> float:
        """The floor of the round: the mean of the two."""
        return (self.raw_before + self.raw_after) / 2


class Saved:
    """The cloud's data and the workstation's home as they were, put back before each round:
    every round of a phase syncs the same changes from the same state."""

    def __init__(self, server: CloudServer, home: Path, scratch: Path, name: str) -> None:
        self.server, self.home = server, home
        self.dir = scratch / name
        server.stop()  # closes the cloud's databases: the copy is whole
        for part in (server.data, home):
            shutil.copytree(part, self.dir / part.name)
        server.start()

    def restore(self) -> None:
        self.server.stop()
        for part in (self.server.data, self.home):
            shutil.rmtree(part)
            shutil.copytree(self.dir / part.name, part)
        self.server.start()


def phase(saved: Saved, before: Path, objs: list[tuple[str, dict[str, object]]], repeat: int,
          scratch: Path) -> list[Round]:
    """`repeat` rounds of one sync between two runs of its floor, from the same saved state:
    the floor is the mean of the two, so the machine changing speed during the round moves
    the ratio less."""
    rounds = []
    for i in range(repeat):
        if i:
            saved.restore()
        first, second = fresh_copy(before, "raw-1.db"), fresh_copy(before, "raw-2.db")
        settle()
        raw_before = raw_upsert(first, objs)
        settle()
        wall, peak, out = timed_sync(saved.home, scratch)
        own = float(json.loads(out)["seconds"])
        settle()
        rounds.append(Round(wall, own, raw_before, raw_upsert(second, objs), peak))
    return rounds


def report(name: str, n: int, rounds: list[Round]) -> None:
    """Each round's figures, then the medians: a ratio pairs a sync with the floors taken
    around it, so the machine's drift between rounds cancels out of it."""
    med = statistics.median
    for i, r in enumerate(rounds, 1):
        print(f"  {name} round {i}: {r.wall:5.2f} s (own {r.own:5.2f} s), raw upsert "
              f"{r.raw:5.2f} s ({r.raw_before:.2f} before, {r.raw_after:.2f} after), ratio "
              f"{r.wall / r.raw:5.2f}x (own {r.own / r.raw:5.2f}x)")
    wall, own = med(r.wall for r in rounds), med(r.own for r in rounds)
    print(f"{name:6s} {wall:7.2f} s  {n / wall:9.0f} obj/s  raw upsert "
          f"{med(r.raw for r in rounds):6.2f} s  ratio {med(r.wall / r.raw for r in rounds):5.2f}x "
          f"(target <= 4x, >= 40000 obj/s)")
    print(f"  {name} without the program's start and exit: {own:5.2f} s {n / own:9.0f} obj/s  "
          f"ratio {med(r.own / r.raw for r in rounds):5.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--objects", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=50, help="no-op syncs timed")
    ap.add_argument("--repeat", type=int, default=3, help="rounds of the pull and of the push")
    args = ap.parse_args()
    n = args.objects
    compile_project()
    # The floor runs here, so it gets the collector setting Outpost's programs run with
    # (core.cli): with Python's default, collections over this process's large heap of test
    # objects would slow the floor and flatter every ratio.
    collect_less()
    scratch = Path(tempfile.mkdtemp(prefix="outpost-bench-sync-"))
    server = None
    try:
        tenant = make_tenant(scratch / "cloud", orgs=2)
        server = CloudServer(scratch / "cloud").start()
        bundle = make_bundle(tenant, scratch / "ws.zip", name="bench")
        home = install(bundle, scratch / "home", server.url)
        login(home, "alice", tenant.users["alice"])

        objs = cloud_objects(n)
        store = tenant.store()
        with store.write():
            for oid, fields in objs:
                store.put_row("counterparties", fields, id=oid)
        store.close()
        before = snapshot(home.database, scratch)
        pulls = phase(Saved(server, home.root, scratch, "before-pull"), before, objs,
                      args.repeat, scratch)

        before = snapshot(home.database, scratch)
        local = Store.open(home.database)
        mine: list[tuple[str, dict[str, object]]] = [
            (str(uuid.uuid4()), {"code": f"W-{i:07d}", "name": f"Local customer {i}",
                                 "tax_id": None}) for i in range(n)]
        with local.write():
            local.conn.executemany(
                "INSERT INTO counterparties(id, code, name, tax_id) VALUES (?, ?, ?, ?)",
                [(oid, f["code"], f["name"], f["tax_id"]) for oid, f in mine],
            )
        local.close()
        pushes = phase(Saved(server, home.root, scratch, "before-push"), before, mine,
                       args.repeat, scratch)

        ws = Workstation(home)
        ws.sync()
        times = []
        for _ in range(args.rounds):
            t = time.perf_counter()
            r = ws.sync()
            times.append(time.perf_counter() - t)
            assert r.ok and r.pushed == 0 and r.pulled == 0, r
        ws.close()
        noop = statistics.median(times) * 1000

        print(f"objects                {n}, {args.repeat} rounds of each sync")
        report("pull", n, pulls)
        report("push", n, pushes)
        print(f"noop   median {noop:6.2f} ms over {args.rounds} syncs (target < 10 ms)")
        print(f"memory client peak RSS: pull {max(r.peak_mb for r in pulls):.0f} MB, push "
              f"{max(r.peak_mb for r in pushes):.0f} MB (target < 150 MB)")
    finally:
        if server:
            server.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
