"""What can go wrong talking to the cloud, each with the state it puts the workstation in.

Like Maestral's error handling: every failure has a short title for the tray and a message a
person can act on; connectivity problems are a state (offline), not a crash.
"""

from __future__ import annotations

from core.errors import OutpostError


class SyncError(OutpostError):
    """Base of sync failures; `state` is what `outpost status` shows afterwards."""

    state = "error"
    title = "Sync failed"


class Offline(SyncError):
    state = "offline"
    title = "Cloud unreachable"


class NotLoggedIn(SyncError):
    state = "unauthorized"
    title = "Password needed"


class AuthFailed(SyncError):
    state = "unauthorized"
    title = "Password needed"


class Revoked(SyncError):
    state = "revoked"
    title = "Workstation revoked"


class MustRefresh(SyncError):
    """The cloud cannot serve this workstation's position (restored backup, or long offline)."""

    title = "Refreshing data"


class OutOfOrder(SyncError):
    """A batch sent behind another reached the cloud first: sent again once that one is
    answered."""


class Busy(SyncError):
    state = "syncing"
    title = "Sync already running"


class CloudRefused(SyncError):
    """The cloud answered a request with a 4xx we did not expect: a bug, or a bad setting."""

    title = "Cloud refused the request"
