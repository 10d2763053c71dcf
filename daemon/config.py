"""The workstation's settings: a small flat TOML file that a person may read and edit.

The installer writes it from the bundle's manifest; `outpost config set` changes the keys a
user may change, each checked here, so a bad value is refused with a one-line reason instead of
breaking the daemon later.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from core.errors import OutpostError

MODES = ("manual", "scheduled", "realtime")
DEFAULT_SCHEDULE = "1h"


class ConfigError(OutpostError):
    code = "bad_config"


@dataclass
class Config:
    # Set by the installer from the signed manifest.
    workstation: str = ""
    name: str = ""
    tenant: str = ""
    cloud_url: str = ""
    cloud_key: str = ""  # base64 Ed25519 public key, pinned for later bundles
    orgs: list[str] = field(default_factory=list)  # empty: all organizations of the tenant
    prefix: str = ""
    # The user's to change.
    user: str = ""  # the login used at `outpost login`
    mode: str = "scheduled"
    schedule: str = DEFAULT_SCHEDULE
    working_hours: str = ""  # e.g. "08:00-18:00"; empty: any time
    proxy: str = ""  # e.g. "http://proxy.example:3128"; empty: none (or the environment's)
    allow_http: bool = False  # plain http to a non-loopback cloud

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


USER_KEYS = ("user", "mode", "schedule", "working_hours", "proxy", "allow_http")
_TIME_RANGE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")


def load(path: Path) -> Config:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no configuration (is the workstation installed?)") from None
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc}") from None
    known = {f.name for f in fields(Config)}
    cfg = Config(**{k: v for k, v in data.items() if k in known})
    for key in USER_KEYS:
        validate(key, getattr(cfg, key))
    return cfg


def save(path: Path, cfg: Config) -> None:
    """Write atomically: a reader sees the old file or the new one, never half of one."""
    lines = ["# Outpost workstation settings. `outpost config set KEY VALUE` checks values."]
    for k, v in asdict(cfg).items():
        lines.append(f"{k} = {_toml_value(v)}")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n", "utf-8")
    os.replace(tmp, path)


def set_value(cfg: Config, key: str, raw: str) -> Config:
    """Return a copy of `cfg` with `key` set from its text form, checked."""
    if key not in USER_KEYS:
        readonly = {f.name for f in fields(Config)} - set(USER_KEYS)
        if key in readonly:
            raise ConfigError(f"'{key}' comes from the workstation's bundle and cannot be set")
        raise ConfigError(f"unknown setting '{key}' (settings: {', '.join(USER_KEYS)})")
    value: Any = raw
    if key == "allow_http":
        if raw.lower() not in ("true", "false", "yes", "no", "1", "0"):
            raise ConfigError("allow_http must be true or false")
        value = raw.lower() in ("true", "yes", "1")
    validate(key, value)
    data = asdict(cfg)
    data[key] = value
    return Config(**data)


def validate(key: str, value: Any) -> None:
    if key == "mode" and value not in MODES:
        raise ConfigError(f"mode must be one of {', '.join(MODES)}, got {value!r}")
    if key == "schedule":
        from daemon.schedule import parse_schedule  # local: the schedule module is heavier

        parse_schedule(str(value))
    if key == "working_hours" and value and not _TIME_RANGE.match(str(value)):
        raise ConfigError("working_hours must look like 08:00-18:00, or be empty")
    if key == "proxy" and value and not re.match(r"^(https?|socks5h?)://[^\s]+$", str(value)):
        raise ConfigError("proxy must be a URL like http://host:3128, or be empty")
    if key == "allow_http" and not isinstance(value, bool):
        raise ConfigError("allow_http must be true or false")


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    s = str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{s}"'
