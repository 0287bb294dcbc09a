"""The app factory that uvicorn workers import: settings come from OPENSCOUT_* variables."""

from __future__ import annotations

import sys

from starlette.types import ASGIApp

from openscout.config import load_settings
from openscout.http import accesslog
from openscout.http.app import create_app
from openscout.store.engine import SqlStore


def app() -> ASGIApp:
    settings = load_settings()
    if settings.access_log:
        accesslog.log_to(sys.stdout)
    store = SqlStore(
        settings.database_url,
        pool_size=settings.pool_size,
        statement_timeout=settings.statement_timeout,
    )
    return create_app(settings, store, owns_store=True)
