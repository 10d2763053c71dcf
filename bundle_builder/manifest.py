"""The bundle's format: its members, and the manifest that the cloud's key signs.

The installer checks bundles against the same names and fields (docs/bundle.md); it keeps its
own copy of them because it ships to workstations without this package.
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
