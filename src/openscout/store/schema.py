"""Run the Alembic migrations shipped inside the package, configured in code (no alembic.ini)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from openscout.store.engine import SqlStore
from openscout.store.tables import metadata

_MIGRATIONS = Path(__file__).parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def upgrade(store: SqlStore) -> None:
    """Bring the database to the newest schema (idempotent; safe when several processes start
    on one database at once: they migrate one after another)."""
    config = _config()
    with store.migrating() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def current_revision(store: SqlStore) -> str | None:
    with store.reading() as transaction:
        return MigrationContext.configure(transaction.connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def drift(store: SqlStore) -> list[Any]:
    """Differences between the migrated database and `tables.py`; empty when they agree."""
    with store.reading() as transaction:
        context = MigrationContext.configure(transaction.connection)
        return list(compare_metadata(context, metadata))
