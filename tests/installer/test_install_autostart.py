"""Autostart entries of the three platforms, each as its desktop expects it."""

from __future__ import annotations

import configparser
import plistlib
from pathlib import Path

from installer.autostart import (
    LinuxAutostart,
    MacAutostart,
    NullAutostart,
    WindowsAutostart,
    for_platform,
    home_tag,
)

HOME = Path("/home/ann/Work Data/outpost")
CMD = ["/opt/Outpost 1/outpost", "--home", str(HOME), "daemon"]


def desktop_exec_args(value: str) -> list[str]:
    """Read an Exec value as the Desktop Entry specification says: string escapes first
    (\\\\ is one backslash), then arguments split on spaces, where a double-quoted argument
    may hold spaces and backslash-escaped " ` $ and \\."""
    text = value.replace("\\\\", "\\")
    args: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == " ":
            i += 1
            continue
        arg = []
        if text[i] == '"':
            i += 1
            while text[i] != '"':
                if text[i] == "\\" and text[i + 1] in '"`$\\':
                    i += 1
                arg.append(text[i])
                i += 1
            i += 1
        else:
            while i < len(text) and text[i] != " ":
                arg.append(text[i])
                i += 1
        args.append("".join(arg).replace("%%", "%"))
    return args


def test_linux_desktop_entry(tmp_path):
    auto = LinuxAutostart(tmp_path / "autostart")
    path = auto.register(HOME, CMD)
    assert path == tmp_path / "autostart" / f"outpost-{home_tag(HOME)}.desktop"
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read_string(path.read_text("utf-8"))
    d = entry["Desktop Entry"]
    assert d["Type"] == "Application" and d["X-GNOME-Autostart-enabled"] == "true"
    assert d["Terminal"] == "false"
    assert d["Exec"] == '"/opt/Outpost 1/outpost" --home "/home/ann/Work Data/outpost" daemon'
    assert desktop_exec_args(d["Exec"]) == CMD
    odd = ["/opt/o$t/out`post", "--home", "/tmp/100% \"x\"\\y", "daemon"]
    d2 = configparser.ConfigParser(interpolation=None)
    d2.read_string(auto.render(HOME, odd).decode())
    assert desktop_exec_args(d2["Desktop Entry"]["Exec"]) == odd
    assert auto.registered(HOME)
    assert auto.unregister(HOME) == path and not path.exists()
    assert auto.unregister(HOME) is None


def test_macos_launch_agent(tmp_path):
    auto = MacAutostart(tmp_path / "Library" / "LaunchAgents")
    path = auto.register(HOME, CMD)
    assert path.name == f"org.outpost.workstation.{home_tag(HOME)}.plist"
    plist = plistlib.loads(path.read_bytes())
    assert plist["Label"] == path.name.removesuffix(".plist")
    assert plist["ProgramArguments"] == CMD
    assert plist["RunAtLoad"] is True and plist["KeepAlive"] is False
    assert plist["StandardErrorPath"] == str(HOME / "logs" / "daemon.out")
    assert auto.unregister(HOME) == path and not path.exists()


def test_windows_startup_script(tmp_path):
    home = Path("C:/Users/Ann/AppData/Local/outpost")
    cmd = ["C:\\Program Files\\Outpost\\outpost.exe", "--home", str(home), "daemon"]
    auto = WindowsAutostart(tmp_path / "Startup")
    path = auto.register(home, cmd)
    assert path.name == f"Outpost {home_tag(home)}.vbs"
    raw = path.read_bytes()
    assert raw.startswith(b"\xff\xfe")  # UTF-16 LE with its BOM
    text = raw.decode("utf-16")
    run = next(line for line in text.splitlines() if line.startswith("CreateObject"))
    assert run == ('CreateObject("WScript.Shell").Run """C:\\Program Files\\Outpost\\outpost.exe'
                   f'"" --home {home} daemon", 0, False')
    assert auto.unregister(home) == path


def test_each_platform_uses_its_usual_folder():
    env = {"HOME": "/home/ann", "XDG_CONFIG_HOME": "/home/ann/.cfg",
           "APPDATA": "C:\\Users\\Ann\\AppData\\Roaming"}
    linux = for_platform("linux", env)
    assert isinstance(linux, LinuxAutostart) and linux.base == Path("/home/ann/.cfg/autostart")
    assert for_platform("linux", {"HOME": "/home/ann"}).base == Path(
        "/home/ann/.config/autostart")
    mac = for_platform("darwin", env)
    assert isinstance(mac, MacAutostart)
    assert mac.base == Path("/home/ann/Library/LaunchAgents")
    win = for_platform("win32", env)
    assert isinstance(win, WindowsAutostart)
    assert win.base == Path("C:\\Users\\Ann\\AppData\\Roaming") / "Microsoft" / "Windows" / \
        "Start Menu" / "Programs" / "Startup"
    assert isinstance(for_platform("sunos5", env), NullAutostart)


def test_two_homes_get_two_entries(tmp_path):
    auto = LinuxAutostart(tmp_path)
    a, b = auto.register(Path("/h/one"), CMD), auto.register(Path("/h/two"), CMD)
    assert a != b and a.exists() and b.exists()
    auto.unregister(Path("/h/one"))
    assert not a.exists() and b.exists()
