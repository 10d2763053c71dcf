"""The workstation bundle's format, which the builder writes and the installer checks.

Both sides import these names from here, so they can never drift apart (docs/bundle.md).
"""

from __future__ import annotations

from typing import Any

import orjson

FORMAT = 1
DATABASE = "InfoBase/infobase.db"
README = "InfoBase/ReadMe.html"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
MEMBERS = (DATABASE, README, MANIFEST, SIGNATURE)


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """The exact bytes that are signed: sorted keys, indented, one trailing newline."""
    return orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
