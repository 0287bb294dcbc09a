"""What differs between SQLite and PostgreSQL, named once: the rest of the store asks its
dialect (store/sqlite.py, store/postgres.py) and never which database it is on."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Table
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL

from openscout.domain.errors import StoreUnavailable


class Dialect(Protocol):
    #: Whether a bulk load into empty tables sets their keys and indexes aside (store/bulk.py).
    sets_aside_checks: bool
    #: One writer at a time within this process (SQLite, whose writers queue here rather than
    #: on the busy timeout); None where the database orders writers itself.
    writer_lock: threading.Lock | None
    #: Execution options of a connection that only reads (`SqlStore.reading`).
    read_options: Mapping[str, Any]

    def engine_options(self, url: URL, pool_size: int) -> dict[str, Any]:
        """`create_engine`'s options for this database."""

    def upsert(self, table: Table) -> Any:
        """The dialect's INSERT, whose `on_conflict_do_update` makes an upsert."""

    def configure(self, engine: Engine) -> None:
        """Listeners on a new engine: how connections are set up, checked and begun."""

    def is_unavailable(self, message: str) -> bool:
        """Whether a driver's OperationalError means "the database is not there (now)"."""

    def relax_durability(self, connection: Connection) -> None:
        """Let this transaction's commit skip waiting for the disk (for counts only)."""

    def pipelined(self, connection: Connection) -> AbstractContextManager[Any]:
        """Statements sent meanwhile need not each wait for their answer."""

    def next_ids(self, connection: Connection, table: Table, count: int) -> list[int]:
        """The ids the next `count` rows of `table` get, in order (in a write transaction)."""

    def insert_many(
        self, connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]
    ) -> None:
        """Insert rows (each with the same keys) in bulk, on the driver."""

    def lock_migrations(self, connection: Connection) -> None:
        """Hold this write transaction's schema changes apart from other processes'."""

    def sequence(self, connection: Connection, table: str) -> tuple[int, bool]:
        """The last id a table's sequence handed out (or was set to), and whether it did."""

    def start_sequence(self, connection: Connection, table: str, start: int) -> None:
        """Make the table's next id `start`."""


def dialect_for(
    url: URL, *, statement_timeout: float | None = None, read_only: bool = False
) -> Dialect:
    """The dialect of a database URL; `statement_timeout` applies to PostgreSQL only (a SQLite
    statement never waits on a network, and its waits for locks have the busy timeout), and
    `read_only` to SQLite only (a file opened so that nothing is written to it)."""
    if url.get_backend_name() == "sqlite":
        from openscout.store.sqlite import SqliteDialect

        return SqliteDialect(read_only=read_only)
    from openscout.store.postgres import PostgresDialect

    return PostgresDialect(statement_timeout)


@contextmanager
def translated(
    dialect: Dialect,
    driver_errors: type[Exception],
    *,
    busy: Callable[[str], Exception] | None = None,
) -> Iterator[None]:
    """Driver errors that mean "the database is not there" become StoreUnavailable.

    On PostgreSQL every OperationalError qualifies: a refused or lost connection, a server
    shutting down, a deadlock or serialization failure; all of them are worth a retry.
    On SQLite, a locked database is one: after the busy timeout, or at once on a connection
    that never waits, where it becomes what `busy` makes (store/sqlite.py's inline lane)."""
    try:
        yield
    except sa_exc.OperationalError as error:
        message = str(error.orig)
        if not dialect.is_unavailable(message):
            raise
        raise (busy or StoreUnavailable)(message) from error
    except sa_exc.DBAPIError as error:
        if error.connection_invalidated:
            raise StoreUnavailable(str(error.orig)) from error
        raise
    except sa_exc.TimeoutError as error:  # no pooled connection came free in time
        raise StoreUnavailable(str(error)) from error
    except driver_errors as error:
        # Raised by statements run on the driver's cursor (store/prepared.py), which
        # SQLAlchemy does not wrap: the same rules as above.
        if not dialect.is_unavailable(str(error)):
            raise
        raise (busy or StoreUnavailable)(str(error)) from error


class OnConnection:
    """What the store's parts (customers, keys, ...) work on: one transaction's connection and
    its database's dialect."""

    def __init__(self, connection: Connection, dialect: Dialect) -> None:
        self.connection = connection
        self.dialect = dialect

    @property
    def _integrity_errors(self) -> tuple[type[Exception], ...]:
        """A unique index refusing a row, raised through SQLAlchemy or (COPY, prepared
        statements) by the driver itself. Named in `except` clauses only, so it is built only
        when something was raised, not for every transaction."""
        return (
            sa_exc.IntegrityError,
            self.connection.dialect.dbapi.IntegrityError,  # type: ignore[union-attr]
        )
