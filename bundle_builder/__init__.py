"""Exports a tenant snapshot into a signed workstation bundle."""
