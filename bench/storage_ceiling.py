"""The storage ceiling: openscout's update (and get) transaction done in-process with the raw
driver, no HTTP, no SQLAlchemy, on the same database as the server.

    .venv/bin/python bench/storage_ceiling.py --database-url URL --data FILE --key KEY \\
        --scenario put|get --seconds 10 --threads 1

The work per transaction is the SQL that openscout needs for one request of bench/wrk/put.lua
(or read.lua's `get`), each statement in its simplest efficient form:

    authenticate     the key's account: SELECT ... FROM api_keys WHERE key_hash = ?
    read             the customer with its address (FOR UPDATE OF customers on PostgreSQL),
                     then its entries
    put only:
    email is free    SELECT ... FROM entries WHERE account_id = ? AND collection = 'emails'
                     AND value_key = ? AND customer_id <> ?
    scalars          UPDATE customers SET first_name, organization, first_name_key, modified_at
    email by id      UPDATE entries SET value, value_key
    phone re-added   UPDATE entries SET label        (same value, other location)
    chat removed     DELETE FROM entries WHERE id = ?
    chat added       INSERT INTO entries ... RETURNING id
    search terms     DELETE the terms the customer lost, INSERT those it gained (the same sets
                     as openscout's `customer_terms`)

SQLite runs with the pragmas openscout's own connections get (read from a SqlStore), one
thread, `BEGIN IMMEDIATE` for writes; PostgreSQL with psycopg, one connection per thread
(8 by default), statements prepared by psycopg after their fifth use as under openscout. Prints
one JSON object: transactions, seconds, per second, p50 and p99 in ms, errors.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import make_url
from support import cpu_times, cpu_used, postgres_pids

from openscout import keys
from openscout.domain.customers import Customer, Entry
from openscout.domain.search import folded
from openscout.store.search import customer_terms

AUTH = "SELECT account_id, key_hash FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL"
CUSTOMER = (
    "SELECT customers.id, customers.account_id, customers.first_name, customers.last_name, "
    "customers.organization, customers.job_title, customers.background, customers.location, "
    "customers.photo_url, customers.photo_type, customers.gender, customers.age, "
    "customers.created_at, customers.modified_at, customers.first_name_key, "
    "customers.last_name_key, addresses.id AS address_id, addresses.lines, addresses.city, "
    "addresses.state, addresses.postal_code, addresses.country, "
    "addresses.created_at AS address_created_at, addresses.modified_at AS address_modified_at "
    "FROM customers LEFT OUTER JOIN addresses ON addresses.customer_id = customers.id "
    "WHERE customers.id = ? AND customers.account_id = ?"
)
ENTRIES = "SELECT id, collection, value, label FROM entries WHERE customer_id = ? ORDER BY id"
EMAIL_OWNER = (
    "SELECT value_key, customer_id FROM entries WHERE account_id = ? AND collection = 'emails' "
    "AND value_key = ? AND customer_id <> ?"
)
UPDATE_CUSTOMER = (
    "UPDATE customers SET first_name = ?, organization = ?, first_name_key = ?, modified_at = ? "
    "WHERE id = ?"
)
UPDATE_EMAIL = "UPDATE entries SET value = ?, value_key = ? WHERE id = ?"
UPDATE_PHONE = "UPDATE entries SET label = ? WHERE id = ?"
DELETE_CHAT = "DELETE FROM entries WHERE id = ?"
INSERT_CHAT = (
    "INSERT INTO entries (account_id, customer_id, collection, value, value_key, label) "
    "VALUES (?, ?, 'chats', ?, ?, 'skype') RETURNING id"
)
DELETE_TERM = "DELETE FROM search_terms WHERE customer_id = ? AND field = ? AND term = ?"
INSERT_TERM = "INSERT INTO search_terms (customer_id, field, term, account_id) VALUES (?, ?, ?, ?)"
#: The pragmas whose values are copied from openscout's connections, in the order to set them.
SQLITE_PRAGMAS = (
    "busy_timeout",
    "journal_mode",
    "synchronous",
    "foreign_keys",
    "cache_size",
    "mmap_size",
    "temp_store",
)


@dataclass
class Sample:
    """One customer of the data file (bench/run.py writes it; bench/wrk/common.lua reads it)."""

    id: int
    email_id: int
    first: str
    org: str
    phone: str
    phone_label: str
    visits: int = 0


@dataclass
class Data:
    names: list[str]
    orgs: list[str]
    labels: list[str]
    customers: list[Sample] = field(default_factory=list)


def read_data(path: str) -> Data:
    lists: dict[str, list[str]] = {}
    customers: list[Sample] = []
    with open(path, encoding="utf-8") as file:
        for line in file:
            kind, *fields = line.rstrip("\n").split("\t")
            if kind == "c":
                customers.append(
                    Sample(
                        id=int(fields[0]),
                        email_id=int(fields[1]),
                        phone=fields[3],
                        phone_label=fields[4],
                        first=fields[5],
                        org=fields[6],
                    )
                )
            else:
                lists[kind] = fields
    return Data(lists["names"], lists["orgs"], lists["labels"], customers)


def other(values: list[str], current: str, n: int) -> str:
    """As put.lua's `other`: a value of `values` other than `current`, turning with `n`."""
    pick = values[n % len(values)]
    return values[(n + 1) % len(values)] if pick == current else pick


