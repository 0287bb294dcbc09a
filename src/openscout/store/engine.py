"""SqlStore: the Store for SQLite and PostgreSQL through SQLAlchemy Core, and where its calls
run. Above the store nothing sees `sqlalchemy`, a dialect or a lane: callers `await
store.run(use_case, ...)`.

SQLite is opened in WAL mode with one writer at a time (store/sqlite.py); PostgreSQL locks the
customer row for the length of an update (`SELECT ... FOR UPDATE`), so concurrent updates of
one customer queue up instead of overwriting each other (docs/concurrency.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import ParamSpec, TypeVar

import anyio
import anyio.to_thread
from anyio.lowlevel import RunVar
from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.engine import make_url

from openscout import extras
from openscout.store.base import is_unbounded
from openscout.store.bulk import BulkRows
from openscout.store.customers import CustomerRows
from openscout.store.dialect import Dialect, dialect_for, translated
from openscout.store.keys import KeyRows
from openscout.store.oauth import AppRows
from openscout.store.properties import PropertyRows
from openscout.store.ratelimits import RateLimitRows
from openscout.store.snapshots import SnapshotRows
from openscout.store.sqlite import WRITE, Busy, InlineLane, read_only_url
from openscout.store.webhooks import WebhookRows

P = ParamSpec("P")
T = TypeVar("T")


class SqlTransaction(
    CustomerRows,
    KeyRows,
    AppRows,
    PropertyRows,
    RateLimitRows,
    BulkRows,
    SnapshotRows,
    WebhookRows,
):
    """A Transaction on one open connection: each aggregate's part (store/customers.py,
    keys.py, oauth.py, properties.py, ratelimits.py, bulk.py, snapshots.py, webhooks.py) on the
    same connection."""

    _after_commit: list[Callable[[], None]] | None = None

    def after_commit(self, callback: Callable[[], None]) -> None:
        if self._after_commit is None:
            self._after_commit = []
        self._after_commit.append(callback)

    def committed(self) -> None:
        """Told by `SqlStore.writing` once the transaction has committed."""
        for callback in self._after_commit or ():
            callback()


class _Lanes:
    """One event loop's share of a store: its worker threads, and the turn its writes take."""

    def __init__(self, threads: int) -> None:
        self.threads = anyio.CapacityLimiter(threads)
        self.turn = anyio.Lock()


def safe_url(url: str) -> str:
    """A database URL as it may be shown: without its password."""
    return make_url(url).render_as_string(hide_password=True)


