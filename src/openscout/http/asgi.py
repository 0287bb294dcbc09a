"""The app factory that the server's workers import: settings come from OPENSCOUT_* variables."""

from __future__ import annotations

import gc
import sys

from starlette.types import ASGIApp

from openscout.config import load_settings
from openscout.http import accesslog
from openscout.http.app import create_app
from openscout.store.engine import SqlStore

#: How long a thread may hold the interpreter before another that waits gets it (Python's
#: default is 5 ms): a request on the event loop waits at most this long, each time it needs
#: the interpreter back, behind a large write running in a worker thread (docs/hardening.md).
SWITCH_INTERVAL = 0.001


def app() -> ASGIApp:
    """One worker process's app. The process is tuned for serving: a shorter switch interval,
    and everything built at startup frozen out of the garbage collector's full passes, which
    otherwise walk the whole heap (24 ms measured) while every request waits."""
    sys.setswitchinterval(SWITCH_INTERVAL)
    settings = load_settings()
    if settings.access_log:
        accesslog.log_to(sys.stdout)
    store = SqlStore(
        settings.database_url,
        pool_size=settings.pool_size,
        statement_timeout=settings.statement_timeout,
    )
    served = create_app(settings, store, owns_store=True)
    gc.collect()
    gc.freeze()
    return served
