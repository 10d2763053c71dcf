"""The cloud's HTTP API (FastAPI): health, the data API, workstation management."""

from cloud.api.app import create_app

__all__ = ["create_app"]
