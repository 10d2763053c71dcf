#!/usr/bin/env python3
"""What an idle workstation daemon costs: CPU time, resident memory, and how often it wakes.

    .venv/bin/python scripts/bench_daemon.py [--seconds 60] [--modes scheduled,realtime]

Runs a real `outpost-cloud serve` and a workstation installed from a real bundle and signed in,
then, for each mode, starts `outpost daemon --headless` with the default timings (only the
start-up jitter is cut to 1 s so the first sync is over quickly), waits until that first sync
is done, and watches the idle daemon for --seconds:
  cpu      user + system CPU time of the daemon process (/proc/<pid>/stat) over the window,
           as a share of one core
  rss      resident memory at the end (VmRSS), and its peak (VmHWM)
  wakeups  context switches of all its threads over the window, per second
           (/proc/<pid>/task/*/status): a thread that polled would show here
Modes: scheduled (a long interval: nothing is due; the connection monitor checks the cloud's
health once a minute), realtime (the file watcher waits on inotify; the long-poll of the cloud
returns every 25 s).
Targets: under 1% of one core, under 80 MB resident, no busy waiting. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")

from daemon.home import Home  # noqa: E402
from daemon.service import ControlClient  # noqa: E402
from tests.support.cloud import CloudServer, make_tenant  # noqa: E402
from tests.support.workstation import install, login, make_bundle, outpost  # noqa: E402

BIN = Path(sys.executable).parent
TICKS = os.sysconf("SC_CLK_TCK")
CPU_TARGET = 1.0  # percent of one core
RSS_TARGET = 80.0  # MB


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def switches(pid: int) -> int:
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            text = (task / "status").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                total += int(line.split()[1])
    return total


def threads(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/task").iterdir()))


def measure(home: Path, mode: str, seconds: float) -> dict[str, float]:
    outpost_home = Home.at(home)
    outpost(outpost_home, "config", "set", "mode", mode)
    outpost(outpost_home, "config", "set", "schedule", "1h")
    env = {**os.environ, "OUTPOST_JITTER": "1"}
    log = open(home / f"daemon-{mode}.out", "wb")  # noqa: SIM115 - the child keeps it
    proc = subprocess.Popen([str(BIN / "outpost"), "--home", str(home), "daemon", "--headless"],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        client = ControlClient(outpost_home)
        deadline = time.monotonic() + 30
        while True:
            try:
                st = client.status()
                if st["state"] == "idle" and st.get("last_sync"):
                    break
            except Exception:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the daemon did not come up idle (see {log.name})")
            time.sleep(0.2)
        time.sleep(3)  # settle: the first sync's after-effects (file events, recount)
        c0, s0, t0 = cpu_seconds(proc.pid), switches(proc.pid), time.monotonic()
        time.sleep(seconds)
        c1, s1, t1 = cpu_seconds(proc.pid), switches(proc.pid), time.monotonic()
        out = {
            "cpu_s": c1 - c0, "window_s": t1 - t0, "cpu_pct": 100 * (c1 - c0) / (t1 - t0),
            "rss_mb": status_kb(proc.pid, "VmRSS") / 1024,
            "hwm_mb": status_kb(proc.pid, "VmHWM") / 1024,
            "wakeups_s": (s1 - s0) / (t1 - t0), "threads": threads(proc.pid),
        }
        st = client.status()
        if st["state"] != "idle":
            raise SystemExit(f"the daemon left idle during the window: {st['state']}")
        return out
    finally:
        subprocess.run([str(BIN / "outpost"), "--home", str(home), "stop"],
                       capture_output=True, timeout=60)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--modes", default="scheduled,realtime")
    args = ap.parse_args()
    if not Path("/proc/self/stat").exists():
        raise SystemExit("this benchmark reads /proc: Linux only")
    tmp = Path(tempfile.mkdtemp(prefix="outpost-bench-daemon-"))
    server: CloudServer | None = None
    try:
        data = tmp / "cloud"
        data.mkdir()
        tenant = make_tenant(data, orgs=3, seed=2000)
        server = CloudServer(data).start()
        results = {}
        for i, mode in enumerate(args.modes.split(",")):
            bundle = make_bundle(tenant, tmp / f"ws{i}.zip", name=f"bench-{mode}")
            home = install(bundle, tmp / f"ws{i}", server.url)
            login(home, "robot", tenant.users["robot"])
            print(f"measuring an idle daemon in {mode} mode for {args.seconds:g} s ...",
                  flush=True)
            results[mode] = measure(home.root, mode, args.seconds)
        print()
        print("| mode | CPU over the window | share of one core | vs 1% target | RSS (peak) "
              "| vs 80 MB target | wakeups/s | threads |")
        print("|---|---|---|---|---|---|---|---|")
        for mode, r in results.items():
            print(f"| {mode} | {r['cpu_s']:.2f} s in {r['window_s']:.0f} s | "
                  f"{r['cpu_pct']:.3f}% | {r['cpu_pct'] / CPU_TARGET:.2f}x | "
                  f"{r['rss_mb']:.1f} MB ({r['hwm_mb']:.1f}) | {r['rss_mb'] / RSS_TARGET:.2f}x | "
                  f"{r['wakeups_s']:.2f} | {r['threads']:.0f} |")
        ok = all(r["cpu_pct"] < CPU_TARGET and r["rss_mb"] < RSS_TARGET
                 for r in results.values())
        print("\nall within targets" if ok else "\nOUTSIDE TARGETS")
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
