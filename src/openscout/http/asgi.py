"""The app factory that uvicorn workers import: settings come from OPENSCOUT_* variables."""

from __future__ import annotations

from starlette.types import ASGIApp

from openscout.config import load_settings
from openscout.http.app import create_app
from openscout.store.sql import SqlStore


def app() -> ASGIApp:
    settings = load_settings()
    store = SqlStore(settings.database_url, pool_size=settings.pool_size)
    return create_app(settings, store, owns_store=True)
