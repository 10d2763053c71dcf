"""Benchmark of the bundle export: a 1,000,000-object tenant across 10 organizations, and a
bundle for 2 of them, against VACUUM INTO of the whole tenant file in the same run.

    .venv/bin/python scripts/bench_bundle.py [--objects 1000000] [--orgs 10] [--export-orgs 2]
                                             [--repeat 2] [--keep DIR]

Every measured step runs in a child process of its own, so its peak memory (ru_maxrss) is the
honest figure for that step alone. Targets: export at most 2x VACUUM INTO, at most 200 MB peak.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TIME_TARGET = 2.0  # export time / VACUUM INTO time
MEMORY_TARGET_MB = 200


def build_tenant(path: Path, objects: int, orgs: int, seed: int = 1) -> dict[str, int]:
    """A real tenant (capture triggers on): orgs, shared catalogs, invoices with lines, payments.

    Raw executemany inside one transaction; numbers and codes are given, so the numbering
    trigger stays idle, as it does for objects that come with their numbers.
    """
    from core import Store, default_schema

    rnd = random.Random(seed)
    n_cp, n_items = objects // 50, objects // 100 - orgs
    n_inv = (objects - orgs - n_cp - n_items) * 60 // 100
    n_pay = objects - orgs - n_cp - n_items - n_inv
    with Store.create(path, default_schema(), prefix="00") as store:
        conn = store.conn
        with store.write():
            org_ids = [str(uuid.UUID(int=rnd.getrandbits(128), version=4)) for _ in range(orgs)]
            conn.executemany("INSERT INTO organizations(id, name, tax_id) VALUES (?, ?, ?)",
                             [(o, f"Organization {i}", f"{7700000000 + i}")
                              for i, o in enumerate(org_ids)])
            cps = [str(uuid.UUID(int=rnd.getrandbits(128), version=4)) for _ in range(n_cp)]
            conn.executemany("INSERT INTO counterparties(id, code, name, tax_id) VALUES (?,?,?,?)",
                             [(c, f"00-{i:06d}", f"Counterparty {i} Ltd", f"{5000000000 + i}")
                              for i, c in enumerate(cps)])
            items = [str(uuid.UUID(int=rnd.getrandbits(128), version=4)) for _ in range(n_items)]
            conn.executemany(
                "INSERT INTO items(id, code, name, unit, price) VALUES (?, ?, ?, ?, ?)",
                [(it, f"00-{i:06d}", f"Item {i}", "pc", round(rnd.uniform(1, 500), 2))
                 for i, it in enumerate(items)])
            invoices: list[tuple[str, str]] = []

            def invoice_rows():
                for i in range(n_inv):
                    oid = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
                    org = org_ids[i % orgs]
                    invoices.append((oid, org))
                    yield (oid, f"00-{i:07d}", f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d}", org,
                           cps[rnd.randrange(n_cp)], round(rnd.uniform(10, 9000), 2), i % 3 > 0)

            conn.executemany(
                "INSERT INTO sales_invoices(id, number, date, organization, counterparty, total, "
                "posted) VALUES (?, ?, ?, ?, ?, ?, ?)", invoice_rows())

            def line_rows():
                for oid, _ in invoices:
                    for n in range(1, rnd.randint(1, 3) + 1):
                        q = rnd.randint(1, 20)
                        yield (oid, n, items[rnd.randrange(n_items)], q, 9.5, q * 9.5)

            conn.executemany(
                "INSERT INTO sales_invoices_lines(owner, line_no, item, quantity, price, amount) "
                "VALUES (?, ?, ?, ?, ?, ?)", line_rows())
            conn.executemany(
                "INSERT INTO payments(id, number, date, organization, counterparty, amount, "
                "invoice) VALUES (?, ?, ?, ?, ?, ?, ?)",
                ((str(uuid.UUID(int=rnd.getrandbits(128), version=4)), f"00-{i:07d}",
                  "2024-06-30", invoices[i % n_inv][1], cps[rnd.randrange(n_cp)], 100.0,
                  invoices[i % n_inv][0]) for i in range(n_pay)))
            conn.execute("INSERT INTO _versions(id, version) "
                         "SELECT id, max(seq) FROM _journal GROUP BY id")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        lines = store.scalar("SELECT count(*) FROM sales_invoices_lines")
    return {"organizations": orgs, "counterparties": n_cp, "items": n_items,
            "sales_invoices": n_inv, "payments": n_pay, "invoice_lines": int(lines)}


# -- the measured steps, each run in a child process ------------------------------------------

def child(step: str, tenant: Path, out: Path, orgs: list[str]) -> None:
    from bundle_builder import BundleSpec, ExportSpec, export_infobase, write_bundle
    from core.db import connect
    from core.signing import generate_key

    ws = str(uuid.uuid4())
    started = time.perf_counter()
    objects = 0
    if step == "baseline":
        pass
    elif step == "vacuum":
        conn = connect(tenant)
        conn.execute("VACUUM INTO ?", (str(out),))
        conn.close()
    elif step in ("export", "export-used"):
        res = export_infobase(tenant, out, ExportSpec(
            workstation_id=ws, tenant="bench", prefix="B1", orgs=orgs,
            catalogs="used" if step == "export-used" else "all"))
        objects = res.objects
    elif step == "bundle":
        bres = write_bundle(tenant, BundleSpec(workstation=ws, name="Bench", tenant="bench",
                                               cloud_url="http://127.0.0.1:8750", prefix="B1",
                                               orgs=orgs), generate_key(), out)
        objects = bres.objects
    else:
        raise SystemExit(f"unknown step {step}")
    seconds = time.perf_counter() - started
    rss_kb = peak_rss_kib()
    size = out.stat().st_size if out.exists() else 0
    print(json.dumps({"step": step, "seconds": seconds, "peak_mb": rss_kb / 1024,
                      "objects": objects, "size": size}))


def peak_rss_kib() -> int:
    """This process's peak resident memory. VmHWM belongs to the address space that exec made,
    so it counts this program alone; ru_maxrss would also count the parent's pages at fork."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak  # bytes on macOS


