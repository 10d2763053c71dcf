"""The bundle's format: its members, and the manifest that the cloud's key signs.

Defined once in core.bundle_format, which the installer checks against (docs/bundle.md).
"""

from core.bundle_format import (
    DATABASE,
    FORMAT,
    MANIFEST,
    MEMBERS,
    README,
    SIGNATURE,
    manifest_bytes,
)

__all__ = ["DATABASE", "FORMAT", "MANIFEST", "MEMBERS", "README", "SIGNATURE", "manifest_bytes"]