class SqlStore:
    """A Store on one database URL (`sqlite:///path` or `postgresql://...`). `statement_timeout`
    (seconds, PostgreSQL) ends any statement that runs longer, with `StoreUnavailable`."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 8,
        statement_timeout: float | None = None,
        read_only: bool = False,
    ) -> None:
        """`read_only`: a SQLite file is opened so that nothing can be written to it, and
        nothing is (commands that only read, on files they may not write: `keys list`)."""
        parsed = make_url(url)
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        if parsed.drivername == "postgresql+psycopg":
            extras.require("postgres")
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        is_file = parsed.database not in (None, "", ":memory:")
        if read_only and self.is_sqlite and is_file:
            parsed = read_only_url(parsed)
        self.dialect: Dialect = dialect_for(
            parsed, statement_timeout=statement_timeout, read_only=read_only
        )
        self.engine: Engine = create_engine(
            parsed, **self.dialect.engine_options(parsed, pool_size)
        )
        self.dialect.configure(self.engine)
        self._driver_errors: type[Exception] = self.engine.dialect.dbapi.OperationalError  # type: ignore[union-attr]
        # A SQLite file answers from this process's memory and disk: bounded calls run inline,
        # on the event loop. Not PostgreSQL (round trips), nor in-memory SQLite (a database per
        # connection).
        self.inline_lane = (
            InlineLane(self.engine, self.dialect, self._driver_errors)
            if self.is_sqlite and is_file
            else None
        )
        self._pool_size = pool_size
        self._lanes: RunVar[_Lanes] = RunVar(f"openscout-store-{id(self)}")

    # -- where calls run

    async def run(self, use_case: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """`use_case(*args, **kwargs)`, inline on the event loop where that never waits (a
        bounded call on a SQLite file), otherwise in a worker thread (PostgreSQL; `unbounded`
        use cases; whatever would wait for a lock), at most `pool_size` threads at a time.

        An inline call that would wait raises `Busy` and is made again, in its turn or in a
        thread. That is safe because a use case is one transaction (service.py) and a busy
        transaction has been rolled back having written nothing: running it again is running
        it once. The writes of one process take turns: while one waits in a thread for another
        process's lock, the next ones wait on the loop without holding a thread, and run inline
        again as soon as the lock is free."""
        lane = self.inline_lane
        if lane is None or is_unbounded(use_case, args, kwargs):
            return await self._in_thread(self._lanes_of_this_loop(), use_case, *args, **kwargs)
        try:
            return lane.call(use_case, *args, **kwargs)
        except Busy as busy:
            lanes = self._lanes_of_this_loop()
            if not busy.writing:  # reads never take a turn: they go straight to a thread
                return await self._in_thread(lanes, use_case, *args, **kwargs)
        async with lanes.turn:
            try:
                return lane.call(use_case, *args, **kwargs)
            except Busy:
                return await self._in_thread(lanes, use_case, *args, **kwargs)

    def _lanes_of_this_loop(self) -> _Lanes:
        lanes = self._lanes.get(None)
        if lanes is None:
            lanes = _Lanes(self._pool_size)
            self._lanes.set(lanes)
        return lanes

    @staticmethod
    async def _in_thread(
        lanes: _Lanes, use_case: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        return await anyio.to_thread.run_sync(
            lambda: use_case(*args, **kwargs), limiter=lanes.threads
        )

    # -- transactions

    @contextmanager
    def reading(self) -> Iterator[SqlTransaction]:
        if self.inline_lane is not None and self.inline_lane.is_active():
            with self.inline_lane.transaction(write=False) as connection:
                yield SqlTransaction(connection, self.dialect)
            return
        with self._translated(), self.engine.connect() as connection:
            connection.execution_options(**self.dialect.read_options)
            with connection.begin():
                yield SqlTransaction(connection, self.dialect)

    @contextmanager
    def writing(self) -> Iterator[SqlTransaction]:
        if self.inline_lane is not None and self.inline_lane.is_active():
            with self.inline_lane.transaction(write=True) as connection:
                transaction = SqlTransaction(connection, self.dialect)
                yield transaction
            transaction.committed()
            return
        lock = self.dialect.writer_lock or nullcontext()
        with self._translated(), lock, self.engine.connect() as connection:
            connection.execution_options(**{WRITE: True})
            with connection.begin():
                transaction = SqlTransaction(connection, self.dialect)
                yield transaction
        transaction.committed()

    @contextmanager
    def loading(self, report: Callable[[str], None] = print) -> Iterator[SqlTransaction]:
        """A write transaction for a bulk load (`db seed`).

        On PostgreSQL, into a database without customers, the customer tables' foreign keys and
        non-unique indexes are set aside for the load and made again when it ends, in the same
        transaction, as pg_restore does: one pass over the loaded rows each, instead of a check
        and an index insertion per row (docs/performance.md). A failure anywhere, a reference
        the final check refuses included, rolls all of it back, keys and indexes with it. Those
        tables are locked until the load ends: other connections wait for them. Into tables
        that hold customers, nothing is set aside or locked. `report` is told before the final
        pass. Elsewhere this is `writing()`."""
        with self.writing() as transaction:
            if not self.dialect.sets_aside_checks:
                yield transaction
                return
            restore = transaction.set_aside_checks()
            yield transaction
            if restore:
                report(
                    f"building {sum(s.startswith('CREATE') for s in restore)} indexes and "
                    f"checking {sum(s.startswith('ALTER') for s in restore)} references "
                    "over the loaded rows ..."
                )
                transaction.restore_checks(restore)

    @contextmanager
    def migrating(self) -> Iterator[Connection]:
        """A write transaction for schema changes, one process at a time: processes started
        together queue here, and the later ones find the schema already migrated."""
        with self.writing() as transaction:
            self.dialect.lock_migrations(transaction.connection)
            yield transaction.connection

    def optimize(self) -> None:
        """Refresh the planner's statistics, as after a bulk load (`ANALYZE` on both backends;
        PostgreSQL's autovacuum would get there by itself, SQLite never would)."""
        with self.writing() as transaction:
            transaction.connection.exec_driver_sql("ANALYZE")

    def start_ids(self, starts: Mapping[str, int]) -> bool:
        """Make the id sequences of a fresh database start where `starts` says (table name →
        first id; customers, entries, addresses), for ids that are the same on every run
        (docs/testing.md). True when they now start there; False, and nothing changed, when a
        sequence has handed out an id already."""
        with self.migrating() as connection:
            current = {name: self.dialect.sequence(connection, name) for name in starts}
            if any(used and last != starts[name] - 1 for name, (last, used) in current.items()):
                return False
            for name, start in starts.items():
                self.dialect.start_sequence(connection, name, start)
        return True

    def ping(self) -> None:
        if self.inline_lane is not None and self.inline_lane.is_active():
            with self.reading() as transaction:
                transaction.connection.exec_driver_sql("SELECT 1")
            return
        with self._translated(), self.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")

    def close(self) -> None:
        if self.inline_lane is not None:
            self.inline_lane.close()
        self.engine.dispose()

    def _translated(self) -> AbstractContextManager[None]:
        return translated(self.dialect, self._driver_errors)
