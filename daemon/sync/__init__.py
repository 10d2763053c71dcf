"""The workstation's half of sync: talk to the cloud, push the journal, pull the rest.

See docs/protocol.md. `run_sync` is the whole of it; the rest are its parts.
"""

from typing import TYPE_CHECKING, Any

from daemon.sync.engine import SyncResult, run_sync

if TYPE_CHECKING:
    from daemon.sync.client import CloudClient

__all__ = ["CloudClient", "SyncResult", "run_sync"]


def __getattr__(name: str) -> Any:
    """`CloudClient` loaded when first asked for: the HTTP stack (requests, urllib3, ssl) is
    most of a command's start, and `outpost status`, `data` or `config` never talk to the
    cloud."""
    if name == "CloudClient":
        from daemon.sync.client import CloudClient

        return CloudClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
