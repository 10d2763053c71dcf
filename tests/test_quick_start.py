"""The README's Quick start commands run from any shell: executables that name their interpreter."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_each_quick_start_command_is_an_executable_bash_script() -> None:
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("```")[1]
    commands = re.findall(r"^(scripts/\S+)", quick, flags=re.M)
    assert commands == ["scripts/demo", "scripts/test"]
    for command in commands:
        script = ROOT / command
        # Without the line, zsh and sh run the script with /bin/sh, which has no `source`.
        assert script.read_text().startswith("#!/usr/bin/env bash\n"), command
        assert os.access(script, os.X_OK), command
