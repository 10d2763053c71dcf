"""Where the workstation's token lives: the OS keyring where one works, else an encrypted file.

The password itself is never stored: `outpost login` exchanges it for a per-workstation token
the cloud can revoke. The fallback file is encrypted (Fernet, key derived from this
installation) and readable by its owner only; the file mode is the real protection, the
encryption keeps the token out of backups and casual reads.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from daemon.home import Home

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

SERVICE = "outpost"


def machine_id() -> str:
    for p in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            text = Path(p).read_text().strip()
        except OSError:
            continue
        if text:
            return text
    return f"node-{uuid.getnode():012x}"


def installation_id(home: Home) -> str:
    """A random id made once per home; it survives a restore of the home from a backup."""
    path = home.state / "installation_id"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        home.state.mkdir(parents=True, exist_ok=True)
        value = str(uuid.uuid4())
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(value)
        os.replace(tmp, path)
        return value


def binding(home: Home) -> str:
    """What ties a workstation to this computer and this home, sent at login."""
    raw = f"{machine_id()}|{installation_id(home)}".encode()
    return hashlib.sha256(raw).hexdigest()


class Credentials:
    def __init__(self, home: Home, account: str) -> None:
        self.home = home
        self.account = account  # e.g. "<tenant>/<workstation id>"
        self.file = home.state / "credentials.enc"
        self.marker = home.state / "credentials.where"
        self._key_cache: Fernet | None = None

    @classmethod
    def of(cls, home: Home, tenant: str, workstation: str) -> Credentials:
        """The credentials of one workstation installed in `home`."""
        return cls(home, f"{tenant}/{workstation}")

    def where(self) -> str | None:
        try:
            return self.marker.read_text().strip() or None
        except FileNotFoundError:
            return None

    def save(self, token: str) -> str:
        import keyring  # here, not at the top: most commands never touch the keyring

        self.clear()
        try:
            keyring.set_password(SERVICE, self._key(), token)
            if keyring.get_password(SERVICE, self._key()) == token:
                self._mark("keyring")
                return "keyring"
        except Exception:
            pass
        self.home.state.mkdir(parents=True, exist_ok=True)
        data = self._fernet().encrypt(token.encode())
        tmp = self.file.with_name(self.file.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, self.file)
        self._mark("file")
        return "file"

    def load(self) -> str | None:
        where = self.where()
        if where == "keyring":
            import keyring  # here, not at the top: a file-kept token does not need it

            try:
                return keyring.get_password(SERVICE, self._key())
            except Exception:
                return None
        if where == "file":
            from cryptography.fernet import InvalidToken

            try:
                return self._fernet().decrypt(self.file.read_bytes()).decode()
            except (OSError, InvalidToken):
                return None
        return None

    def clear(self) -> None:
        if self.where() == "keyring":
            import keyring

            with contextlib.suppress(Exception):
                keyring.delete_password(SERVICE, self._key())
        self.file.unlink(missing_ok=True)
        self.marker.unlink(missing_ok=True)

    def _key(self) -> str:
        return f"{self.account}@{hashlib.sha256(str(self.home.root).encode()).hexdigest()[:12]}"

    def _mark(self, where: str) -> None:
        self.home.state.mkdir(parents=True, exist_ok=True)
        self.marker.write_text(where)

    def _fernet(self) -> Fernet:
        """The file's key, derived once per instance: the daemon reads the token at every sync
        (a login from another process may have changed it), but the key never changes."""
        if self._key_cache is None:
            self._key_cache = self._derive()
        return self._key_cache

    def _derive(self) -> Fernet:
        # here, not at the top: only a token kept in the file needs cryptography
        from cryptography.fernet import Fernet
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        secret = f"{machine_id()}|{installation_id(self.home)}|{self.account}".encode()
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"outpost-credentials",
                   info=b"token-file").derive(secret)
        return Fernet(base64.urlsafe_b64encode(key))