# -- the two transactions ------------------------------------------------------------------------


class Driver:
    """A DB-API connection and how this benchmark speaks to it."""

    def __init__(self, connection: Any, is_sqlite: bool) -> None:
        self.connection = connection
        self.is_sqlite = is_sqlite
        self.cursor = connection.cursor()
        #: When a list, every statement sent is appended to it (`--show-sql`).
        self.record: list[str] | None = None
        self.piped = False

    def sql(self, statement: str) -> str:
        if self.record is not None:
            self.record.append(statement)
        return statement if self.is_sqlite else statement.replace("?", "%s")

    def run(self, statement: str, params: tuple[Any, ...]) -> Any:
        # In a pipeline every statement needs a cursor of its own, to read its answer later.
        cursor = self.connection.cursor() if self.piped else self.cursor
        return cursor.execute(self.sql(statement), params)

    @contextmanager
    def pipeline(self) -> Iterator[None]:
        """PostgreSQL: statements sent without waiting for each answer, as openscout sends a
        customer's writes (psycopg's pipeline mode). SQLite: nothing to do."""
        if self.is_sqlite:
            yield
            return
        with self.connection.pipeline():
            self.piped = True
            try:
                yield
            finally:
                self.piped = False

    def many(self, statement: str, rows: list[tuple[Any, ...]]) -> None:
        self.cursor.executemany(self.sql(statement), rows)

    def begin(self, write: bool) -> None:
        if self.is_sqlite:
            self.cursor.execute(self.sql("BEGIN IMMEDIATE" if write else "BEGIN"))
        # psycopg opens the transaction with the first statement

    def commit(self) -> None:
        if self.is_sqlite:
            self.cursor.execute(self.sql("COMMIT"))
        else:
            self.sql("COMMIT")
            self.connection.commit()

    def rollback(self) -> None:
        if self.is_sqlite:
            if self.connection.in_transaction:
                self.cursor.execute("ROLLBACK")
        else:
            self.connection.rollback()


def read_customer(
    db: Driver, key_hash: str, customer_id: int, *, for_update: bool
) -> tuple[int, Any, list[Any]]:
    row = db.run(AUTH, (key_hash,)).fetchone()
    if row is None or row[1] != key_hash:
        raise LookupError("the key is not known")
    account_id = row[0]
    query = CUSTOMER + (" FOR UPDATE OF customers" if for_update and not db.is_sqlite else "")
    customer = db.run(query, (customer_id, account_id)).fetchone()
    if customer is None:
        raise LookupError(f"customer {customer_id} not found")
    entries = db.run(ENTRIES, (customer_id,)).fetchall()
    return account_id, customer, entries


def get(db: Driver, key_hash: str, sample: Sample, _tag: str) -> None:
    db.begin(write=False)
    read_customer(db, key_hash, sample.id, for_update=False)
    db.commit()


