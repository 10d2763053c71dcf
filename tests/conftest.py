"""Shared test fixtures."""

from __future__ import annotations

import os

os.environ.setdefault("PYSTRAY_BACKEND", "dummy")
