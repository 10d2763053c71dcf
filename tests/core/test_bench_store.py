"""The store benchmark stays runnable: a tiny load of every variant, checked by the script."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def bench(*args: str) -> str:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_store.py"), "--objects", "200",
         "--rounds", "1", *args],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc.stdout


def test_the_benchmark_reports_rates_and_ratios() -> None:
    out = bench()
    assert "counterparties: 200 objects per load" in out
    assert "sales_invoices with 3 lines each: 40 objects per load" in out
    for variant in ("api", "capture", "plain", "numbered"):
        assert re.search(rf"^  {variant} +[\d,]+ ", out, re.M), out
    assert len(re.findall(r"capture/plain = \d+\.\d\dx", out)) == 2
    assert len(re.findall(r"api/plain = \d+\.\d\dx", out)) == 2


def test_the_breakdown_adds_one_piece_at_a_time() -> None:
    out = bench("--breakdown")
    steps = re.findall(r"^  (\S+) +[\d,]+ ", out, re.M)
    assert steps == ["plain", "trigger", "journal", "capture", "abort", "+time", "+versions",
                     "+origin"]
