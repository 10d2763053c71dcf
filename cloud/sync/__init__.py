"""The cloud's half of sync: tokens for workstations, pulls, pushes applied exactly once,
conflicts settled and logged, and compaction of the change log. See docs/protocol.md."""

from cloud.sync.compaction import compact
from cloud.sync.incoming import parse_changes
from cloud.sync.pull import pull_page
from cloud.sync.push import apply_push
from cloud.sync.tokens import SyncIdentity, check_token, issue_token

__all__ = ["SyncIdentity", "apply_push", "check_token", "compact", "issue_token", "parse_changes",
           "pull_page"]
