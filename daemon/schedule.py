"""Sync schedules people know: intervals ("15m", "1h"), presets, and cron expressions.

Presets follow 1C's workstation: "every 15 minutes", "hourly" (the default), "weekdays at 10:00".
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from core.errors import OutpostError

PRESETS = {
    "every 15 minutes": "15m",
    "hourly": "1h",
    "weekdays at 10:00": "cron:0 10 * * 1-5",
}
_INTERVAL = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MIN_INTERVAL = 10  # seconds: anything shorter is realtime mode's job


class ScheduleError(OutpostError):
    code = "bad_schedule"


@dataclass(frozen=True)
class Schedule:
    text: str
    interval: int | None = None  # seconds
    cron: str | None = None

    def next_after(self, t: dt.datetime) -> dt.datetime:
        """The first due time strictly after `t` (timezone-aware, local time for cron)."""
        if self.interval is not None:
            return t + dt.timedelta(seconds=self.interval)
        assert self.cron is not None
        from croniter import croniter  # here: every config load parses the schedule, few are cron

        nxt: dt.datetime = croniter(self.cron, t.astimezone()).get_next(dt.datetime)
        return nxt


def parse_schedule(text: str) -> Schedule:
    raw = text.strip()
    spec = PRESETS.get(raw.lower(), raw)
    m = _INTERVAL.match(spec)
    if m:
        seconds = int(m.group(1)) * _UNITS[m.group(2)]
        if seconds < MIN_INTERVAL:
            raise ScheduleError(f"schedule interval must be at least {MIN_INTERVAL}s")
        return Schedule(text=raw, interval=seconds)
    expr = spec[5:].strip() if spec.startswith("cron:") else spec
    from croniter import croniter

    if len(expr.split()) == 5 and croniter.is_valid(expr):
        return Schedule(text=raw, cron=expr)
    raise ScheduleError(
        f"schedule {text!r} is not an interval (15m, 1h, 1d), a preset "
        f"({', '.join(PRESETS)}) or a cron expression (e.g. '0 10 * * 1-5')"
    )
