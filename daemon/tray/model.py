"""What the tray shows, computed from the daemon's status alone: no display, no pystray.

`view(status)` gives the icon kind, the tooltip, the status line and the menu entries (with
their enabled/checked flags and the action each one names); `notifications(before, after)`
gives the messages for failures that need the user. The tray app only draws these.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

# Icon kinds (daemon.tray.icons draws one image per kind).
SYNCED = "synced"
SYNCING = "syncing"
OFFLINE = "offline"
ATTENTION = "attention"  # conflicts not looked at yet, or changes the cloud refused
ERROR = "error"
UNAUTHORIZED = "unauthorized"
REVOKED = "revoked"
PAUSED = "paused"
KINDS = (SYNCED, SYNCING, OFFLINE, ATTENTION, ERROR, UNAUTHORIZED, REVOKED, PAUSED)

# Actions the menu names (daemon.tray.app performs them).
SYNC_NOW = "sync_now"
OPEN_CONFLICTS = "open_conflicts"
TOGGLE_PAUSE = "toggle_pause"
OPEN_FOLDER = "open_folder"
OPEN_LOG = "open_log"
QUIT = "quit"
ACTIONS = (SYNC_NOW, OPEN_CONFLICTS, TOGGLE_PAUSE, OPEN_FOLDER, OPEN_LOG, QUIT)

TOOLTIP_MAX = 127  # Windows cuts tray tooltips at 128 characters


@dataclass(frozen=True)
class MenuEntry:
    text: str
    action: str | None = None  # None: a line of text, not clickable
    enabled: bool = True
    checked: bool | None = None  # None: not a check item
    default: bool = False  # what a click on the icon does
    separator_before: bool = False


@dataclass(frozen=True)
class TrayView:
    icon: str
    tooltip: str
    status_line: str
    menu: tuple[MenuEntry, ...]


def icon_kind(status: dict[str, Any]) -> str:
    state = status.get("state")
    if state in (REVOKED, UNAUTHORIZED, ERROR, SYNCING, OFFLINE):
        return str(state)
    if int(status.get("rejected") or 0) or int(status.get("conflicts_unseen") or 0):
        return ATTENTION
    if _daemon(status).get("paused"):
        return PAUSED
    return SYNCED


def status_line(status: dict[str, Any], now: float | None = None) -> str:
    now = time.time() if now is None else now
    state = status.get("state")
    d = _daemon(status)
    if state == SYNCING:
        prog = d.get("progress") or {}
        verb = {"push": "sending", "pull": "receiving", "refresh": "refreshing"}.get(
            str(prog.get("phase")), "")
        return f"Syncing… {verb} {prog.get('count')}".rstrip() if verb else "Syncing…"
    if state == OFFLINE:
        retry = d.get("retry_in")
        return "Offline: the cloud cannot be reached" + (
            f", retrying in {_duration(retry)}" if isinstance(retry, (int, float)) else "")
    if state == UNAUTHORIZED:
        return "Password needed: run `outpost login`"
    if state == REVOKED:
        return "This workstation was revoked in the cloud"
    if state == ERROR:
        return _short(f"Sync failed: {d.get('message') or _last(status).get('error') or '?'}")
    last = _last(status)
    if last.get("at") and last.get("ok"):
        line = f"Synced {_ago(float(last['at']), now)}"
    elif last.get("at"):
        line = f"Last sync failed {_ago(float(last['at']), now)}"
    else:
        line = "Not synced yet"
    if d.get("paused"):
        line += " (automatic sync paused)"
    return line


def tooltip(status: dict[str, Any], now: float | None = None) -> str:
    now = time.time() if now is None else now
    parts = [f"Outpost {status.get('name') or ''}".rstrip()]
    last = _last(status)
    if status.get("state") in (None, "idle"):
        parts.append(f"last sync {_clock(last.get('at'), now)}"
                     + ("" if last.get("ok", True) else " (failed)"))
    else:
        parts.append(status_line(status, now))
        if last.get("at"):
            parts.append(f"last sync {_clock(last.get('at'), now)}")
    pending = int(status.get("pending_changes") or 0)
    parts.append(f"{pending} change(s) to send" if pending else "nothing to send")
    text = f"{parts[0]}: {', '.join(parts[1:])}"
    return text if len(text) <= TOOLTIP_MAX else text[:TOOLTIP_MAX - 1] + "…"


def menu(status: dict[str, Any], now: float | None = None) -> tuple[MenuEntry, ...]:
    state = status.get("state")
    paused = bool(_daemon(status).get("paused"))
    conflicts = int(status.get("conflicts") or 0)
    rejected = int(status.get("rejected") or 0)
    label = f"Conflicts: {conflicts}" + (f", rejected: {rejected}" if rejected else "") + "…"
    return (
        MenuEntry("Sync now", SYNC_NOW, enabled=state != SYNCING, default=True),
        MenuEntry(status_line(status, now), None, enabled=False),
        MenuEntry(label, OPEN_CONFLICTS, enabled=bool(conflicts or rejected),
                  separator_before=True),
        MenuEntry("Pause automatic sync", TOGGLE_PAUSE, checked=paused),
        MenuEntry("Open data folder", OPEN_FOLDER, separator_before=True),
        MenuEntry("Open log", OPEN_LOG),
        MenuEntry("Quit Outpost", QUIT, separator_before=True),
    )


def view(status: dict[str, Any], now: float | None = None) -> TrayView:
    now = time.time() if now is None else now
    return TrayView(icon_kind(status), tooltip(status, now), status_line(status, now),
                    menu(status, now))


NEEDS_USER = {
    UNAUTHORIZED: ("Outpost: password needed",
                   "Sync stopped: the cloud no longer accepts this sign-in. "
                   "Run `outpost login` to sign in again."),
    REVOKED: ("Outpost: workstation revoked",
              "The cloud revoked this workstation; it will not sync again. Local data is kept. "
              "Ask your administrator for a new workstation."),
}


def notifications(before: dict[str, Any] | None,
                  after: dict[str, Any]) -> list[tuple[str, str]]:
    """(title, message) for each failure that needs the user and has just begun."""
    was = (before or {}).get("state")
    now = after.get("state")
    if now in NEEDS_USER and now != was:
        return [NEEDS_USER[str(now)]]
    return []


# -- helpers ---------------------------------------------------------------------------------


def _daemon(status: dict[str, Any]) -> dict[str, Any]:
    d = status.get("daemon")
    return d if isinstance(d, dict) else {}


def _last(status: dict[str, Any]) -> dict[str, Any]:
    last = status.get("last_sync")
    return last if isinstance(last, dict) else {}


def _ago(t: float, now: float) -> str:
    s = max(0.0, now - t)
    if s < 60:
        return "just now"
    if s < 3600:
        return f"{int(s // 60)} min ago"
    if s < 86400:
        return f"{int(s // 3600)} h ago"
    return "on " + dt.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M")


def _clock(t: Any, now: float) -> str:
    if not isinstance(t, (int, float)):
        return "never"
    when = dt.datetime.fromtimestamp(t)
    if now - t < 20 * 3600:
        return when.strftime("%H:%M")
    return when.strftime("%Y-%m-%d %H:%M")


def _duration(s: float) -> str:
    return f"{int(s)} s" if s < 90 else f"{round(s / 60)} min"


def _short(text: str, n: int = 90) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