def put(db: Driver, key_hash: str, sample: Sample, tag: str, data: Data, now: int) -> None:
    sample.visits += 1
    db.begin(write=True)
    account_id, row, entries = read_customer(db, key_hash, sample.id, for_update=True)
    emails = [e for e in entries if e[1] == "emails"]
    email = next(e for e in emails if e[0] == sample.email_id)
    phone = next(e for e in entries if e[1] == "phones" and e[2] == sample.phone)
    chats = [e for e in entries if e[1] == "chats"]
    first = other(data.names, sample.first, sample.visits)
    org = other(data.orgs, sample.org, sample.visits)
    label = other(data.labels, sample.phone_label, sample.visits)
    local, _, domain = email[2].rpartition("@")
    address = f"{re.sub(r'-[bc][0-9a-z]+$', '', local)}-c{tag}{sample.visits}@{domain}"
    before = _terms_customer(row, [e[2] for e in emails])
    after_emails = [address if e[0] == sample.email_id else e[2] for e in emails]
    after = _terms_customer(row, after_emails, first=first, org=org)
    if db.run(EMAIL_OWNER, (account_id, address.casefold(), sample.id)).fetchone():
        raise LookupError(f"{address} is taken")
    pending: list[Any] = []  # writes whose answers a pipeline gives only at its end

    def write(statement: str, params: tuple[Any, ...]) -> None:
        cursor = db.run(statement, params)
        if db.piped:
            pending.append(cursor)
        else:
            one(cursor)

    with db.pipeline():
        write(UPDATE_CUSTOMER, (first, org, folded(first), now, sample.id))
        write(UPDATE_EMAIL, (address, address.casefold(), sample.email_id))
        write(UPDATE_PHONE, (label, phone[0]))
        write(DELETE_CHAT, (chats[0][0],))
        chat = f"bench-c{tag}{sample.visits}"
        db.run(INSERT_CHAT, (account_id, sample.id, chat, chat)).fetchone()
        old, new = customer_terms(before), customer_terms(after)
        if gone := old - new:
            db.many(DELETE_TERM, [(sample.id, name, term) for name, term in sorted(gone)])
        if added := new - old:
            rows = [(sample.id, name, term, account_id) for name, term in sorted(added)]
            db.many(INSERT_TERM, rows)
    for cursor in pending:
        one(cursor)
    db.commit()
    sample.first, sample.org, sample.phone_label = first, org, label


def one(cursor: Any) -> None:
    """A write that must have changed exactly one row."""
    if cursor.rowcount != 1:
        raise LookupError(f"{cursor.rowcount} rows changed, not 1")


def _terms_customer(
    row: Any, emails: list[str], *, first: str | None = None, org: str | None = None
) -> Customer:
    """What `customer_terms` reads of a customer (`row` as CUSTOMER selects it)."""
    moment = datetime.fromtimestamp(0, UTC)
    return Customer(
        id=row[0],
        created_at=moment,
        modified_at=moment,
        first_name=row[2] if first is None else first,
        last_name=row[3],
        organization=row[4] if org is None else org,
        job_title=row[5],
        emails=tuple(Entry(None, value) for value in emails),
    )


# -- running -------------------------------------------------------------------------------------


def connect(url: str) -> Callable[[], Driver]:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        pragmas = openscout_pragmas(url)
        path = parsed.database
        assert path

        def sqlite_driver() -> Driver:
            connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            for name, value in pragmas:
                connection.execute(f"PRAGMA {name}={value}")
            return Driver(connection, is_sqlite=True)

        return sqlite_driver
    import psycopg

    conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)

    def postgres_driver() -> Driver:
        return Driver(psycopg.connect(conninfo, connect_timeout=5), is_sqlite=False)

    return postgres_driver


def openscout_pragmas(url: str) -> list[tuple[str, Any]]:
    """The pragma values that openscout's SqlStore gives its SQLite connections."""
    from openscout.store.engine import SqlStore

    store = SqlStore(url)
    try:
        with store.engine.connect() as connection:
            raw = connection.connection.driver_connection
            assert raw is not None
            return [(name, raw.execute(f"PRAGMA {name}").fetchone()[0]) for name in SQLITE_PRAGMAS]
    finally:
        store.close()


def measure(
    url: str, data: Data, key: str, scenario: str, seconds: float, threads: int, tag: str
) -> dict[str, Any]:
    key_hash = keys.hash_key(key)
    now = int(time.time())
    make = connect(url)
    slices = [data.customers[k::threads] for k in range(threads)]
    timings: list[list[float]] = [[] for _ in range(threads)]
    errors: list[list[str]] = [[] for _ in range(threads)]
    warm_up = min(2.0, max(0.5, seconds / 10))
    start = threading.Barrier(threads + 1, timeout=60)  # broken if a thread cannot connect
    stop_at = [0.0, 0.0]  # measuring starts, ends

    def work(k: int) -> None:
        db = make()
        mine = slices[k]
        step: Callable[[Sample], None]
        if scenario == "put":
            step = lambda sample: put(db, key_hash, sample, tag, data, now)  # noqa: E731
        else:
            step = lambda sample: get(db, key_hash, sample, tag)  # noqa: E731
        start.wait()
        i = 0
        while True:
            sample = mine[i % len(mine)]
            i += 1
            began = time.perf_counter()
            if began >= stop_at[1]:
                break
            try:
                step(sample)
            except Exception as error:
                db.rollback()
                errors[k].append(f"{type(error).__name__}: {error}")
                if len(errors[k]) > 100:
                    break
                continue
            if began >= stop_at[0]:
                timings[k].append(time.perf_counter() - began)
        db.connection.close()

    workers = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(threads)]
    for worker in workers:
        worker.start()
    now_ = time.perf_counter()
    stop_at[0], stop_at[1] = now_ + warm_up, now_ + warm_up + seconds
    start.wait()
    # CPU used while measuring, in cores: this process, and the PostgreSQL server.
    time.sleep(max(0.0, stop_at[0] - time.perf_counter()))
    began = (time.process_time(), cpu_times(postgres_pids()))
    time.sleep(max(0.0, stop_at[1] - time.perf_counter()))
    cpu = (time.process_time() - began[0], cpu_used(began[1], cpu_times(postgres_pids())))
    for worker in workers:
        worker.join(timeout=seconds + warm_up + 60)
    durations = sorted(t for part in timings for t in part)
    failures = [e for part in errors for e in part]
    done = len(durations)
    return {
        "scenario": scenario,
        "threads": threads,
        "transactions": done,
        "seconds": seconds,
        "per_second": done / seconds,
        "p50_ms": 1000 * statistics.median(durations) if durations else None,
        "p99_ms": 1000 * durations[min(done - 1, int(done * 0.99))] if durations else None,
        "cpu": cpu[0] / seconds,
        "postgres_cpu": 0.0 if make_url(url).get_backend_name() == "sqlite" else cpu[1] / seconds,
        "errors": len(failures),
        "first_error": failures[0] if failures else None,
    }


