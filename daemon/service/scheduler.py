"""When the next automatic sync is due, kept on disk so a run missed while the computer slept
or was off happens when it wakes.

The plan (HOME/state/schedule.json) holds the due time and the settings it was computed from;
a due time in the past at start-up, or a wall clock that jumped past it while waiting, means a
missed run: it happens now, after a small random delay so that workstations waking together do
not all call the cloud at once. Cron-timed runs and the start of working hours get the same
jitter. Waiting is an Event wait with a timeout computed from the due time (at most `tick`
seconds at once), never a polling loop.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from daemon.schedule import parse_schedule
from daemon.state import read_json, write_json

log = logging.getLogger("outpost.daemon.schedule")
LATE = 5.0  # seconds past `tick` that mark a wait that overslept (the computer was asleep)


def parse_hours(text: str) -> tuple[dt.time, dt.time] | None:
    """'08:00-18:00' -> (start, end); empty or a zero-length window -> None (any time)."""
    if not text:
        return None
    a, _, b = text.partition("-")
    start = dt.time.fromisoformat(a.strip())
    end = dt.time.fromisoformat(b.strip())
    return None if start == end else (start, end)


def within_hours(t: float, hours: str) -> float:
    """`t` if it falls inside the working hours, else the start of the next window."""
    window = parse_hours(hours)
    if window is None:
        return t
    start, end = window
    local = dt.datetime.fromtimestamp(t)
    tod = local.time()
    inside = (start <= tod < end) if start < end else (tod >= start or tod < end)
    if inside:
        return t
    day = local.date()
    candidate = dt.datetime.combine(day, start)
    if candidate <= local:
        candidate = dt.datetime.combine(day + dt.timedelta(days=1), start)
    return candidate.timestamp()


def next_due(mode: str, schedule: str, hours: str, after: float, *,
             rng: Callable[[], float], jitter: float) -> float | None:
    """The next scheduled run after `after` (epoch seconds); None unless mode is scheduled."""
    if mode != "scheduled":
        return None
    sched = parse_schedule(schedule)
    nxt = sched.next_after(dt.datetime.fromtimestamp(after).astimezone()).timestamp()
    spread = sched.cron is not None
    moved = within_hours(nxt, hours)
    if moved != nxt:
        nxt, spread = moved, True
    return nxt + (rng() * jitter if spread else 0.0)


def missed_due(hours: str, now: float, *, rng: Callable[[], float], jitter: float) -> float:
    """A run that should have happened already: soon, spread, inside working hours."""
    return within_hours(now, hours) + rng() * jitter


class Plan:
    """The scheduler's state on disk: due time, the settings behind it, and `paused`."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Any]:
        data = read_json(self.path, {})
        return data if isinstance(data, dict) else {}

    def save(self, data: dict[str, Any]) -> None:
        try:
            write_json(self.path, data)
        except OSError as exc:  # a full disk must not stop the daemon; the plan is a hint
            log.warning("cannot save the sync plan: %s", exc)


class Scheduler:
    """Fires `on_due()` when the planned time comes; the engine replans after every sync."""

    def __init__(self, plan: Plan, on_due: Callable[[], bool], *, tick: float, jitter: float,
                 rng: Callable[[], float], clock: Callable[[], float] = time.time) -> None:
        self.plan = plan
        self.on_due = on_due
        self.tick = max(tick, 1.0)
        self.jitter = jitter
        self.rng = rng
        self.clock = clock
        self.wake = threading.Event()
        self._lock = threading.Lock()
        self.due: float | None = None
        self._settings: tuple[str, str, str] = ("manual", "", "")
        self.paused = False

    # -- planning ----------------------------------------------------------------------------

    def start_plan(self, mode: str, schedule: str, hours: str) -> float | None:
        """At start-up: keep the saved due time, or catch up a missed run, or plan afresh."""
        saved = self.plan.load()
        self.paused = bool(saved.get("paused", False))
        now = self.clock()
        settings = (mode, schedule, hours)
        due: float | None
        if mode != "scheduled":
            due = None
        elif [saved.get("mode"), saved.get("schedule"), saved.get("working_hours")] == \
                list(settings) and isinstance(saved.get("due"), (int, float)):
            due = float(saved["due"])
            if due <= now:
                log.info("a scheduled sync was missed at %s: it runs now", _iso(due))
                due = missed_due(hours, now, rng=self.rng, jitter=self.jitter)
        else:  # first start, or the settings changed while the daemon was not running
            due = missed_due(hours, now, rng=self.rng, jitter=self.jitter)
        self._set(settings, due)
        return due

    def replan(self, mode: str, schedule: str, hours: str, *, after: float | None = None) -> None:
        """After a sync (or a change of settings): the next run counts from `after` (now)."""
        when = self.clock() if after is None else after
        try:
            due = next_due(mode, schedule, hours, when, rng=self.rng, jitter=self.jitter)
        except Exception as exc:  # a schedule broken by hand in config.toml: say so, go manual
            log.error("cannot plan the next sync: %s", exc)
            due = None
        self._set((mode, schedule, hours), due)

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        with self._lock:
            self._save()
        self.wake.set()

    def _set(self, settings: tuple[str, str, str], due: float | None) -> None:
        with self._lock:
            self._settings, self.due = settings, due
            self._save()
        self.wake.set()

    def _save(self) -> None:
        mode, schedule, hours = self._settings
        self.plan.save({"due": self.due, "mode": mode, "schedule": schedule,
                        "working_hours": hours, "paused": self.paused})

    # -- the loop ----------------------------------------------------------------------------

    def run(self, stopping: threading.Event) -> None:
        while not stopping.is_set():
            due = self.due
            if due is None:
                self.wake.wait()
                self.wake.clear()
                continue
            now = self.clock()
            delay = due - now
            if delay > 0:
                self.wake.wait(min(delay, self.tick))
                self.wake.clear()
                continue
            if stopping.is_set():
                return
            if -delay > self.tick + LATE:  # we slept through it: catch up, with jitter
                log.info("woke %.0f s after a scheduled sync: it runs now", -delay)
                mode, schedule, hours = self._settings
                with self._lock:
                    if self.due == due:
                        self.due = missed_due(hours, now, rng=self.rng, jitter=self.jitter)
                        self._save()
                continue
            with self._lock:
                if self.due != due:
                    continue
                self.due = None  # the engine replans when the sync it asks for is over
            if not self.on_due():
                mode, schedule, hours = self._settings
                self.replan(mode, schedule, hours)


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t).astimezone().isoformat(timespec="seconds")
