"""The daemon with its tray icon on a real X server (Xvfb), photographed.

Xvfb is a Debian package; where it is missing and this runs as root with apt-get (as in CI) it
is installed once per session, otherwise the test is skipped with the reason. A tiny system
tray (xtray.py) stands in for the desktop's panel, and pystray's xorg backend docks into it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from daemon.tray import icons, model
from tests.daemon.daemon_helpers import Daemon, wait_for
from tests.support.workstation import outpost

HERE = Path(__file__).parent


@pytest.fixture(scope="session")
def xvfb() -> str:
    found = shutil.which("Xvfb")
    if found:
        return found
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("Xvfb is not installed, and installing it needs root and apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    steps = (["apt-get", "update", "-q"],
             ["apt-get", "install", "-y", "-q", "--no-install-recommends", "xvfb"])
    for cmd in steps:
        try:
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            pytest.skip(f"cannot install Xvfb: {exc}")
        if proc.returncode != 0:
            pytest.skip(f"cannot install Xvfb ({' '.join(cmd)}): {proc.stderr.strip()[-300:]}")
    found = shutil.which("Xvfb")
    if not found:
        pytest.skip("apt-get installed xvfb but there is no Xvfb program")
    return found


@pytest.fixture
def x_display(xvfb, tmp_path):
    # Xvfb picks a free display itself and writes its number to the pipe (-displayfd), so
    # displays left behind by other runs never collide with this one.
    read_end, write_end = os.pipe()
    server = subprocess.Popen([xvfb, "-displayfd", str(write_end), "-screen", "0", "320x200x24",
                               "-nolisten", "tcp"], pass_fds=(write_end,),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    try:
        with os.fdopen(read_end) as numbers:
            number = numbers.readline().strip()
        assert number.isdigit(), "Xvfb did not say which display it took"
        name = f":{number}"
        tray = subprocess.Popen([sys.executable, str(HERE / "xtray.py")],
                                env={**os.environ, "DISPLAY": name},
                                stdout=subprocess.PIPE, text=True)
        try:
            assert tray.stdout is not None
            assert tray.stdout.readline().strip() == "ready"
            yield name, tray
        finally:
            tray.kill()
            tray.wait(5)
    finally:
        server.terminate()  # unlike a kill, lets Xvfb remove its lock file and socket
        try:
            server.wait(5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)


def test_the_tray_icon_shows_on_a_real_display(site, daemons, x_display, tmp_path):
    from PIL import ImageGrab, features

    if not features.check("xcb"):
        pytest.skip("this Pillow cannot grab an X screen (built without XCB)")
    name, tray = x_display
    outpost(site.home, "config", "set", "mode", "manual")
    d = Daemon(site.home, env={"DISPLAY": name, "PYSTRAY_BACKEND": "xorg"}, args=())
    daemons.append(d)
    d.start()
    assert tray.stdout is not None
    assert tray.stdout.readline().startswith("docked ")
    st = d.wait_status(lambda s: s["daemon"]["tray"], 10, "the tray")
    assert st["state"] == "idle"
    time.sleep(1.0)  # let the icon paint

    shot = tmp_path / "screen.png"
    image = ImageGrab.grab(xdisplay=name)
    image.save(shot)
    assert shot.stat().st_size > 0
    hits = _pixels(image, icons.COLOURS[model.SYNCED])
    assert hits > 400, f"the synced icon is not on the screen ({hits} pixels, see {shot})"

    # the icon follows the engine: paused through the channel, the icon changes
    d.client.pause()
    try:
        wait_for(lambda: _pixels(ImageGrab.grab(xdisplay=name),
                                 icons.COLOURS[model.PAUSED]) > 400, 5, "the paused icon")
    except AssertionError:
        ImageGrab.grab(xdisplay=name).save(shot)
        log = (site.home.logs / "daemon.log").read_text()
        raise AssertionError(f"no paused icon (see {shot}); the daemon's log:\n{log}") from None
    assert _pixels(ImageGrab.grab(xdisplay=name), icons.COLOURS[model.SYNCED]) == 0
    outpost(site.home, "stop")
    assert d.wait_exit(15) == 0


def _pixels(image, colour: tuple[int, int, int]) -> int:
    """How many pixels of the first tray slot (48 px square) have about `colour`."""
    strip = image.crop((0, 0, 48, 48)).convert("RGB")
    return sum(count for count, px in strip.getcolors(48 * 48) or []
               if all(abs(a - b) < 24 for a, b in zip(px, colour, strict=True)))
