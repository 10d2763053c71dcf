"""The daemon's states, named once: what `outpost status` shows and the tray draws."""

from __future__ import annotations

IDLE = "idle"  # online and up to date (or nothing has been tried yet)
SYNCING = "syncing"
OFFLINE = "offline"  # the cloud cannot be reached; probing with backoff
ERROR = "error"  # the last sync failed for another reason; retried with backoff
UNAUTHORIZED = "unauthorized"  # no sign-in, or the password changed: waits for `outpost login`
REVOKED = "revoked"  # the cloud revoked this workstation: waits for the user

STATES = (IDLE, SYNCING, OFFLINE, ERROR, UNAUTHORIZED, REVOKED)
BLOCKED = (UNAUTHORIZED, REVOKED)  # automatic sync stops until the user acts

# Why a sync ran (shown in the log and in `status --json` as daemon.last_trigger).
MANUAL_TRIGGERS = ("cli", "tray", "now")
