"""The daemon's timings in one place, with environment overrides for tests and odd networks.

Defaults suit a workstation on a flaky line; tests turn them down (see docs/daemon.md):

    OUTPOST_BACKOFF_BASE     first wait after a failure, seconds (5)
    OUTPOST_BACKOFF_CAP      longest wait between retries while offline or failing (300)
    OUTPOST_PROBE_INTERVAL   while online and quiet, how often the cloud's health is checked (60)
    OUTPOST_PROBE_TIMEOUT    timeout of one health probe (3)
    OUTPOST_DEBOUNCE         quiet time after a local write before realtime mode pushes (1)
    OUTPOST_WAIT_TIMEOUT     how long one long-poll of the cloud waits for changes (25)
    OUTPOST_JITTER           largest random delay of a missed or cron-timed run (30)
    OUTPOST_STOP_GRACE       how long a stop waits for a sync in progress (10)
    OUTPOST_TICK             the longest the scheduler sleeps at once, to notice a wake (60)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Tuning:
    backoff_base: float = 5.0
    backoff_cap: float = 300.0
    probe_interval: float = 60.0
    probe_timeout: float = 3.0
    debounce: float = 1.0
    wait_timeout: float = 25.0
    jitter: float = 30.0
    stop_grace: float = 10.0
    tick: float = 60.0  # the longest the scheduler sleeps at once, to notice a wake from sleep

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Tuning:
        env = os.environ if env is None else env
        values: dict[str, float] = {}
        for f in fields(cls):
            raw = env.get(f"OUTPOST_{f.name.upper()}")
            if raw is None:
                continue
            try:
                value = float(raw)
            except ValueError:
                continue
            if value >= 0:
                values[f.name] = value
        return cls(**values)