def measure(step: str, tenant: Path, work: Path, orgs: list[str]) -> dict:
    out = work / f"{step}.out"
    for p in work.glob(f"{step}.out*"):
        p.unlink()
    proc = subprocess.run(
        [sys.executable, __file__, "--child", step, str(tenant), str(out), *orgs],
        capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{step} failed:\n{proc.stderr}")
    result: dict = json.loads(proc.stdout.strip().splitlines()[-1])
    for p in work.glob(f"{step}.out*"):
        p.unlink()
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--objects", type=int, default=1_000_000)
    ap.add_argument("--orgs", type=int, default=10)
    ap.add_argument("--export-orgs", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2, help="runs of each step; the best counts")
    ap.add_argument("--keep", type=Path, help="keep (and reuse) the tenant file in this folder")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        step, tenant, out, *orgs = args.child
        child(step, Path(tenant), Path(out), orgs)
        return

    work = Path(tempfile.mkdtemp(prefix="outpost-bench-bundle-"))
    try:
        folder = args.keep or work
        folder.mkdir(parents=True, exist_ok=True)
        tenant = folder / f"tenant-{args.objects}-{args.orgs}.db"
        if not tenant.exists():
            t0 = time.perf_counter()
            shape = build_tenant(tenant, args.objects, args.orgs)
            print(f"built the tenant in {time.perf_counter() - t0:.1f}s: "
                  + ", ".join(f"{k} {v:,}" for k, v in shape.items()))
        import apsw

        conn = apsw.Connection(str(tenant), flags=apsw.SQLITE_OPEN_READONLY)
        org_ids = [str(r[0]) for r in conn.execute("SELECT id FROM organizations ORDER BY name")]
        objects = sum(int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in
                      ("organizations", "counterparties", "items", "sales_invoices", "payments"))
        conn.close()
        chosen = org_ids[: args.export_orgs]
        size_mb = tenant.stat().st_size / 2**20
        print(f"tenant: {objects:,} objects across {len(org_ids)} organizations, "
              f"{size_mb:.0f} MiB; exporting {len(chosen)} organizations")
        best: dict[str, dict] = {}
        for _ in range(max(args.repeat, 1)):
            for step in ("vacuum", "export", "export-used", "bundle", "baseline"):
                r = measure(step, tenant, work, chosen)
                if step not in best or r["seconds"] < best[step]["seconds"]:
                    best[step] = {**r, "peak_mb": max(r["peak_mb"],
                                                      best.get(step, {}).get("peak_mb", 0))}
        vac = best["vacuum"]["seconds"]
        print()
        print("| step | time | vs VACUUM INTO | peak memory | objects | output |")
        print("|---|---|---|---|---|---|")
        labels = {"vacuum": "VACUUM INTO, whole tenant", "export": "export, 2 orgs (database)",
                  "export-used": "export, 2 orgs, --catalogs used",
                  "bundle": "bundle, 2 orgs (database + ZIP + signature)",
                  "baseline": "Python + imports only"}
        for step, r in best.items():
            print(f"| {labels[step]} | {r['seconds']:.2f} s | {r['seconds'] / vac:.2f}x | "
                  f"{r['peak_mb']:.0f} MB | {r['objects']:,} | {r['size'] / 2**20:.1f} MiB |")
        ratio = best["export"]["seconds"] / vac
        peak = best["export"]["peak_mb"]
        ok = ratio <= TIME_TARGET and peak <= MEMORY_TARGET_MB
        print()
        print(f"export/VACUUM INTO = {ratio:.2f} (target <= {TIME_TARGET}); "
              f"export peak memory = {peak:.0f} MB (target <= {MEMORY_TARGET_MB}): "
              + ("met" if ok else "NOT met"))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
