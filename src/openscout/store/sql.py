"""SqlStore: the Store for SQLite and PostgreSQL through SQLAlchemy Core.

Every dialect difference and every driver error stops in this module: above it nothing sees
`sqlalchemy`. SQLite is opened in WAL mode with one writer at a time (a lock inside the process,
`BEGIN IMMEDIATE` across processes); PostgreSQL locks the customer row for the length of an
update (`SELECT ... FOR UPDATE`), so concurrent updates of one customer queue up instead of
overwriting each other (docs/concurrency.md).
"""

from __future__ import annotations

import hmac
import json
import select as select_module
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    and_,
    bindparam,
    case,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

from openscout.domain.customers import Address, Collection, Customer, Entry
from openscout.domain.errors import EmailTaken, StoreUnavailable
from openscout.domain.search import EVERYTHING, Found, Search
from openscout.store.base import ApiKey, Hit, StoreBusy
from openscout.store.prepared import Prepared
from openscout.store.search import condition, customer_terms, name_keys, ordering, term_rows
from openscout.store.tables import (
    accounts,
    addresses,
    api_keys,
    customers,
    entries,
    rate_limits,
    search_terms,
)

P = ParamSpec("P")
T = TypeVar("T")

_WRITE = "openscout_write"
#: Seconds to wait for PostgreSQL to accept a connection, and for a free pooled connection.
_CONNECT_TIMEOUT = 5
_POOL_TIMEOUT = 10
#: How often the inline connection's write-ahead log is checkpointed, in seconds (SqlStore).
_CHECKPOINT_SECONDS = 0.05
#: The PostgreSQL advisory lock held while migrating ("openscou" in ASCII).
_MIGRATION_LOCK = 0x6F70656E73636F75
_SCALARS = (
    "first_name",
    "last_name",
    "organization",
    "job_title",
    "background",
    "location",
    "photo_url",
    "photo_type",
    "gender",
    "age",
)


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def _moment(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class SqlStore:
    """A Store on one database URL (`sqlite:///path` or `postgresql://...`)."""

    def __init__(self, url: str, *, pool_size: int = 8) -> None:
        parsed = make_url(url)
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        # As many pooled connections as worker threads, and no overflow: a connection made
        # for one request and closed after it costs more than the request (SQLite runs its
        # PRAGMAs on every new connection).
        options: dict[str, Any] = {}
        is_file = parsed.database not in (None, "", ":memory:")
        if is_file:
            # Most recently used first: under light load the same few connections (and their
            # page caches) stay warm, and the others idle.
            options = {"pool_size": pool_size, "max_overflow": 0, "pool_use_lifo": True}
        if not self.is_sqlite:
            options = {
                "pool_size": pool_size,
                "max_overflow": 0,
                "pool_timeout": _POOL_TIMEOUT,
                "connect_args": {}
                if "connect_timeout" in parsed.query
                else {"connect_timeout": _CONNECT_TIMEOUT},
            }
        self.engine: Engine = create_engine(parsed, **options)
        self._driver_errors: type[Exception] = self.engine.dialect.dbapi.OperationalError  # type: ignore[union-attr]
        # One writer at a time within this process; BEGIN IMMEDIATE orders the processes.
        self._write_lock: threading.Lock | None = threading.Lock() if self.is_sqlite else None
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        else:
            _replace_dropped_connections(self.engine)
        # A SQLite file answers from this process's memory and disk: calls may run inline, on a
        # connection of their own that never waits (http/calls.py). Not PostgreSQL (round
        # trips), nor in-memory SQLite (a database per connection).
        self.inline = self.is_sqlite and is_file
        self._calling_inline = threading.local()  # .active: in a call_inline, in this thread
        self._inline_connection: Connection | None = None
        self._checkpoints: _Checkpoints | None = None

    def call_inline(self, function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        if not self.inline:
            raise StoreBusy("this store cannot answer inline")
        self._calling_inline.active = True
        try:
            return function(*args, **kwargs)
        finally:
            self._calling_inline.active = False

    def _is_inline(self) -> bool:
        return getattr(self._calling_inline, "active", False)

    @contextmanager
    def _inline_transaction(self, write: bool) -> Iterator[SqlTransaction]:
        """A transaction on the inline connection. SQLite's busy timeout is 0 there, and the
        process's write lock is only tried: where a thread would wait, this raises StoreBusy."""
        lock = self._write_lock if write else None
        if lock is not None and not lock.acquire(blocking=False):
            raise StoreBusy("another thread of this process is writing")
        try:
            with self._translated(inline=True):
                connection = self._inline_connection
                fresh = connection is None or connection.invalidated
                if fresh:
                    connection = self._inline_connection = self.engine.connect()
                assert connection is not None
                driver: Any = connection.connection.driver_connection
                if fresh:
                    driver.execute("PRAGMA busy_timeout=0")
                    # Checkpoints copy the write-ahead log into the database and sync both:
                    # milliseconds the event loop would stand still for. A thread of their own
                    # runs them instead (`_Checkpoints`), beside the loop.
                    driver.execute("PRAGMA wal_autocheckpoint=0")
                    if self._checkpoints is None:
                        self._checkpoints = _Checkpoints(str(self.engine.url.database))
                # Begun and ended on the driver: a locked database refuses here, before anything
                # has begun. The hot statements run on the driver too (store/prepared.py); one
                # run through SQLAlchemy begins its side of the transaction then (the "begin"
                # event below sees ours and adds none), and SQLAlchemy ends it.
                driver.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    yield SqlTransaction(connection, self.is_sqlite)
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
        finally:
            if lock is not None:
                lock.release()

    @contextmanager
    def reading(self) -> Iterator[SqlTransaction]:
        if self._is_inline():
            with self._inline_transaction(write=False) as transaction:
                yield transaction
            return
        with self._translated(), self.engine.connect() as connection, connection.begin():
            yield SqlTransaction(connection, self.is_sqlite)

    @contextmanager
    def writing(self) -> Iterator[SqlTransaction]:
        if self._is_inline():
            with self._inline_transaction(write=True) as transaction:
                yield transaction
            return
        lock = self._write_lock or nullcontext()
        with self._translated(), lock, self.engine.connect() as connection:
            connection.execution_options(**{_WRITE: True})
            with connection.begin():
                yield SqlTransaction(connection, self.is_sqlite)

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
            if self.is_sqlite:
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
            if not self.is_sqlite:  # on SQLite, BEGIN IMMEDIATE has already ordered them
                transaction.connection.execute(select(func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
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
            current = {name: self._sequence(connection, name) for name in starts}
            if any(used and last != starts[name] - 1 for name, (last, used) in current.items()):
                return False
            for name, start in starts.items():
                if self.is_sqlite:
                    connection.exec_driver_sql(
                        "DELETE FROM sqlite_sequence WHERE name = ?", (name,)
                    )
                    connection.exec_driver_sql(
                        "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (name, start - 1)
                    )
                else:
                    connection.execute(
                        select(func.setval(func.pg_get_serial_sequence(name, "id"), start, False))
                    )
        return True

    def _sequence(self, connection: Connection, table: str) -> tuple[int, bool]:
        """The last id a table's sequence handed out (or was set to), and whether it did."""
        if self.is_sqlite:
            seq = connection.exec_driver_sql(
                "SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)
            ).scalar()
            return (0, False) if seq is None else (int(seq), True)
        name = connection.execute(select(func.pg_get_serial_sequence(table, "id"))).scalar_one()
        row = connection.exec_driver_sql(f"SELECT last_value, is_called FROM {name}").one()
        # A fresh sequence says 1, not called; one set by `start_ids` says start, not called.
        return (
            int(row.last_value) - (0 if row.is_called else 1),
            row.is_called or row.last_value != 1,
        )

    def ping(self) -> None:
        if self._is_inline():
            with self.reading() as transaction:
                transaction.connection.exec_driver_sql("SELECT 1")
            return
        with self._translated(), self.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")

    def close(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.stop()
            self._checkpoints = None
        if self._inline_connection is not None:
            self._inline_connection.close()
            self._inline_connection = None
        self.engine.dispose()

    @contextmanager
    def _translated(self, *, inline: bool = False) -> Iterator[None]:
        """Driver errors that mean "the database is not there" become StoreUnavailable.

        On PostgreSQL every OperationalError qualifies: a refused or lost connection, a server
        shutting down, a deadlock or serialization failure; all of them are worth a retry.
        On SQLite, a locked database is one: after the busy timeout, or at once `inline`, where
        it becomes StoreBusy (the call is made again in a thread, which waits)."""
        try:
            yield
        except sa_exc.OperationalError as error:
            if self.is_sqlite and "locked" not in str(error.orig):
                raise
            if inline:
                raise StoreBusy(str(error.orig)) from error
            raise StoreUnavailable(str(error.orig)) from error
        except sa_exc.DBAPIError as error:
            if error.connection_invalidated:
                raise StoreUnavailable(str(error.orig)) from error
            raise
        except sa_exc.TimeoutError as error:  # no pooled connection came free in time
            raise StoreUnavailable(str(error)) from error
        except self._driver_errors as error:
            # Raised by statements run on the driver's cursor (store/prepared.py), which
            # SQLAlchemy does not wrap: the same rules as above.
            if self.is_sqlite and "locked" not in str(error):
                raise
            if inline:
                raise StoreBusy(str(error)) from error
            raise StoreUnavailable(str(error)) from error


class _Checkpoints:
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


def _configure_sqlite(engine: Engine) -> None:
    """WAL, a busy timeout, foreign keys; transactions begun by us (docs/performance.md)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below decide how a transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "busy_timeout=10000",  # first: switching to WAL may wait for another process
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            # 8 MiB of page cache per connection, no memory map: with one connection per worker
            # thread, 64 MiB caches and 256 MiB maps took a server to 1.2 GB resident on a
            # million customers, for no measurable gain (docs/performance.md).
            "cache_size=-8192",
            "mmap_size=0",
            "temp_store=MEMORY",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        driver: Any = connection.connection.driver_connection
        if driver.in_transaction:  # begun by the inline lane (SqlStore._inline_transaction)
            return
        is_write = connection.get_execution_options().get(_WRITE, False)
        driver.execute("BEGIN IMMEDIATE" if is_write else "BEGIN")


class SqlTransaction:
    """A Transaction on one open connection."""

    def __init__(self, connection: Connection, is_sqlite: bool) -> None:
        self.connection = connection
        self.is_sqlite = is_sqlite

    @property
    def _integrity_errors(self) -> tuple[type[Exception], ...]:
        """A unique index refusing a row, raised through SQLAlchemy or (COPY, prepared
        statements) by the driver itself. Named in `except` clauses only, so it is built only
        when something was raised, not for every transaction."""
        return (
            sa_exc.IntegrityError,
            self.connection.dialect.dbapi.IntegrityError,  # type: ignore[union-attr]
        )

    # -- keys and accounts

    def account_for_key(self, key_hash: str) -> int | None:
        row = _KEY_ACCOUNT.first(self.connection, key_hash=key_hash)
        # The index finds the row; the final comparison takes the same time whatever differs.
        if row is None or not hmac.compare_digest(row.key_hash, key_hash):
            return None
        return int(row.account_id)

    def create_key(
        self, account: str, name: str | None, key_hash: str, prefix: str, now: datetime
    ) -> ApiKey:
        account_id = self.connection.execute(
            select(accounts.c.id).where(accounts.c.name == account)
        ).scalar()
        if account_id is None:
            try:
                # Another process may be creating the same account (servers starting together on
                # a new database): the unique name lets one in, and the other uses that one.
                with self.connection.begin_nested():
                    account_id = self.connection.execute(
                        insert(accounts)
                        .values(name=account, created_at=_seconds(now))
                        .returning(accounts.c.id)
                    ).scalar_one()
            except sa_exc.IntegrityError:
                account_id = self.connection.execute(
                    select(accounts.c.id).where(accounts.c.name == account)
                ).scalar_one()
        key_id = self.connection.execute(
            insert(api_keys)
            .values(
                account_id=account_id,
                name=name,
                key_hash=key_hash,
                key_prefix=prefix,
                created_at=_seconds(now),
            )
            .returning(api_keys.c.id)
        ).scalar_one()
        return ApiKey(int(key_id), account, name, prefix, now, None)

    def list_keys(self) -> list[ApiKey]:
        rows = self.connection.execute(
            select(api_keys, accounts.c.name.label("account"))
            .join(accounts, accounts.c.id == api_keys.c.account_id)
            .order_by(api_keys.c.id)
        )
        return [
            ApiKey(
                id=row.id,
                account=row.account,
                name=row.name,
                prefix=row.key_prefix,
                created_at=_moment(row.created_at),
                revoked_at=None if row.revoked_at is None else _moment(row.revoked_at),
            )
            for row in rows
        ]

    def revoke_key(self, key_id: int, now: datetime) -> bool:
        result = self.connection.execute(
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=_seconds(now))
        )
        return bool(result.rowcount)

    def count_live_keys(self) -> int:
        return int(
            self.connection.execute(
                select(func.count()).select_from(api_keys).where(api_keys.c.revoked_at.is_(None))
            ).scalar_one()
        )

    # -- rate limits (spec §4)

    def count_hits(self, account_id: int, hits: Sequence[Hit]) -> dict[str, int]:
        # One upsert for every period: processes on one database count together, and a row
        # holds only its current window (a later window replaces the count; an earlier one,
        # from a process whose clock lags, adds to the current one).
        if not self.is_sqlite:
            # Counts need no durability: losing the last few in a crash is harmless, and not
            # waiting for the WAL to reach the disk makes this 10 times cheaper.
            self.connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
        insert_ = sqlite.insert if self.is_sqlite else postgresql.insert
        statement = insert_(rate_limits).values(
            [
                {
                    "account_id": account_id,
                    "period": hit.period,
                    "period_start": hit.start,
                    "hits": hit.weight,
                }
                for hit in hits
            ]
        )
        is_later = statement.excluded.period_start > rate_limits.c.period_start
        upsert = statement.on_conflict_do_update(
            index_elements=[rate_limits.c.account_id, rate_limits.c.period],
            set_={
                "period_start": case(
                    (is_later, statement.excluded.period_start), else_=rate_limits.c.period_start
                ),
                "hits": case(
                    (is_later, statement.excluded.hits),
                    else_=rate_limits.c.hits + statement.excluded.hits,
                ),
            },
        ).returning(rate_limits.c.period, rate_limits.c.hits)
        return {row.period: int(row.hits) for row in self.connection.execute(upsert)}

    # -- bulk loads (PostgreSQL)

    def set_aside_checks(self) -> list[str]:
        """When the customer tables are empty, lock them and drop their foreign keys and
        non-unique indexes. Returns the statements that make them again (indexes first), or []
        when the tables hold rows and nothing was dropped."""
        run = self.connection.exec_driver_sql
        holds_customers = "SELECT EXISTS (SELECT 1 FROM customers)"
        if run(holds_customers).scalar():
            return []  # and nothing locked: a server on the database goes on as usual
        names = [table.name for table in _LOADED_TABLES]
        run(f"LOCK TABLE {', '.join(names)} IN ACCESS EXCLUSIVE MODE")
        if run(holds_customers).scalar():  # written in between
            return []
        indexes = run(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " WHERE i.indrelid = ANY(%(names)s::regclass[])"
            " AND NOT i.indisunique AND NOT i.indisprimary ORDER BY 1",
            {"names": names},
        ).all()
        references = run(
            "SELECT c.conrelid::regclass::text, quote_ident(c.conname),"
            " pg_get_constraintdef(c.oid) FROM pg_constraint c"
            " WHERE c.contype = 'f' AND c.conrelid = ANY(%(names)s::regclass[]) ORDER BY 1, 2",
            {"names": names},
        ).all()
        for table, name, _definition in references:
            run(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        for name, _definition in indexes:
            run(f"DROP INDEX {name}")
        return [definition for _name, definition in indexes] + [
            f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"
            for table, name, definition in references
        ]

    def restore_checks(self, statements: Sequence[str]) -> None:
        """Run what `set_aside_checks` returned: every loaded row is checked once here."""
        for statement in statements:
            self.connection.exec_driver_sql(statement)

    # -- customers

    def get_customer(
        self, account_id: int, customer_id: int, *, for_update: bool = False
    ) -> Customer | None:
        load = _LOAD_FOR_UPDATE if for_update else _LOAD
        row = load.first(self.connection, customer_id=customer_id, account_id=account_id)
        if row is None:
            return None
        return _customer(row, _ENTRIES.all(self.connection, customer_id=customer_id))

    def add_customer(self, account_id: int, customer: Customer) -> Customer:
        customer_id = self.connection.execute(
            insert(customers)
            .values(account_id=account_id, **_customer_values(customer))
            .returning(customers.c.id)
        ).scalar_one()
        self._count_new_customers(account_id, 1)
        blank = Customer(
            id=customer_id, created_at=customer.created_at, modified_at=customer.modified_at
        )
        return self._write(account_id, blank, customer, customer_id, is_new=True)

    def save_customer(self, account_id: int, before: Customer, after: Customer) -> Customer:
        assert before.id is not None
        return self._write(account_id, before, after, before.id, is_new=False)

    def email_owners(
        self, account_id: int, email_keys: Iterable[str], *, besides: int | None
    ) -> dict[str, int]:
        owners: dict[str, int] = {}
        for key in email_keys:  # usually one or two: one indexed lookup each
            owner = _EMAIL_OWNER.scalar(self.connection, account_id=account_id, value_key=key)
            if owner is not None and owner != besides:
                owners[key] = owner
        return owners

    # -- lists and searches (docs/performance.md)

    def find_customers(
        self, account_id: int, search: Search, *, with_emails: bool = False
    ) -> Found:
        where = and_(customers.c.account_id == account_id, condition(account_id, search.criteria))
        count: int | None = None
        if search.criteria == EVERYTHING:
            count = self._customer_count(account_id)
        elif search.offset > 0:
            count = self._count(where)
        if count is not None and search.offset >= count:
            return Found(count, [])  # past the end: no need to skip through every match
        rows = self.connection.execute(
            select(*_LISTED_COLUMNS)
            .where(where)
            .order_by(*ordering(search.sort))
            .limit(search.page_size)
            .offset(search.offset)
        ).all()
        if count is None:
            # A first page that is not full holds every match: counting them again is waste.
            count = len(rows) if len(rows) < search.page_size else self._count(where)
        emails = self._emails_of([row.id for row in rows]) if with_emails and rows else {}
        return Found(count, [_listed(row, emails.get(row.id, ())) for row in rows])

    def add_customers(self, account_id: int, new: Sequence[Customer]) -> list[int]:
        # Ids drawn first, in order, then the rows written with them in bulk: an INSERT ...
        # RETURNING of thousands of rows spent most of a seed's time building and parsing its
        # statement, in SQLAlchemy and the driver (docs/performance.md).
        ids = self._next_customer_ids(len(new))
        self._insert_many(
            customers,
            [
                {"id": customer_id, "account_id": account_id, **_customer_values(customer)}
                for customer_id, customer in zip(ids, new, strict=True)
            ],
        )
        entry_rows = [
            {
                "account_id": account_id,
                "customer_id": customer_id,
                "collection": collection.value,
                "value": entry.value,
                "value_key": collection.key(entry.value),
                "label": entry.label,
            }
            for customer_id, customer in zip(ids, new, strict=True)
            for collection in Collection
            for entry in customer.entries(collection)
        ]
        address_rows = [
            {"customer_id": customer_id, **_address_values(customer.address)}
            for customer_id, customer in zip(ids, new, strict=True)
            if customer.address is not None
        ]
        terms = [
            row
            for customer_id, customer in zip(ids, new, strict=True)
            for row in term_rows(account_id, customer_id, customer_terms(customer))
        ]
        try:
            for table, rows in ((entries, entry_rows), (addresses, address_rows)):
                self._insert_many(table, rows)
        except self._integrity_errors as error:
            raise EmailTaken("") from error
        self._insert_many(search_terms, terms)
        self._count_new_customers(account_id, len(ids))
        return ids

    def _next_customer_ids(self, count: int) -> list[int]:
        """The ids the next `count` customers get, in order (in a write transaction)."""
        if self.is_sqlite:
            # The write lock is held: no other writer draws ids until the commit. AUTOINCREMENT
            # moves its counter past the ids inserted, as it does for the ids it picks itself.
            last = self.connection.exec_driver_sql(
                "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'customers'),"
                " 0), coalesce((SELECT max(id) FROM customers), 0))"
            ).scalar_one()
            return list(range(int(last) + 1, int(last) + 1 + count))
        drawn = self.connection.exec_driver_sql(
            "SELECT nextval(pg_get_serial_sequence('customers', 'id'))"
            " FROM generate_series(1, %(count)s)",
            {"count": count},
        )
        return sorted(int(customer_id) for customer_id in drawn.scalars())

    def _insert_many(self, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert rows in bulk on the driver: with COPY on PostgreSQL, with one prepared
        INSERT on SQLite; several times faster than SQLAlchemy's INSERT of many rows for the
        millions of rows of a large seed (docs/performance.md)."""
        if not rows:
            return
        names = list(rows[0])
        columns = ", ".join(table.c[name].name for name in names)  # names of our own tables
        driver: Any = self.connection.connection.driver_connection
        if self.is_sqlite:
            marks = ", ".join("?" * len(names))
            driver.executemany(
                f"INSERT INTO {table.name} ({columns}) VALUES ({marks})",
                [tuple(row[name] for name in names) for row in rows],
            )
            return
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row([row[name] for name in names])

    def ensure_account(self, name: str, now: datetime) -> int:
        account_id = self.connection.execute(
            select(accounts.c.id).where(accounts.c.name == name)
        ).scalar()
        if account_id is None:
            account_id = self.connection.execute(
                insert(accounts)
                .values(name=name, created_at=_seconds(now))
                .returning(accounts.c.id)
            ).scalar_one()
        return int(account_id)

    # -- one account's customers at once (the control API, docs/testing.md)

    def account_customers(self, account_id: int) -> list[Customer]:
        rows = self.connection.execute(
            select(customers, *_ADDRESS_COLUMNS)
            .outerjoin(addresses, addresses.c.customer_id == customers.c.id)
            .where(customers.c.account_id == account_id)
            .order_by(customers.c.id)
        ).all()
        owned: dict[int, list[Any]] = {row.id: [] for row in rows}
        for entry in self.connection.execute(
            select(
                entries.c.id,
                entries.c.customer_id,
                entries.c.collection,
                entries.c.value,
                entries.c.label,
            )
            .where(entries.c.account_id == account_id)
            .order_by(entries.c.id)
        ):
            owned[entry.customer_id].append(entry)
        return [_customer(row, owned[row.id]) for row in rows]

    def clear_customers(self, account_id: int) -> int:
        mine = select(customers.c.id).where(customers.c.account_id == account_id)
        run = self.connection.execute
        run(delete(search_terms).where(search_terms.c.account_id == account_id))
        run(delete(entries).where(entries.c.account_id == account_id))
        run(delete(addresses).where(addresses.c.customer_id.in_(mine)))
        removed = run(delete(customers).where(customers.c.account_id == account_id)).rowcount
        run(update(accounts).where(accounts.c.id == account_id).values(customer_count=0))
        return int(removed)

    def put_customers(self, account_id: int, saved: Sequence[Customer]) -> None:
        if not saved:
            return
        run = self.connection.execute
        run(
            insert(customers),
            [
                {"id": customer.id, "account_id": account_id, **_customer_values(customer)}
                for customer in saved
            ],
        )
        entry_rows = [
            {
                "id": entry.id,
                "account_id": account_id,
                "customer_id": customer.id,
                "collection": collection.value,
                "value": entry.value,
                "value_key": collection.key(entry.value),
                "label": entry.label,
            }
            for customer in saved
            for collection in Collection
            for entry in customer.entries(collection)
        ]
        address_rows = [
            {"id": customer.address.id, "customer_id": customer.id}
            | _address_values(customer.address)
            for customer in saved
            if customer.address is not None
        ]
        terms = [
            row
            for customer in saved
            if customer.id is not None
            for row in term_rows(account_id, customer.id, customer_terms(customer))
        ]
        for table, rows in (
            (entries, entry_rows),
            (addresses, address_rows),
            (search_terms, terms),
        ):
            if rows:
                run(insert(table), rows)
        self._count_new_customers(account_id, len(saved))

    def _customer_count(self, account_id: int) -> int:
        count = self.connection.execute(
            select(accounts.c.customer_count).where(accounts.c.id == account_id)
        ).scalar()
        return int(count or 0)

    def _count(self, where: Any) -> int:
        return int(
            self.connection.execute(
                select(func.count()).select_from(customers).where(where)
            ).scalar_one()
        )

    def _count_new_customers(self, account_id: int, added: int) -> None:
        _COUNT_CUSTOMERS.execute(self.connection, account_id=account_id, added=added)

    def _emails_of(self, customer_ids: list[int]) -> dict[int, list[Entry]]:
        found: dict[int, list[Entry]] = {}
        for row in self.connection.execute(
            select(entries.c.id, entries.c.customer_id, entries.c.value, entries.c.label)
            .where(
                entries.c.customer_id.in_(customer_ids),
                entries.c.collection == Collection.EMAILS.value,
            )
            .order_by(entries.c.id)
        ):
            found.setdefault(row.customer_id, []).append(Entry(row.id, row.value, row.label))
        return found

    def _write_terms(
        self, account_id: int, customer_id: int, before: Customer, after: Customer
    ) -> None:
        """Keep `search_terms` equal to what `after` is found by."""
        old, new = customer_terms(before), customer_terms(after)
        if gone := old - new:
            _DELETE_TERM.execute_many(
                self.connection,
                [
                    {"owner": customer_id, "old_field": field, "old_term": term}
                    for field, term in gone
                ],
            )
        if added := new - old:
            _INSERT_TERM.execute_many(
                self.connection, term_rows(account_id, customer_id, sorted(added))
            )

    # -- writing one customer

    def _pipelined(self) -> AbstractContextManager[Any]:
        """On PostgreSQL, the writes of one customer are sent without waiting for each answer
        (psycopg's pipeline mode): a round trip where a new entry's id is needed, and one at
        the end, instead of one per statement. Errors still surface before the commit."""
        if self.is_sqlite:
            return nullcontext()
        driver: Any = self.connection.connection.driver_connection
        return driver.pipeline()  # type: ignore[no-any-return]

    def _write(
        self, account_id: int, before: Customer, after: Customer, customer_id: int, *, is_new: bool
    ) -> Customer:
        try:
            # Before the pipeline: SQLAlchemy reads its statements' answers at once.
            address = self._write_address(customer_id, before.address, after.address)
            with self._pipelined():
                if not is_new and (values := _customer_values(after)) != _customer_values(before):
                    _UPDATE_CUSTOMER.execute(
                        self.connection,
                        customer=customer_id,
                        **{f"new_{name}": value for name, value in values.items()},
                    )
                collections = {
                    collection.value: self._write_entries(
                        account_id,
                        customer_id,
                        collection,
                        before.entries(collection),
                        after.entries(collection),
                    )
                    for collection in Collection
                }
                self._write_terms(account_id, customer_id, before, after)
        except self._integrity_errors as error:
            # Only the unique email index can fail here: another customer took the address
            # between our check and our write.
            raise EmailTaken(_new_email(before, after)) from error
        return Customer(
            **{
                **{name: getattr(after, name) for name in _SCALARS},
                "id": customer_id,
                "created_at": after.created_at,
                "modified_at": after.modified_at,
                "address": address,
                **collections,
            }
        )

    def _write_address(
        self, customer_id: int, before: Address | None, after: Address | None
    ) -> Address | None:
        if after == before:
            return after
        if after is None:
            self.connection.execute(delete(addresses).where(addresses.c.customer_id == customer_id))
            return None
        values = _address_values(after)
        if before is None:
            address_id = self.connection.execute(
                insert(addresses)
                .values(customer_id=customer_id, **values)
                .returning(addresses.c.id)
            ).scalar_one()
            return Address(
                **{**_address_fields(after), "id": int(address_id)},
            )
        self.connection.execute(
            update(addresses).where(addresses.c.customer_id == customer_id).values(**values)
        )
        return after

    def _write_entries(
        self,
        account_id: int,
        customer_id: int,
        collection: Collection,
        before: tuple[Entry, ...],
        after: tuple[Entry, ...],
    ) -> tuple[Entry, ...]:
        if before == after:
            return after
        previous = {entry.id: entry for entry in before}
        kept = {entry.id for entry in after if entry.id is not None}
        gone = [entry_id for entry_id in previous if entry_id not in kept]
        changed = [e for e in after if e.id is not None and previous.get(e.id) != e]
        added = [e for e in after if e.id is None]
        if gone:
            _DELETE_ENTRY.execute_many(self.connection, [{"entry_id": id_} for id_ in gone])
        if changed:
            if collection is Collection.EMAILS and len(changed) > 1:
                # Two addresses trading places would collide in the unique index mid-way:
                # park the keys first ('#id' is never an email address).
                _PARK_ENTRY.execute_many(
                    self.connection, [{"entry_id": e.id, "parked": f"#{e.id}"} for e in changed]
                )
            _UPDATE_ENTRY.execute_many(
                self.connection,
                [
                    {
                        "entry_id": e.id,
                        "new_value": e.value,
                        "new_key": collection.key(e.value),
                        "new_label": e.label,
                    }
                    for e in changed
                ],
            )
        new_ids: list[int] = []
        if added:
            rows = [
                {
                    "account_id": account_id,
                    "customer_id": customer_id,
                    "collection": collection.value,
                    "value": e.value,
                    "value_key": collection.key(e.value),
                    "label": e.label,
                }
                for e in added
            ]
            # One row at a time: the drivers return no ids from an executemany.
            new_ids = [int(_INSERT_ENTRY.scalar(self.connection, **row)) for row in rows]
        assigned = iter(new_ids)
        return tuple(
            entry if entry.id is not None else Entry(next(assigned), entry.value, entry.label)
            for entry in after
        )


_epoch = datetime.fromtimestamp(0, UTC)

_LISTED_COLUMNS = (
    customers.c.id,
    customers.c.created_at,
    customers.c.modified_at,
    *(customers.c[name] for name in _SCALARS),
)

_ADDRESS_COLUMNS = (
    addresses.c.id.label("address_id"),
    addresses.c.lines.label("address_lines"),
    addresses.c.city.label("address_city"),
    addresses.c.state.label("address_state"),
    addresses.c.postal_code.label("address_postal_code"),
    addresses.c.country.label("address_country"),
    addresses.c.created_at.label("address_created_at"),
    addresses.c.modified_at.label("address_modified_at"),
)

#: The tables a bulk load fills, parents first.
_LOADED_TABLES = (customers, entries, addresses, search_terms)

# -- the hot paths' statements (store/prepared.py) ----------------------------------------------

_KEY_ACCOUNT = Prepared(
    select(api_keys.c.account_id, api_keys.c.key_hash).where(
        api_keys.c.key_hash == bindparam("key_hash"), api_keys.c.revoked_at.is_(None)
    )
)
_ONE_CUSTOMER = (
    select(customers, *_ADDRESS_COLUMNS)
    .outerjoin(addresses, addresses.c.customer_id == customers.c.id)
    .where(
        customers.c.id == bindparam("customer_id"),
        customers.c.account_id == bindparam("account_id"),
    )
)
_LOAD = Prepared(_ONE_CUSTOMER)
_LOAD_FOR_UPDATE = Prepared(_ONE_CUSTOMER.with_for_update(of=customers))
_ENTRIES = Prepared(
    select(entries.c.id, entries.c.collection, entries.c.value, entries.c.label)
    .where(entries.c.customer_id == bindparam("customer_id"))
    .order_by(entries.c.id)
)
_EMAIL_OWNER = Prepared(
    select(entries.c.customer_id).where(
        entries.c.account_id == bindparam("account_id"),
        entries.c.collection == Collection.EMAILS.value,
        entries.c.value_key == bindparam("value_key"),
    )
)
_UPDATE_CUSTOMER = Prepared(
    update(customers)
    .where(customers.c.id == bindparam("customer"))
    .values(
        {
            name: bindparam(f"new_{name}")
            for name in (*_SCALARS, "created_at", "modified_at", "first_name_key", "last_name_key")
        }
    )
)
_COUNT_CUSTOMERS = Prepared(
    update(accounts)
    .where(accounts.c.id == bindparam("account_id"))
    .values(customer_count=accounts.c.customer_count + bindparam("added"))
)
_DELETE_ENTRY = Prepared(delete(entries).where(entries.c.id == bindparam("entry_id")))
_PARK_ENTRY = Prepared(
    update(entries)
    .where(entries.c.id == bindparam("entry_id"))
    .values(value_key=bindparam("parked"))
)
_UPDATE_ENTRY = Prepared(
    update(entries)
    .where(entries.c.id == bindparam("entry_id"))
    .values(
        value=bindparam("new_value"),
        value_key=bindparam("new_key"),
        label=bindparam("new_label"),
    )
)
_INSERT_ENTRY = Prepared(
    insert(entries)
    .values(
        account_id=bindparam("account_id"),
        customer_id=bindparam("customer_id"),
        collection=bindparam("collection"),
        value=bindparam("value"),
        value_key=bindparam("value_key"),
        label=bindparam("label"),
    )
    .returning(entries.c.id)
)
_DELETE_TERM = Prepared(
    delete(search_terms).where(
        search_terms.c.customer_id == bindparam("owner"),
        search_terms.c.field == bindparam("old_field"),
        search_terms.c.term == bindparam("old_term"),
    )
)
_INSERT_TERM = Prepared(
    insert(search_terms).values(
        customer_id=bindparam("customer_id"),
        account_id=bindparam("account_id"),
        field=bindparam("field"),
        term=bindparam("term"),
    )
)


def _customer_values(customer: Customer) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(customer, name) for name in _SCALARS}
    values["created_at"] = _seconds(customer.created_at)
    values["modified_at"] = _seconds(customer.modified_at)
    values.update(name_keys(customer))
    return values


def _address_values(address: Address) -> dict[str, Any]:
    return {
        "lines": json.dumps(list(address.lines)),
        "city": address.city,
        "state": address.state,
        "postal_code": address.postal_code,
        "country": address.country,
        "created_at": _seconds(address.created_at or address.modified_at or _epoch),
        "modified_at": None if address.modified_at is None else _seconds(address.modified_at),
    }


def _listed(row: Any, emails: Iterable[Entry]) -> Customer:
    """A customer as lists and searches load it: its own fields and, when asked, its emails."""
    return Customer(
        id=row.id,
        created_at=_moment(row.created_at),
        modified_at=_moment(row.modified_at),
        emails=tuple(emails),
        **{name: getattr(row, name) for name in _SCALARS},
    )


def _address_fields(address: Address) -> dict[str, Any]:
    return {
        "id": address.id,
        "lines": address.lines,
        "city": address.city,
        "state": address.state,
        "postal_code": address.postal_code,
        "country": address.country,
        "created_at": address.created_at,
        "modified_at": address.modified_at,
    }


def _customer(row: Any, entry_rows: Sequence[Any]) -> Customer:
    grouped: dict[str, list[Entry]] = {collection.value: [] for collection in Collection}
    for entry in entry_rows:
        grouped[entry.collection].append(Entry(entry.id, entry.value, entry.label))
    address = None
    if row.address_id is not None:
        address = Address(
            id=row.address_id,
            lines=tuple(json.loads(row.address_lines)),
            city=row.address_city,
            state=row.address_state,
            postal_code=row.address_postal_code,
            country=row.address_country,
            created_at=_moment(row.address_created_at),
            modified_at=None
            if row.address_modified_at is None
            else _moment(row.address_modified_at),
        )
    values: dict[str, Any] = {name: getattr(row, name) for name in _SCALARS}
    values.update((name, tuple(found)) for name, found in grouped.items())
    return Customer(
        id=row.id,
        created_at=_moment(row.created_at),
        modified_at=_moment(row.modified_at),
        address=address,
        **values,
    )


def _new_email(before: Customer, after: Customer) -> str:
    known = {Collection.EMAILS.key(entry.value) for entry in before.emails}
    fresh = [e.value for e in after.emails if Collection.EMAILS.key(e.value) not in known]
    return fresh[0] if fresh else ""