def show_sql(url: str, data: Data, key: str, tag: str) -> None:
    """Print the statements of one PUT of the mix as openscout sends them (through its service,
    in-process) and as the ceiling does, for two different customers of the data file."""
    import sqlalchemy

    from openscout import service
    from openscout.contract.v1 import decode
    from openscout.http.webhooks import V2Payloads
    from openscout.store.engine import SqlStore
    from openscout.webhooks.events import Events

    first, second = data.customers[0], data.customers[1]
    store = SqlStore(url)
    sent: list[str] = []

    def capture(*args: Any) -> None:
        statement, many = args[2], args[5]
        sent.append(("(many) " if many else "") + " ".join(statement.split()))

    sqlalchemy.event.listen(store.engine, "before_cursor_execute", capture)
    try:
        with store.reading() as transaction:
            current = transaction.get_customer(
                int(transaction.account_for_key(keys.hash_key(key)) or 0), first.id
            )
        assert current is not None
        email = next(e for e in current.emails if e.id == first.email_id)
        local, _, domain = email.value.rpartition("@")
        body = {
            "firstName": other(data.names, first.first, 1),
            "organization": other(data.orgs, first.org, 1),
            "emails": [{"id": first.email_id, "value": f"{local}-s{tag}@{domain}"}],
            "phones": [
                {"value": first.phone, "location": other(data.labels, first.phone_label, 1)}
            ],
            "chats": [
                {"id": -(current.chats[0].id or 0)},
                {"value": f"bench-s{tag}", "type": "skype"},
            ],
        }
        write = decode.update_request(json.dumps(body).encode(), None)
        sent.clear()
        account = service.account_for_key(store, keys.hash_key(key)) or 0
        service.update_customer(
            store,
            account,
            first.id,
            write.patch,
            datetime.now(UTC),
            events=Events(V2Payloads("http://127.0.0.1:8080")),
        )
    finally:
        store.close()
    print(f"openscout, one PUT of the mix ({len(sent)} statements):")
    for statement in sent:
        print(f"    {statement}")
    db = connect(url)()
    db.record = []
    put(db, keys.hash_key(key), second, tag, data, int(time.time()))
    print(f"\nstorage ceiling, the same PUT ({len(db.record)} statements):")
    for statement in db.record:
        print(f"    {statement}")
    db.connection.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--data", required=True, help="the data file bench/run.py wrote")
    parser.add_argument("--key", required=True, help="an API key of the sampled customers' account")
    parser.add_argument("--scenario", choices=("put", "get"), default="put")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--threads", type=int, default=None, help="1 on SQLite, 8 on PostgreSQL")
    parser.add_argument("--tag", default=f"{int(time.time()) % 100000:x}")
    parser.add_argument(
        "--show-sql",
        action="store_true",
        help="print the statements of one PUT, openscout's and the ceiling's, and stop",
    )
    options = parser.parse_args()
    is_sqlite = make_url(options.database_url).get_backend_name() == "sqlite"
    threads = options.threads or (1 if is_sqlite else 8)
    data = read_data(options.data)
    if options.show_sql:
        show_sql(options.database_url, data, options.key, options.tag)
        return 0
    result = measure(
        options.database_url,
        data,
        options.key,
        options.scenario,
        options.seconds,
        threads,
        options.tag,
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
