"""InfoBase/ReadMe.html: what a person reads before installing, made from a Jinja2 template.

Autoescaping is on: workstation and organization names come from tenant admins and must never
become markup in someone else's browser.
"""

from __future__ import annotations

from typing import Any

import jinja2

from core.signing import fingerprint

TEMPLATE = "ReadMe.html.j2"


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("bundle_builder", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_readme(manifest: dict[str, Any], *, bundle_name: str) -> str:
    """The ReadMe for a bundle whose manifest (without `files`) is `manifest`."""
    return _environment().get_template(TEMPLATE).render(
        m=manifest,
        bundle_name=bundle_name,
        fingerprint=manifest.get("key_fingerprint") or fingerprint(manifest["public_key"]),
    )
