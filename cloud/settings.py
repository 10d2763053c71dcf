"""Where the cloud keeps its data, and its small settings file DATA/cloud.toml.

    DATA/registry.db          tenants, users, workstations
    DATA/tenants/<tenant>.db  each tenant's infobase (a core.Store, prefix "00")
    DATA/keys/signing.pem     Ed25519 private key (0600; DATA/keys is 0700)
    DATA/keys/signing.pub     its public key, base64
    DATA/cloud.toml           settings: url = the public base URL put in bundles
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import platformdirs

from cloud.files import write_atomic
from core.errors import StoreError, ValidationError

ENV_DATA = "OUTPOST_CLOUD_DATA"
DEFAULT_URL = "http://127.0.0.1:8750"
SETTINGS = "cloud.toml"


def default_data_dir() -> Path:
    env = os.environ.get(ENV_DATA)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("outpost-cloud", appauthor=False))


def check_url(url: str) -> str:
    """A public base URL: http(s), a host, no query; returned without a trailing slash."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(f"url: expected http(s)://host[:port], got {url!r}", field="url")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValidationError(f"url: must not carry credentials, a query or a fragment: {url!r}",
                              field="url")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ValidationError(f"url: bad port in {url!r}", field="url") from None
    return url.strip().rstrip("/")


@dataclass(frozen=True)
class Settings:
    url: str = DEFAULT_URL

    def to_toml(self) -> str:
        return (
            "# Outpost cloud settings.\n"
            "# url: the public base URL of this cloud, written into every bundle.\n"
            f"url = {_toml_string(self.url)}\n"
        )


def read_settings(path: Path) -> Settings:
    try:
        doc = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return Settings()
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise StoreError(f"{path}: cannot read settings: {exc}") from None
    url = doc.get("url", DEFAULT_URL)
    if not isinstance(url, str):
        raise StoreError(f"{path}: url must be a string")
    try:
        return Settings(url=check_url(url))
    except ValidationError as exc:
        raise StoreError(f"{path}: {exc.message}") from None


def write_settings(path: Path, settings: Settings) -> None:
    write_atomic(path, settings.to_toml().encode("utf-8"))


def _toml_string(value: str) -> str:
    out = ['"']
    for ch in value:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)
