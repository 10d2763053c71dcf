"""Helpers shared by the tests: a real cloud server process and installed workstations."""
