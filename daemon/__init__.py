"""The workstation: local database, sync, daemon and CLI."""
