"""The daemon's engine: the state, and one worker thread that runs every sync.

Like Maestral's manager: small threads each wait for their own reason to act (the scheduler
for a due time, the connection monitor for a retry or a probe, the long-poll for the cloud's
head, the file watcher for a local write) and all of them only *ask* the worker for a sync.
Requests made while a sync runs are coalesced into the next one, so there is never more than
one sync at a time and never a backlog. The control channel calls the public methods below
(status, sync_now, stop, set_config, pause, resume, credentials_changed, conflicts); `status`
answers from memory at once, whatever the worker is doing.

Nothing here waits by polling: every thread blocks on an Event or a Condition, with a timeout
only where a time is actually due.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import apsw

from core.errors import OutpostError
from core.store import Store
from daemon import config as config_mod
from daemon.config import Config
from daemon.home import Home
from daemon.service.backoff import Backoff
from daemon.service.connectivity import ConnectionMonitor
from daemon.service.longpoll import RemoteWatcher
from daemon.service.scheduler import Plan, Scheduler
from daemon.service.states import BLOCKED, ERROR, IDLE, OFFLINE, SYNCING, UNAUTHORIZED
from daemon.service.tuning import Tuning
from daemon.service.watcher import LocalWatcher
from daemon.state import read_json, write_json
from daemon.sync.client import CloudClient
from daemon.sync.errors import Busy
from daemon.workstation import Workstation

log = logging.getLogger("outpost.daemon")
AUTO_NEEDS_ONLINE = ("local", "remote", "schedule")  # triggers that wait out offline and error


class Stopping(OutpostError):
    code = "stopping"


def has_pushable(store: Store) -> bool:
    """Is there a local change to send (a batch in flight, or a journal row not refused)?"""
    try:
        if store.scalar("SELECT 1 FROM _outbox LIMIT 1"):
            return True
    except apsw.Error:  # no _outbox before the first push
        pass
    return bool(store.scalar(
        "SELECT 1 FROM _journal j WHERE NOT EXISTS "
        "(SELECT 1 FROM _rejected r WHERE r.id = j.id AND r.seq >= j.seq) LIMIT 1"))


def iso(t: float | None) -> str | None:
    if t is None:
        return None
    return dt.datetime.fromtimestamp(t).astimezone().isoformat(timespec="seconds")


class Engine:
    def __init__(self, home: Home, *, tuning: Tuning | None = None,
                 rng: Callable[[], float] = random.random) -> None:
        self.home = home
        self.tuning = tuning or Tuning.from_env()
        self.ws = Workstation(home)  # its store is used by the worker thread only
        self._cond = threading.Condition()
        self._config_lock = threading.Lock()
        self._stopping = threading.Event()
        self._abandon = threading.Event()
        # State (guarded by _cond).
        self._state = IDLE
        self._message: str | None = None
        self._online: bool | None = None
        self._paused = False
        self._progress: dict[str, Any] | None = None
        self._version = 0
        self._requested = 0  # sync requests made ...
        self._started = 0  # ... covered by the sync running or last run ...
        self._done = 0  # ... covered by the last sync finished
        self._triggers: list[str] = []
        self._check = False  # local files changed: recount (and push in realtime mode)
        self._last_result: dict[str, Any] | None = None
        self._last_trigger: str | None = None
        self._last_contact = time.monotonic()
        self._base: dict[str, Any] = {}
        self._pushable = False
        self._cred_stamp: tuple[Any, ...] | None = None
        self.started_at = time.time()
        self.tray = False
        t = self.tuning
        self.scheduler = Scheduler(Plan(home.state / "schedule.json"), self._on_due,
                                   tick=t.tick, jitter=t.jitter, rng=rng)
        self.monitor = ConnectionMonitor(self, Backoff(t.backoff_base, t.backoff_cap, rng=rng),
                                         probe_interval=t.probe_interval)
        self.remote = RemoteWatcher(self, timeout=t.wait_timeout,
                                    pause_after_error=max(t.backoff_base, 1.0))
        self.watcher = LocalWatcher(
            home.root, home.state, database=home.database.name, on_data=self.local_changed,
            on_config=self.config_changed, on_credentials=self.credentials_changed,
            debounce=t.debounce)
        self._worker = threading.Thread(target=self._work, name="outpost-sync", daemon=True)
        self._threads: list[threading.Thread] = []

    # -- life --------------------------------------------------------------------------------

    def start(self) -> None:
        cfg = self.ws.config
        self._refresh()
        self._cred_stamp = self._credentials_stamp()
        self._state, self._message = self._initial_state()
        self.scheduler.start_plan(cfg.mode, cfg.schedule, cfg.working_hours)
        self._paused = self.scheduler.paused
        self.watcher.start()
        self._worker.start()
        for name, target in (("schedule", self.scheduler.run), ("connectivity", self.monitor.run),
                             ("longpoll", self.remote.run)):
            th = threading.Thread(target=target, args=(self._stopping,), name=f"outpost-{name}",
                                  daemon=True)
            th.start()
            self._threads.append(th)
        log.info("daemon started for %s (workstation %s, mode %s%s)", self.home.root,
                 cfg.name, cfg.mode, ", paused" if self._paused else "")
        if cfg.mode == "realtime":
            self.request_auto("start")

    def stop(self) -> None:
        """Ask everything to stop; `shutdown` then finishes (or abandons) the sync running."""
        if not self._stopping.is_set():
            log.info("stopping")
        self._stopping.set()
        with self._cond:
            self._bump()

    @property
    def stopping(self) -> threading.Event:
        return self._stopping

    def wait_stopped(self) -> None:
        # On Windows a plain wait would not let Ctrl+C through; elsewhere signals interrupt it.
        timeout = 1.0 if os.name == "nt" else None
        while not self._stopping.wait(timeout):
            pass

    def shutdown(self) -> None:
        """After stop(): let a sync in progress finish within the grace time, else abandon it
        between batches (a sync cut off is simply run again); then one last push of local
        changes if automatic sync is on; then close."""
        self.stop()
        grace = self.tuning.stop_grace
        if self._worker.is_alive():
            self._worker.join(grace)
        if self._worker.is_alive():
            log.info("abandoning the sync in progress (it resumes at the next start)")
            self._abandon.set()
            self._worker.join(30)
        if not self._worker.is_alive():
            self._final_push(grace)
            self.watcher.stop()
            self.ws.close()
        log.info("stopped")

    def _final_push(self, grace: float) -> None:
        cfg = self.ws.config
        with self._cond:
            go = (cfg.mode != "manual" and not self._paused and self._state == IDLE
                  and self._pushable)
        if not go:
            return
        deadline = time.monotonic() + grace
        try:
            res = self.ws.sync(should_stop=lambda: time.monotonic() > deadline)
            log.info("last push before stopping: %s", _summary(res.to_json()))
        except Exception as exc:
            log.warning("last push before stopping failed: %s", exc)

    # -- what the control channel calls ------------------------------------------------------

    def status(self, since: int | None = None, wait: float = 0.0) -> dict[str, Any]:
        """From memory, at once; with `since`, first wait (up to `wait` s) for a change."""
        with self._cond:
            if since is not None and wait > 0:
                self._cond.wait_for(
                    lambda: self._version != since or self._stopping.is_set(), wait)
            return self._status_locked()

    def sync_now(self, wait: bool = True, trigger: str = "now") -> dict[str, Any] | None:
        seq = self._request(trigger, manual=True)
        if seq is None:
            raise Stopping("the Outpost daemon is stopping")
        if not wait:
            return {"queued": True, "via": "daemon", "trigger": trigger}
        res = self.wait_done(seq, None)
        if res is None:
            raise Stopping("the Outpost daemon stopped before the sync ran")
        return {**res, "via": "daemon", "trigger": trigger}

    def set_config(self, key: str, value: str) -> dict[str, Any]:
        with self._config_lock:
            old = self.ws.config
            new = self.ws.set_config(key, value)
        self._apply_config(old, new)
        data = new.to_json()
        return {"key": key, "value": data[key], "config": data}

    def pause(self) -> None:
        with self._cond:
            self._paused = True
            self._bump()
        self.scheduler.set_paused(True)
        log.info("automatic sync paused")

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._bump()
        self.scheduler.set_paused(False)
        log.info("automatic sync resumed")
        if self.ws.config.mode == "realtime":
            self.request_auto("resume")

    def credentials_changed(self) -> None:
        """`outpost login` stored a new token (told by the CLI, or seen by the file watcher)."""
        stamp = self._credentials_stamp()
        with self._cond:
            if stamp == self._cred_stamp:
                return
            self._cred_stamp = stamp
            if not self.ws.credentials.where():
                self._state, self._message = UNAUTHORIZED, "not signed in: run `outpost login`"
                self._bump()
                return
            if self._state in BLOCKED:
                self._state, self._message = IDLE, None
            self._request("login", manual=False)  # under the same lock: no one sees idle first
            self._bump()
        log.info("new sign-in: syncing")

    def conflicts(self) -> dict[str, Any]:
        ws = Workstation(self.home)  # its own connection: never waits behind the worker
        try:
            data = ws.conflicts()
        finally:
            ws.close()
        newest = max((int(c["n"]) for c in data["conflicts"]), default=0)
        write_json(self._seen_file, {"n": newest})
        self.local_changed()  # recount: the tray's attention mark clears
        return data

    # -- for the threads ---------------------------------------------------------------------

    def request_auto(self, trigger: str) -> int | None:
        return self._request(trigger, manual=False)

    def wait_done(self, seq: int, timeout: float | None) -> dict[str, Any] | None:
        with self._cond:
            self._cond.wait_for(lambda: self._done >= seq or self._stopping.is_set(), timeout)
            return self._last_result if self._done >= seq else None

    def local_changed(self) -> None:
        with self._cond:
            self._check = True
            self._cond.notify_all()

    def config_changed(self) -> None:
        """config.toml changed on disk (edited by hand): take it if it is valid."""
        try:
            new = config_mod.load(self.home.config)
        except OutpostError as exc:
            log.warning("config.toml was changed but is not valid, kept the old settings: %s",
                        exc.message)
            return
        with self._config_lock:
            old = self.ws.config
            if new == old:
                return
            self.ws.config = new
        log.info("config.toml changed on disk: settings reloaded")
        self._apply_config(old, new)

    # Connection monitor.

    def connectivity(self) -> tuple[str, bool, float]:
        with self._cond:
            state = SYNCING if self._requested > self._started else self._state
            retry = not self._paused and self.ws.config.mode != "manual"
            return state, retry, self._last_contact

    def probe(self) -> str | None:
        try:
            client = self.ws.client(token="", retries=0)
            try:
                client.health(timeout=self.tuning.probe_timeout)
            finally:
                client.close()
        except OutpostError as exc:
            return exc.message
        except Exception as exc:
            return str(exc)
        self.contact()
        return None

    def contact(self) -> None:
        self._last_contact = time.monotonic()

    def back_online(self) -> None:
        with self._cond:
            if self._state != OFFLINE:
                return
            self._state, self._online, self._message = IDLE, True, None
            self._last_contact = time.monotonic()
            self._request("online", manual=False)
            self._bump()
        log.info("online again")

    def went_offline(self, reason: str) -> None:
        with self._cond:
            if self._state not in (IDLE, ERROR) or self._stopping.is_set():
                return
            self._state, self._online, self._message = OFFLINE, False, reason
            self._bump()
        log.warning("offline: %s", reason)

    def retry(self) -> None:
        self.request_auto("retry")

    # Long-poll.

    def poll_ready(self) -> bool:
        with self._cond:
            return (self.ws.config.mode == "realtime" and self._state == IDLE
                    and self._requested == self._done and not self._paused
                    and not self._stopping.is_set() and self._cred_stamp is not None
                    and bool(self._cred_stamp[0]))

    def cursor(self) -> int:
        with self._cond:
            return int(self._base.get("cursor") or 0)

    def poll_client(self) -> CloudClient:
        return self.ws.client(retries=0)

    def blocked(self, state: str, reason: str) -> None:
        with self._cond:
            if self._state == state:
                return
            self._state, self._message = state, reason
            self._bump()
        log.warning("%s: %s", state, reason)

    # -- inside ------------------------------------------------------------------------------

    def _request(self, trigger: str, *, manual: bool) -> int | None:
        with self._cond:
            if self._stopping.is_set():
                return None
            if not manual and not self._auto_allowed(trigger):
                log.debug("automatic sync (%s) skipped in state %s%s", trigger, self._state,
                          ", paused" if self._paused else "")
                return None
            self._requested += 1
            self._triggers.append(trigger)
            self._cond.notify_all()
            return self._requested

    def _auto_allowed(self, trigger: str) -> bool:
        if self._paused or self._state in BLOCKED:
            return False
        return not (trigger in AUTO_NEEDS_ONLINE and self._state in (OFFLINE, ERROR))

    def _on_due(self) -> bool:
        return self.request_auto("schedule") is not None

    def _work(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stopping.is_set()
                                    or self._requested > self._started or self._check)
                if self._stopping.is_set():
                    return
                if self._requested > self._started:
                    seq = self._started = self._requested
                    triggers, self._triggers = self._triggers, []
                    self._state, self._progress = SYNCING, None
                    self._last_trigger = ",".join(dict.fromkeys(triggers))
                    self._bump()
                else:
                    seq, self._check = 0, False
            if seq:
                self._run_sync(seq)
            else:
                self._run_check()

    def _run_sync(self, seq: int) -> None:
        trigger = self._last_trigger or "?"
        log.info("sync (%s) started", trigger)
        try:
            res = self.ws.sync(progress=self._on_progress, wait=30,
                               should_stop=self._abandon.is_set).to_json()
        except Busy as exc:
            res = _failed(ERROR, exc.message)
        except Exception as exc:
            if not isinstance(exc, OutpostError):
                log.exception("sync failed unexpectedly")
            res = _failed(ERROR, str(exc))
            with contextlib.suppress(OSError):
                self.ws.log.record(res)
        log.info("sync (%s): %s", trigger, _summary(res))
        self._refresh()
        ok = bool(res.get("ok"))
        with self._cond:
            state = str(res.get("state") or ERROR)
            if ok:
                self._state, self._online, self._message = IDLE, True, None
                self._last_contact = time.monotonic()
            elif state == OFFLINE:
                self._state, self._online, self._message = OFFLINE, False, res.get("error")
            elif state in BLOCKED:
                self._state, self._online, self._message = state, True, res.get("error")
            else:
                self._state, self._message = ERROR, res.get("error")
            self._done, self._last_result, self._progress = seq, res, None
            pushable = self._pushable
            self._bump()
        if ok:
            self.monitor.succeeded()
        cfg = self.ws.config
        self.scheduler.replan(cfg.mode, cfg.schedule, cfg.working_hours)
        if ok and pushable and cfg.mode == "realtime":
            self.request_auto("local")  # written while the sync ran

    def _run_check(self) -> None:
        self._refresh()
        with self._cond:
            pushable = self._pushable
            self._bump()
        if pushable and self.ws.config.mode == "realtime":
            self.request_auto("local")

    def _refresh(self) -> None:
        """Re-read what status shows from the database and the state files."""
        try:
            base = self.ws.status()
            store = self.ws.store
            pushable = has_pushable(store)
            seen = read_json(self._seen_file, {})
            seen_n = int(seen.get("n", 0)) if isinstance(seen, dict) else 0
            base["conflicts_unseen"] = int(store.scalar(
                "SELECT count(*) FROM _conflicts WHERE restored_at IS NULL AND n > ?",
                (seen_n,)) or 0)
        except Exception as exc:
            log.warning("cannot read the workstation's state: %s", exc)
            return
        with self._cond:
            self._base, self._pushable = base, pushable

    def _on_progress(self, phase: str, count: int) -> None:
        with self._cond:
            self._progress = {"phase": phase, "count": count}
            self._bump()

    def _apply_config(self, old: Config, new: Config) -> None:
        if (old.mode, old.schedule, old.working_hours) != (new.mode, new.schedule,
                                                           new.working_hours):
            log.info("mode %s%s", new.mode,
                     f", schedule {new.schedule}" if new.mode == "scheduled" else "")
            self.scheduler.replan(new.mode, new.schedule, new.working_hours)
        with self._cond:
            self._bump()
        if new.mode == "realtime" and old.mode != "realtime":
            self.request_auto("realtime")

    def _bump(self) -> None:
        """Call with _cond held: the state changed; wake whoever waits for news."""
        self._version += 1
        self._cond.notify_all()
        for ev in (self.monitor.wake, self.remote.wake):
            ev.set()

    def _status_locked(self) -> dict[str, Any]:
        cfg = self.ws.config
        st = dict(self._base)
        st.update({
            "state": self._state, "mode": cfg.mode, "schedule": cfg.schedule, "user": cfg.user,
            "working_hours": cfg.working_hours,
        })
        due = self.scheduler.due
        show_due = cfg.mode == "scheduled" and not self._paused and self._state not in BLOCKED
        st["next_sync"] = iso(due) if show_due else None
        st["daemon"] = {
            "running": True, "pid": os.getpid(), "since": iso(self.started_at),
            "paused": self._paused, "online": self._online, "message": self._message,
            "progress": self._progress, "last_trigger": self._last_trigger,
            "retry_in": self.monitor.next_retry_in(), "tray": self.tray,
            "version": self._version,
        }
        st["version"] = self._version
        return st

    def _initial_state(self) -> tuple[str, str | None]:
        if not self.ws.credentials.where():
            return UNAUTHORIZED, "not signed in: run `outpost login`"
        last = self.ws.log.last()
        if last and last.get("state") in BLOCKED:
            try:
                signed_in = (self.home.state / "credentials.where").stat().st_mtime
            except OSError:
                signed_in = 0.0
            if signed_in <= float(last.get("at") or 0):
                return str(last["state"]), last.get("error")
        return IDLE, None

    def _credentials_stamp(self) -> tuple[Any, ...]:
        parts: list[Any] = [self.ws.credentials.where()]
        for name in ("credentials.where", "credentials.enc"):
            try:
                st = (self.home.state / name).stat()
                parts.append((st.st_mtime_ns, st.st_size))
            except OSError:
                parts.append(None)
        return tuple(parts)

    @property
    def _seen_file(self) -> Path:
        return self.home.state / "conflicts_seen.json"


def _failed(state: str, error: str) -> dict[str, Any]:
    return {"at": time.time(), "ok": False, "pushed": 0, "pulled": 0, "conflicts": 0,
            "rejected": 0, "refreshed": False, "error": error, "state": state, "seconds": 0.0}


def _summary(res: dict[str, Any]) -> str:
    if res.get("ok"):
        return (f"ok, sent {res.get('pushed', 0)}, received {res.get('pulled', 0)}, "
                f"{res.get('conflicts', 0)} conflict(s), {res.get('rejected', 0)} rejected "
                f"in {res.get('seconds', 0)} s")
    return f"failed ({res.get('state')}): {res.get('error')}"
