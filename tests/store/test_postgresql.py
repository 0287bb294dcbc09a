"""PostgreSQL specifics of SqlStore: the customer row lock, lost connections, a server that is
not there, and the pool."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.pool import NullPool

from openscout import keys
from openscout.domain.customers import Customer
from openscout.domain.errors import StoreUnavailable
from openscout.store.base import ApiKey
from openscout.store.engine import SqlStore
from tests.conftest import new_account

NOW = datetime(2017, 9, 23, 20, 12, 43, tzinfo=UTC)
WAIT_SECONDS = 30


@pytest.fixture(scope="module", params=["postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def account_id(module_store: SqlStore) -> int:
    account = new_account(module_store)
    with module_store.reading() as transaction:
        found = transaction.account_for_key(keys.hash_key(account.key))
    assert found is not None
    return found


def backend_pid(connection: Connection) -> int:
    return int(connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def admin_sql(store: SqlStore, sql: str, **parameters: object) -> list[tuple[object, ...]]:
    """Run `sql` on a connection of its own (not from the store's pool), in its own transaction."""
    engine = create_engine(store.engine.url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            return [tuple(row) for row in connection.execute(text(sql), parameters)]
    finally:
        engine.dispose()


def test_an_update_waits_for_the_row_lock_and_then_sees_the_committed_change(
    module_store: SqlStore, account_id: int
) -> None:
    with module_store.writing() as transaction:
        customer = transaction.add_customer(
            account_id, Customer(id=None, created_at=NOW, modified_at=NOW, first_name="First")
        )
    assert customer.id is not None
    seen: list[str | None] = []

    def second_writer() -> None:
        with module_store.writing() as transaction:
            locked = transaction.get_customer(account_id, customer.id or 0, for_update=True)
            assert locked is not None
            seen.append(locked.first_name)

    with module_store.writing() as transaction:
        locked = transaction.get_customer(account_id, customer.id, for_update=True)
        assert locked is not None
        holder = backend_pid(transaction.connection)
        other = threading.Thread(target=second_writer, daemon=True)
        other.start()
        wait_until_blocked_by(module_store, holder)
        assert seen == []
        transaction.save_customer(account_id, locked, replace(locked, first_name="Second"))
    other.join(WAIT_SECONDS)
    assert not other.is_alive()
    assert seen == ["Second"]


def test_a_connection_lost_in_a_transaction_is_unavailable_and_the_next_one_works(
    module_store: SqlStore, account_id: int
) -> None:
    with pytest.raises(StoreUnavailable), module_store.writing() as transaction:
        pid = backend_pid(transaction.connection)
        # The second argument waits (ms) until the backend is gone.
        assert admin_sql(module_store, "SELECT pg_terminate_backend(:pid, 10000)", pid=pid) == [
            (True,)
        ]
        transaction.get_customer(account_id, 1)
    with module_store.reading() as transaction:
        assert transaction.get_customer(account_id, 1) is None
        assert backend_pid(transaction.connection) != pid


def test_pooled_connections_the_server_dropped_are_replaced_unnoticed(
    module_store: SqlStore, account_id: int
) -> None:
    with module_store.reading() as first, module_store.reading() as second:
        pooled = {backend_pid(first.connection), backend_pid(second.connection)}
    terminated = admin_sql(
        module_store,
        "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    assert len(terminated) >= 2 and all(row == (True,) for row in terminated)
    module_store.ping()
    with module_store.writing() as transaction:
        assert backend_pid(transaction.connection) not in pooled
        assert transaction.get_customer(account_id, 1) is None


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port with nothing listening (bound, so nothing else takes it meanwhile)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_a_postgresql_that_is_not_there_is_store_unavailable(closed_port: int) -> None:
    store = SqlStore(f"postgresql://openscout@127.0.0.1:{closed_port}/openscout")
    try:
        with pytest.raises(StoreUnavailable):
            store.ping()
        with pytest.raises(StoreUnavailable), store.reading():
            pass
        with pytest.raises(StoreUnavailable), store.writing():
            pass
    finally:
        store.close()


def test_the_pool_holds_at_most_pool_size_connections(module_store: SqlStore) -> None:
    store = SqlStore(module_store.engine.url.render_as_string(hide_password=False), pool_size=3)
    fourth: list[int] = []

    def read() -> None:
        with store.reading() as transaction:
            fourth.append(backend_pid(transaction.connection))

    try:
        with store.reading() as a, store.reading() as b, store.reading() as c:
            held = {backend_pid(t.connection) for t in (a, b, c)}
            reader = threading.Thread(target=read, daemon=True)
            reader.start()
            reader.join(0.2)  # a fourth connection, if the pool allowed one, would be made now
        reader.join(WAIT_SECONDS)
        assert len(held) == 3
        assert len(fourth) == 1 and fourth[0] in held
    finally:
        store.close()


def wait_until_blocked_by(store: SqlStore, holder: int) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if admin_sql(
            store,
            "SELECT pid FROM pg_stat_activity WHERE :holder = ANY(pg_blocking_pids(pid))",
            holder=holder,
        ):
            return
        time.sleep(0.01)
    raise AssertionError("nothing waited for the first transaction")


def test_keys_made_at_once_for_a_new_account_share_one_account(module_store: SqlStore) -> None:
    """Two servers starting on a new database each make a first key for `default`."""
    account = f"new-{time.monotonic_ns()}"
    made: list[ApiKey] = []

    def second() -> None:
        with module_store.writing() as transaction:
            made.append(transaction.create_key(account, "second", "b" * 64, "bbbb", NOW))

    with module_store.writing() as transaction:
        first = transaction.create_key(account, "first", "a" * 64, "aaaa", NOW)
        other = threading.Thread(target=second, daemon=True)
        other.start()
        # The second insert of the account name waits on the unique index for this transaction.
        wait_until_blocked_by(module_store, backend_pid(transaction.connection))
    other.join(WAIT_SECONDS)
    assert not other.is_alive() and len(made) == 1
    with module_store.reading() as transaction:
        accounts = {
            transaction.account_for_key("a" * 64),
            transaction.account_for_key("b" * 64),
        }
        listed = [k for k in transaction.list_keys() if k.account == account]
    assert len(accounts) == 1 and None not in accounts
    assert [(k.name, k.id) for k in listed] == [("first", first.id), ("second", made[0].id)]


def test_a_statement_over_the_timeout_is_cancelled_and_the_store_goes_on(
    module_store: SqlStore,
) -> None:
    url = module_store.engine.url.render_as_string(hide_password=False)
    store = SqlStore(url, pool_size=1, statement_timeout=0.2)
    try:
        with pytest.raises(StoreUnavailable, match="statement timeout"), store.reading() as t:
            t.connection.exec_driver_sql("SELECT pg_sleep(30)")
        # The same pooled connection answers the next call, still with its limit.
        with store.reading() as transaction:
            assert transaction.connection.exec_driver_sql("SELECT 1").scalar_one() == 1
            shown = transaction.connection.exec_driver_sql("SHOW statement_timeout").scalar_one()
        assert shown == "200ms"
    finally:
        store.close()


def test_without_a_timeout_statements_are_not_limited(module_store: SqlStore) -> None:
    with module_store.reading() as transaction:
        shown = transaction.connection.exec_driver_sql("SHOW statement_timeout").scalar_one()
    assert shown == "0"
