"""Starting the workstation's daemon at login, the way each desktop expects it.

    Linux    an XDG autostart entry: $XDG_CONFIG_HOME/autostart/outpost-<hash>.desktop
    macOS    a launchd agent: ~/Library/LaunchAgents/org.outpost.workstation.<hash>.plist
    Windows  a script in the Startup folder: %APPDATA%\\Microsoft\\Windows\\Start Menu\\Programs\\
             Startup\\Outpost <hash>.vbs (runs the daemon without a console window)

<hash> is a short hash of the home, so two workstations of one user never share an entry. Each
class takes its folder as a parameter, so all three can be produced (and tested) anywhere.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import plistlib
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path


def home_tag(home: Path) -> str:
    """Eight hex digits that tell two homes apart."""
    text = os.path.normcase(str(Path(home).absolute()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


class Autostart:
    """One platform's convention; `base` is the folder its entries live in."""

    platform = "none"

    def __init__(self, base: Path) -> None:
        self.base = Path(base)

    def filename(self, home: Path) -> str:
        raise NotImplementedError

    def render(self, home: Path, command: Sequence[str]) -> bytes:
        raise NotImplementedError

    def path(self, home: Path) -> Path:
        return self.base / self.filename(home)

    def register(self, home: Path, command: Sequence[str]) -> Path:
        """Write the entry (atomically); returns its path."""
        target = self.path(home)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_bytes(self.render(home, command))
        os.replace(tmp, target)
        return target

    def unregister(self, home: Path) -> Path | None:
        """Remove the entry; returns its path if there was one."""
        target = self.path(home)
        try:
            target.unlink()
        except FileNotFoundError:
            return None
        return target

    def registered(self, home: Path) -> bool:
        return self.path(home).exists()


class LinuxAutostart(Autostart):
    platform = "linux"

    def filename(self, home: Path) -> str:
        return f"outpost-{home_tag(home)}.desktop"

    def render(self, home: Path, command: Sequence[str]) -> bytes:
        lines = [
            "[Desktop Entry]",
            "Type=Application",
            "Version=1.0",
            f"Name=Outpost ({_desktop_string(Path(home).name)})",
            "Comment=Keeps this workstation's data in sync with the cloud",
            f"Exec={' '.join(_desktop_arg(a) for a in command)}",
            "Terminal=false",
            "NoDisplay=true",
            "X-GNOME-Autostart-enabled=true",
            f"X-Outpost-Home={_desktop_string(str(home))}",
        ]
        return ("\n".join(lines) + "\n").encode("utf-8")


class MacAutostart(Autostart):
    platform = "macos"

    def label(self, home: Path) -> str:
        return f"org.outpost.workstation.{home_tag(home)}"

    def filename(self, home: Path) -> str:
        return f"{self.label(home)}.plist"

    def render(self, home: Path, command: Sequence[str]) -> bytes:
        log = str(Path(home) / "logs" / "daemon.out")
        plist = {
            "Label": self.label(home),
            "ProgramArguments": list(command),
            "RunAtLoad": True,
            "KeepAlive": False,
            "ProcessType": "Interactive",
            "LimitLoadToSessionType": "Aqua",
            "StandardOutPath": log,
            "StandardErrorPath": log,
        }
        return plistlib.dumps(plist, fmt=plistlib.FMT_XML)


class WindowsAutostart(Autostart):
    platform = "windows"

    def filename(self, home: Path) -> str:
        return f"Outpost {home_tag(home)}.vbs"

    def render(self, home: Path, command: Sequence[str]) -> bytes:
        line = subprocess.list2cmdline(list(command)).replace('"', '""')
        text = (
            "' Starts the Outpost workstation daemon at login, without a console window.\r\n"
            f"' Home: {home}\r\n"
            f'CreateObject("WScript.Shell").Run "{line}", 0, False\r\n'
        )
        # UTF-16 with its BOM: Windows Script Host then reads any letter a path may hold.
        return ("\ufeff" + text).encode("utf-16-le")


class NullAutostart(Autostart):
    """A platform without a known convention: nothing is registered, and it says so."""

    platform = "none"

    def __init__(self, base: Path | None = None) -> None:
        super().__init__(base or Path("."))

    def filename(self, home: Path) -> str:
        return ""

    def register(self, home: Path, command: Sequence[str]) -> Path:
        raise OSError("autostart at login is not supported on this platform; "
                      "start the daemon yourself or use --no-autostart")

    def unregister(self, home: Path) -> Path | None:
        return None

    def registered(self, home: Path) -> bool:
        return False


def for_platform(platform: str | None = None,
                 env: Mapping[str, str] | None = None) -> Autostart:
    """The convention of `platform` (sys.platform by default), in the user's usual folder."""
    platform = platform or sys.platform
    env = os.environ if env is None else env
    user_home = Path(env.get("HOME") or env.get("USERPROFILE") or Path.home())
    if platform.startswith("linux") or platform.startswith("freebsd"):
        config = env.get("XDG_CONFIG_HOME") or str(user_home / ".config")
        return LinuxAutostart(Path(config) / "autostart")
    if platform == "darwin":
        return MacAutostart(user_home / "Library" / "LaunchAgents")
    if platform in ("win32", "cygwin"):
        appdata = env.get("APPDATA") or str(user_home / "AppData" / "Roaming")
        return WindowsAutostart(Path(appdata) / "Microsoft" / "Windows" / "Start Menu"
                                / "Programs" / "Startup")
    return NullAutostart()


def _desktop_arg(arg: str) -> str:
    """Quote one Exec argument as the Desktop Entry specification says.

    Quoting escapes come first, then the string escape of every backslash (the reader undoes
    them in the opposite order), so a literal backslash ends up as four.
    """
    arg = arg.replace("%", "%%")
    if arg and not any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`='):
        return arg
    quoted = '"' + "".join("\\" + c if c in '"`$\\' else c for c in arg) + '"'
    return quoted.replace("\\", "\\\\")


def _desktop_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")


def remove_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
