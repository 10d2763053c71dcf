"""Verifies a workstation bundle and installs it."""
