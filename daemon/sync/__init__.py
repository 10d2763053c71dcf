"""The workstation's half of sync: talk to the cloud, push the journal, pull the rest.

See docs/protocol.md. `run_sync` is the whole of it; the rest are its parts.
"""

from daemon.sync.client import CloudClient
from daemon.sync.engine import SyncResult, run_sync

__all__ = ["CloudClient", "SyncResult", "run_sync"]
