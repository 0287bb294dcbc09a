"""Where SQLite's calls run, and its dialect: WAL, one writer at a time (a lock inside the
process, `BEGIN IMMEDIATE` across processes), the inline lane, checkpoints beside the loop.

An embedded SQLite file answers a customer's read or update in tens of microseconds, far less
than handing the call to a thread and back; and with many threads taking turns at the
interpreter lock, that hand-off cost several times the call itself (docs/performance.md). So
the store runs bounded calls inline on the event loop (`InlineLane`), on a connection of its
own that never waits: where a call would wait (another process holds the write lock), its
transaction is rolled back having written nothing, and `Busy` says so (store/engine.py then
makes the call again in a thread, which waits).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from types import MappingProxyType
from typing import Any, ParamSpec, TypeVar
from urllib.parse import quote

from sqlalchemy import Connection, Engine, Table, event
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import URL

from openscout.store.dialect import Dialect, translated

P = ParamSpec("P")
T = TypeVar("T")

#: The execution option that marks a connection's transaction as a write (`BEGIN IMMEDIATE`).
WRITE = "openscout_write"
#: How often the inline connection's write-ahead log is checkpointed, in seconds.
_CHECKPOINT_SECONDS = 0.05


class Busy(Exception):
    """An inline call would have had to wait (for another process's write lock, or another
    thread's write): its transaction was rolled back. `writing`: it was a write."""

    def __init__(self, message: str, *, writing: bool) -> None:
        super().__init__(message)
        self.writing = writing


class SqliteDialect:
    sets_aside_checks = False
    #: A read is a transaction: one snapshot for all of its statements.
    read_options: Mapping[str, Any] = MappingProxyType({})

    def __init__(self, *, read_only: bool = False) -> None:
        self.writer_lock: threading.Lock | None = threading.Lock()
        self.read_only = read_only

    def upsert(self, table: Table) -> Any:
        return sqlite.insert(table)

    def engine_options(self, url: URL, pool_size: int) -> dict[str, Any]:
        # As many pooled connections as worker threads, and no overflow: a connection made for
        # one request and closed after it costs more than the request (PRAGMAs run on every new
        # connection). Most recently used first: under light load the same few connections
        # (and their page caches) stay warm, and the others idle.
        if url.database in (None, "", ":memory:"):
            return {}
        return {"pool_size": pool_size, "max_overflow": 0, "pool_use_lifo": True}

    def configure(self, engine: Engine) -> None:
        """WAL, a busy timeout, foreign keys; transactions begun by us (docs/performance.md)."""
        read_only = self.read_only

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let the "begin" listener below decide how a transaction starts.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            for pragma in (
                "busy_timeout=10000",  # first: switching to WAL may wait for another process
                "query_only=ON" if read_only else "journal_mode=WAL",
                "synchronous=NORMAL",
                "foreign_keys=ON",
                # 8 MiB of page cache per connection, no memory map: with one connection per
                # worker thread, 64 MiB caches and 256 MiB maps took a server to 1.2 GB resident
                # on a million customers, for no measurable gain (docs/performance.md).
                "cache_size=-8192",
                "mmap_size=0",
                "temp_store=MEMORY",
            ):
                cursor.execute(f"PRAGMA {pragma}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Connection) -> None:
            driver: Any = connection.connection.driver_connection
            if driver.in_transaction:  # begun by the inline lane (InlineLane.transaction)
                return
            is_write = connection.get_execution_options().get(WRITE, False)
            driver.execute("BEGIN IMMEDIATE" if is_write and not read_only else "BEGIN")

    def is_unavailable(self, message: str) -> bool:
        return "locked" in message

    def relax_durability(self, connection: Connection) -> None:
        pass  # synchronous=NORMAL in WAL mode already commits without a sync

    def pipelined(self, connection: Connection) -> AbstractContextManager[Any]:
        return nullcontext()  # no round trips to save

    def next_ids(self, connection: Connection, table: Table, count: int) -> list[int]:
        # The write lock is held: no other writer draws ids until the commit. AUTOINCREMENT
        # moves its counter past the ids inserted, as it does for the ids it picks itself.
        driver: Any = connection.connection.driver_connection
        (last,) = driver.execute(
            "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0),"
            f" coalesce((SELECT max(id) FROM {table.name}), 0))",
            (table.name,),
        ).fetchone()
        return list(range(int(last) + 1, int(last) + 1 + count))

    def insert_many(
        self, connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]
    ) -> None:
        """One prepared INSERT, run for every row by the driver: several times faster than
        SQLAlchemy's INSERT of many rows for a large seed (docs/performance.md)."""
        if not rows:
            return
        names = list(rows[0])
        columns = ", ".join(table.c[name].name for name in names)  # names of our own tables
        marks = ", ".join("?" * len(names))
        driver: Any = connection.connection.driver_connection
        driver.executemany(
            f"INSERT INTO {table.name} ({columns}) VALUES ({marks})",
            [tuple(row[name] for name in names) for row in rows],
        )

    def lock_migrations(self, connection: Connection) -> None:
        pass  # BEGIN IMMEDIATE has already ordered the processes

    def sequence(self, connection: Connection, table: str) -> tuple[int, bool]:
        seq = connection.exec_driver_sql(
            "SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)
        ).scalar()
        return (0, False) if seq is None else (int(seq), True)

    def start_sequence(self, connection: Connection, table: str, start: int) -> None:
        connection.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = ?", (table,))
        connection.exec_driver_sql(
            "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, start - 1)
        )


class InlineLane:
    """Calls made in this thread (the event loop's) on a connection of their own whose
    transactions never wait: SQLite's busy timeout is 0 there, and the process's write lock is
    only tried. Only for a SQLite file: an in-memory database is one per connection.

    A process serves one event loop, but several may share a store (servers in threads of one
    test process, each with its webhook deliverer beside its requests): the connection serves
    one of them at a time, and a call from another meanwhile is `Busy` (made in a thread)."""

    def __init__(self, engine: Engine, dialect: Dialect, driver_errors: type[Exception]) -> None:
        self.engine = engine
        self.dialect = dialect
        self.driver_errors = driver_errors
        self._active = threading.local()  # .on: in a `call`, in this thread
        self._connection: Connection | None = None
        self._in_use = threading.Lock()
        self._checkpoints: Checkpoints | None = None

    def call(self, function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """`function(*args, **kwargs)` in this thread, its transactions on the inline
        connection: where one would wait, it is rolled back and `Busy` raised."""
        self._active.on = True
        try:
            return function(*args, **kwargs)
        finally:
            self._active.on = False

    def is_active(self) -> bool:
        return getattr(self._active, "on", False)

    @contextmanager
    def transaction(self, write: bool) -> Iterator[Connection]:
        if not self._in_use.acquire(blocking=False):
            raise Busy("another event loop's call has the inline connection", writing=write)
        try:
            with self._transaction_with_lock(write) as connection:
                yield connection
        finally:
            self._in_use.release()

    @contextmanager
    def _transaction_with_lock(self, write: bool) -> Iterator[Connection]:
        lock = self.dialect.writer_lock if write else None
        if lock is not None and not lock.acquire(blocking=False):
            raise Busy("another thread of this process is writing", writing=True)
        try:
            with translated(
                self.dialect,
                self.driver_errors,
                busy=lambda message: Busy(message, writing=write),
            ):
                yield from self._transaction(write)
        finally:
            if lock is not None:
                lock.release()

    def _transaction(self, write: bool) -> Iterator[Connection]:
        connection = self._connection
        fresh = connection is None or connection.invalidated
        if fresh:
            connection = self._connection = self.engine.connect()
        assert connection is not None
        driver: Any = connection.connection.driver_connection
        if fresh:
            driver.execute("PRAGMA busy_timeout=0")
            # Checkpoints copy the write-ahead log into the database and sync both:
            # milliseconds the event loop would stand still for. A thread of their own runs
            # them instead (`Checkpoints`), beside the loop.
            driver.execute("PRAGMA wal_autocheckpoint=0")
            if self._checkpoints is None:
                self._checkpoints = Checkpoints(str(self.engine.url.database))
        # Begun and ended on the driver: a locked database refuses here, before anything has
        # begun. The hot statements run on the driver too (store/prepared.py); one run through
        # SQLAlchemy begins its side of the transaction then (the "begin" listener sees ours
        # and adds none), and SQLAlchemy ends it.
        driver.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield connection
            if connection.in_transaction():
                connection.commit()
            else:
                driver.commit()
            if write and self._checkpoints is not None:
                self._checkpoints.due = True  # once committed: the frames are in the log
        except BaseException:
            if connection.in_transaction():
                connection.rollback()
            if driver.in_transaction:  # a failed commit: never leave one open here
                driver.rollback()
            raise

    def close(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.stop()
            self._checkpoints = None
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class Checkpoints:
    """Checkpoints of a SQLite file in a thread of their own, for the inline connection, which
    makes none itself: every `_CHECKPOINT_SECONDS` after a write, a passive checkpoint (one
    that never waits for, nor blocks, readers and writers) on a connection of the thread's own.
    SQLite releases the interpreter lock while it copies and syncs, so the event loop goes on
    meanwhile."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.due = False
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="openscout-checkpoints", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            while not self.stopping.wait(_CHECKPOINT_SECONDS):
                if self.due:
                    self.due = False
                    # A missing or broken file: the next one may work.
                    with suppress(sqlite3.Error):
                        connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)


def read_only_url(url: URL) -> URL:
    """A SQLite URL opened read-only (`mode=ro`). In a directory this process may not write, a
    WAL database without its shared-memory file cannot be opened that way: there, it is read as
    immutable (nothing can be writing to it either)."""
    path = os.path.abspath(str(url.database))
    query = "mode=ro"
    if not os.access(os.path.dirname(path), os.W_OK) and not os.path.exists(f"{path}-shm"):
        query += "&immutable=1"
    return url.set(database=f"file:{quote(path)}?{query}", query={"uri": "true"})
