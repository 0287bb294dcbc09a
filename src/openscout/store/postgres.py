"""PostgreSQL's dialect: the pool's check for dropped connections, the pipeline, COPY, a
statement timeout. Every call runs in a worker thread (round trips), bounded by the pool."""

from __future__ import annotations

import select as select_module
import threading
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from types import MappingProxyType
from typing import Any

from sqlalchemy import Connection, Engine, Table, event, func, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import URL

#: Seconds to wait for PostgreSQL to accept a connection, and for a free pooled connection.
_CONNECT_TIMEOUT = 5
_POOL_TIMEOUT = 10
#: The advisory lock held while migrating ("openscou" in ASCII).
_MIGRATION_LOCK = 0x6F70656E73636F75


class PostgresDialect:
    sets_aside_checks = True
    writer_lock: threading.Lock | None = (
        None  # rows are locked (`SELECT ... FOR UPDATE`), not the database
    )

    #: Reads run without a transaction. At READ COMMITTED, PostgreSQL's default, every statement
    #: takes its own snapshot inside a transaction too, so a read's BEGIN and COMMIT bought
    #: nothing but two round trips (docs/performance.md).
    read_options: Mapping[str, Any] = MappingProxyType({"isolation_level": "AUTOCOMMIT"})

    def __init__(self, statement_timeout: float | None = None) -> None:
        self.statement_timeout = statement_timeout

    def upsert(self, table: Table) -> Any:
        return postgresql.insert(table)

    def engine_options(self, url: URL, pool_size: int) -> dict[str, Any]:
        return {
            "pool_size": pool_size,
            "max_overflow": 0,
            "pool_timeout": _POOL_TIMEOUT,
            "connect_args": {}
            if "connect_timeout" in url.query
            else {"connect_timeout": _CONNECT_TIMEOUT},
        }

    def configure(self, engine: Engine) -> None:
        _replace_dropped_connections(engine)
        if self.statement_timeout:
            _limit_statements(engine, self.statement_timeout)

    def is_unavailable(self, message: str) -> bool:
        return True  # every OperationalError: a lost server, a deadlock, a cancelled statement

    def relax_durability(self, connection: Connection) -> None:
        # Counts need no durability: losing the last few in a crash is harmless, and not
        # waiting for the WAL to reach the disk makes a count 10 times cheaper.
        connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")

    def pipelined(self, connection: Connection) -> AbstractContextManager[Any]:
        """Statements are sent without waiting for each answer (psycopg's pipeline mode): a
        round trip where an answer is read, and one at the end, instead of one per statement.
        Errors still surface before the commit."""
        driver: Any = connection.connection.driver_connection
        return driver.pipeline()  # type: ignore[no-any-return]

    def next_ids(self, connection: Connection, table: Table, count: int) -> list[int]:
        cursor: Any = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%(table)s, 'id'))"
            " FROM generate_series(1, %(count)s)",
            {"table": table.name, "count": count},
        )
        return sorted(int(row[0]) for row in cursor.fetchall())

    def insert_many(
        self, connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]
    ) -> None:
        """COPY: several times faster than an INSERT of many rows, for the millions of rows of
        a large seed (docs/performance.md)."""
        if not rows:
            return
        names = list(rows[0])
        columns = ", ".join(table.c[name].name for name in names)  # names of our own tables
        driver: Any = connection.connection.driver_connection
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row([row[name] for name in names])

    def lock_migrations(self, connection: Connection) -> None:
        connection.execute(select(func.pg_advisory_xact_lock(_MIGRATION_LOCK)))

    def sequence(self, connection: Connection, table: str) -> tuple[int, bool]:
        name = connection.execute(select(func.pg_get_serial_sequence(table, "id"))).scalar_one()
        row = connection.exec_driver_sql(f"SELECT last_value, is_called FROM {name}").one()
        # A fresh sequence says 1, not called; one set by `start_ids` says start, not called.
        return (
            int(row.last_value) - (0 if row.is_called else 1),
            row.is_called or row.last_value != 1,
        )

    def start_sequence(self, connection: Connection, table: str, start: int) -> None:
        connection.execute(
            select(func.setval(func.pg_get_serial_sequence(table, "id"), start, False))
        )


def _limit_statements(engine: Engine, seconds: float) -> None:
    """No statement runs longer than `seconds`: the server cancels it, and the call ends with
    `StoreUnavailable` (a 503) instead of holding its connection, and its locks, for good. Set
    once per connection, when it is made (a SET, not a startup option, which PgBouncer
    refuses): nothing is added to a request."""
    milliseconds = max(round(seconds * 1000), 1)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"SET statement_timeout = {milliseconds}")
        dbapi_connection.commit()


def _replace_dropped_connections(engine: Engine) -> None:
    """Connections the server dropped (a restart, a failover, a terminated backend) are
    replaced when they leave the pool, so the process recovers by itself once the database is
    back and the first request after it is served normally.

    A connection sitting idle in the pool has nothing to read unless the server has written to
    it, and what a server writes to an idle connection is its last word: the error that ends
    the session, then the end of the stream. So a look at the socket, without waiting, tells a
    dropped connection from a live one. SQLAlchemy's `pool_pre_ping` asks the server instead:
    a round trip before every transaction (docs/performance.md has what dropping it gained)."""

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_connection.closed or dbapi_connection.broken:
            raise sa_exc.DisconnectionError("the connection is closed")
        if _has_input(dbapi_connection.fileno()):  # the pool discards it, lends a new one
            raise sa_exc.DisconnectionError("the server has ended this connection")


def _has_input(descriptor: int) -> bool:
    """Whether a socket has something to read (or has been closed), without waiting."""
    if hasattr(select_module, "poll"):  # any descriptor number, unlike select()
        poller = select_module.poll()
        poller.register(descriptor, select_module.POLLIN)
        return bool(poller.poll(0))
    readable, _, _ = select_module.select([descriptor], [], [], 0)
    return bool(readable)
