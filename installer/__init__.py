"""Verifies a workstation bundle and installs it (docs/bundle.md).

    verify_bundle(path, pinned_key=None)         every check that needs no writing
    install(path, home, force=, autostart=, ...)  verify, then set up the home
    uninstall(home, keep_data=, autostart=)       remove the autostart entry (and the data)
    for_platform()                                this platform's autostart convention
"""

from installer.autostart import (
    Autostart,
    LinuxAutostart,
    MacAutostart,
    NullAutostart,
    WindowsAutostart,
    for_platform,
)
from installer.install import InstallResult, UninstallResult, install, uninstall
from installer.verify import BundleRefused, Limits, VerifiedBundle, verify_bundle

__all__ = [
    "Autostart",
    "BundleRefused",
    "InstallResult",
    "Limits",
    "LinuxAutostart",
    "MacAutostart",
    "NullAutostart",
    "UninstallResult",
    "VerifiedBundle",
    "WindowsAutostart",
    "for_platform",
    "install",
    "uninstall",
    "verify_bundle",
]
