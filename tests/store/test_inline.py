"""The inline lane of a SQLite store (store/sqlite.py, `SqlStore.run` in store/engine.py): calls
made on the event loop never wait. Where one would (another process holds the write lock), it is
rolled back having written nothing and raises Busy, and the store makes the call again in a
thread, which waits for the lock; the client sees a normal answer, only later."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import anyio
import httpx
import pytest

from openscout import keys, service
from openscout.contract.v1 import decode
from openscout.domain.changes import CustomerPatch
from openscout.domain.customers import Customer
from openscout.store.base import is_unbounded, unbounded, unbounded_when
from openscout.store.engine import SqlStore
from openscout.store.sqlite import Busy, InlineLane
from openscout.webhooks.events import NO_EVENTS
from tests.conftest import migrated_store, new_account, running_server

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqlStore]:
    store = migrated_store(f"sqlite:///{tmp_path / 'inline.db'}")
    try:
        yield store
    finally:
        store.close()


def lane(store: SqlStore) -> InlineLane:
    assert store.inline_lane is not None
    return store.inline_lane


@contextmanager
def write_lock_held_elsewhere(store: SqlStore) -> Iterator[None]:
    """Another process's view: a connection of its own holding SQLite's write lock."""
    database = store.engine.url.database
    assert database is not None
    other = sqlite3.connect(database, isolation_level=None, timeout=10)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def account_of(store: SqlStore, key: str) -> int:
    account = service.account_for_key(store, keys.hash_key(key))
    assert account is not None
    return account


def create(store: SqlStore, key: str, first_name: str) -> Customer:
    body = {"firstName": first_name, "lastName": "Lee", "emails": [{"value": f"{first_name}@x.io"}]}
    patch = decode.create_request(json.dumps(body).encode(), None).patch
    return service.create_customer(store, account_of(store, key), patch, NOW, events=NO_EVENTS)


def rename(store: SqlStore, key: str, customer_id: int, first_name: str) -> Customer:
    patch = decode.update_request(f'{{"firstName": "{first_name}"}}'.encode(), None).patch
    return service.update_customer(
        store, account_of(store, key), customer_id, patch, NOW, events=NO_EVENTS
    )


@pytest.fixture
def ann(sqlite_store: SqlStore) -> tuple[str, int]:
    """A new account's key, and the id of its customer Ann (made outside the inline lane)."""
    key = new_account(sqlite_store).key
    created = create(sqlite_store, key, "ann")
    assert created.id is not None
    return key, created.id


def threads_of(store: SqlStore, *use_cases: object) -> list[bool]:
    """For each use case, whether `store.run` ran it on the event loop's own thread."""

    async def main() -> list[bool]:
        loop_thread = threading.get_ident()
        ran_on_loop: list[bool] = []
        for use_case in use_cases:
            assert callable(use_case)
            ran_on_loop.append(await store.run(use_case) == loop_thread)
        return ran_on_loop

    return anyio.run(main)


def this_thread() -> int:
    return threading.get_ident()


@unbounded
def this_thread_unbounded() -> int:
    return threading.get_ident()


def test_only_a_sqlite_file_answers_inline(sqlite_store: SqlStore, tmp_path: Path) -> None:
    assert sqlite_store.inline_lane is not None
    assert threads_of(sqlite_store, this_thread) == [True]
    memory = SqlStore("sqlite://")
    try:
        assert memory.inline_lane is None
        assert threads_of(memory, this_thread) == [False]
    finally:
        memory.close()


def test_unbounded_use_cases_never_run_on_the_event_loop(sqlite_store: SqlStore) -> None:
    assert threads_of(sqlite_store, this_thread_unbounded, this_thread) == [False, True]


@unbounded_when(lambda size: size > 10)
def this_thread_sized(size: int) -> int:
    return threading.get_ident()


def test_a_call_marked_large_by_its_use_case_never_runs_on_the_event_loop(
    sqlite_store: SqlStore,
) -> None:
    async def main() -> list[bool]:
        loop_thread = threading.get_ident()
        return [await sqlite_store.run(this_thread_sized, size) == loop_thread for size in (3, 11)]

    assert anyio.run(main) == [True, False]


def test_writes_with_many_entries_are_large_and_others_bounded() -> None:
    def patch(phones: int) -> CustomerPatch:
        body = {"phones": [{"value": str(n)} for n in range(phones)]}
        return decode.update_request(json.dumps(body).encode(), None).patch

    small, large = patch(service.LARGE_WRITE_ENTRIES), patch(service.LARGE_WRITE_ENTRIES + 1)
    for use_case, before in (
        (service.update_customer, (None, 1, 1)),
        (service.create_customer, (None, 1)),
    ):
        assert not is_unbounded(use_case, (*before, small, NOW))
        assert is_unbounded(use_case, (*before, large, NOW))


def test_inline_calls_read_and_write_like_any_other(sqlite_store: SqlStore) -> None:
    account = new_account(sqlite_store)
    created = lane(sqlite_store).call(create, sqlite_store, account.key, "ann")
    assert created.id is not None
    renamed = lane(sqlite_store).call(rename, sqlite_store, account.key, created.id, "bea")
    assert renamed.first_name == "bea"
    # Seen by the other lane (a pooled connection in another thread) at once.
    found: list[Customer] = []
    thread = threading.Thread(
        target=lambda: found.append(
            service.get_customer(
                sqlite_store, account_of(sqlite_store, account.key), created.id or 0
            )
        )
    )
    thread.start()
    thread.join()
    assert found[0].first_name == "bea"


def test_an_inline_write_that_would_wait_writes_nothing_and_says_busy(
    sqlite_store: SqlStore, ann: tuple[str, int]
) -> None:
    key, customer_id = ann
    with write_lock_held_elsewhere(sqlite_store):
        started = time.monotonic()
        with pytest.raises(Busy):
            lane(sqlite_store).call(rename, sqlite_store, key, customer_id, "bea")
        assert time.monotonic() - started < 1  # refused at once, not after the busy timeout
        # Reads never wait in WAL mode: they still answer inline.
        read = lane(sqlite_store).call(
            service.get_customer, sqlite_store, account_of(sqlite_store, key), customer_id
        )
        assert read.first_name == "ann"
    assert (
        service.get_customer(sqlite_store, account_of(sqlite_store, key), customer_id).first_name
        == "ann"
    )
    # The inline connection is usable again once the lock is free.
    renamed = lane(sqlite_store).call(rename, sqlite_store, key, customer_id, "bea")
    assert renamed.first_name == "bea"


def test_an_inline_write_says_busy_while_a_thread_of_the_process_writes(
    sqlite_store: SqlStore, ann: tuple[str, int]
) -> None:
    key, customer_id = ann
    inside, release = threading.Event(), threading.Event()

    def hold() -> None:
        with sqlite_store.writing():
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert inside.wait(10)
        with pytest.raises(Busy):
            lane(sqlite_store).call(rename, sqlite_store, key, customer_id, "bea")
    finally:
        release.set()
        thread.join()


def test_puts_that_meet_a_held_lock_wait_for_it_in_turn_and_succeed(
    sqlite_store: SqlStore,
) -> None:
    account = new_account(sqlite_store)
    first, second = (
        create(sqlite_store, account.key, "ann"),
        create(sqlite_store, account.key, "bo"),
    )
    with (
        running_server(sqlite_store) as server,
        httpx.Client(base_url=server.url, auth=(account.key, "X"), timeout=20) as client,
    ):
        answers: list[httpx.Response] = []

        def put(customer: Customer, name: str) -> None:
            answers.append(
                client.put(f"/v1/customers/{customer.id}.json", json={"firstName": name})
            )

        with write_lock_held_elsewhere(sqlite_store):
            threads = [
                threading.Thread(target=put, args=(first, "Bea")),
                threading.Thread(target=put, args=(second, "Cy")),
            ]
            for thread in threads:
                thread.start()
            time.sleep(0.5)
            assert not answers  # both still waiting for the lock, neither refused
            # Meanwhile the server answers reads without waiting.
            read = client.get(f"/v1/customers/{first.id}.json")
            assert read.status_code == 200
            assert read.json()["item"]["firstName"] == "ann"
        for thread in threads:
            thread.join(timeout=15)
        assert [answer.status_code for answer in answers] == [200, 200]
        names = [
            client.get(f"/v1/customers/{customer.id}.json").json()["item"]["firstName"]
            for customer in (first, second)
        ]
        assert names == ["Bea", "Cy"]


def test_an_inline_call_that_fails_midway_writes_nothing_and_the_next_one_works(
    sqlite_store: SqlStore, ann: tuple[str, int]
) -> None:
    key, customer_id = ann
    created = service.get_customer(sqlite_store, account_of(sqlite_store, key), customer_id)
    account_id = account_of(sqlite_store, key)

    def rename_then_fail() -> None:
        rename(sqlite_store, key, customer_id, "bea")  # its own write transaction
        with sqlite_store.writing() as transaction:
            transaction.save_customer(account_id, created, replace(created, first_name="cy"))
            raise RuntimeError("after the write, before the commit")

    with pytest.raises(RuntimeError):
        lane(sqlite_store).call(rename_then_fail)
    # The first transaction committed, the second left nothing behind.
    assert (
        service.get_customer(sqlite_store, account_of(sqlite_store, key), customer_id).first_name
        == "bea"
    )
    renamed = lane(sqlite_store).call(rename, sqlite_store, key, customer_id, "dee")
    assert renamed.first_name == "dee"


def in_database_file(store: SqlStore, customer_id: int, tmp_path: Path) -> bool:
    """Whether the customer is in the database file itself, not only in the write-ahead log:
    a copy of the file alone, without its log, is read."""
    database = store.engine.url.database
    assert database is not None
    copy = tmp_path / f"copy-{time.monotonic_ns()}.db"
    copy.write_bytes(Path(database).read_bytes())
    reader = sqlite3.connect(copy)
    try:
        found = reader.execute("SELECT 1 FROM customers WHERE id = ?", (customer_id,)).fetchall()
    except sqlite3.OperationalError:  # not even the tables are in the file yet
        return False
    finally:
        reader.close()
    return found == [(1,)]


def checkpoint_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "openscout-checkpoints"]


def test_inline_writes_are_checkpointed_into_the_file_by_a_thread_beside_the_loop(
    tmp_path: Path,
) -> None:
    store = migrated_store(f"sqlite:///{tmp_path / 'checkpoints.db'}")
    before = len(checkpoint_threads())
    try:
        key = new_account(store).key
        made = lane(store).call(create, store, key, "Ann")
        assert made.id is not None
        # The inline connection never checkpoints by itself (far below SQLite's 1,000 pages);
        # the thread does, shortly after the write.
        deadline = time.monotonic() + 10
        while not in_database_file(store, made.id, tmp_path) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert in_database_file(store, made.id, tmp_path)
        assert len(checkpoint_threads()) == before + 1
    finally:
        store.close()
    assert len(checkpoint_threads()) == before


def test_a_write_that_meets_a_held_lock_is_made_again_in_a_thread_and_succeeds(
    sqlite_store: SqlStore, ann: tuple[str, int]
) -> None:
    key, customer_id = ann
    calls: list[bool] = []  # per attempt: on the event loop's thread?
    loop_thread: list[int] = []

    def counted_rename(name: str) -> Customer:
        calls.append(threading.get_ident() == loop_thread[0])
        return rename(sqlite_store, key, customer_id, name)

    async def main() -> Customer:
        loop_thread.append(threading.get_ident())
        return await sqlite_store.run(counted_rename, "bea")

    with write_lock_held_elsewhere(sqlite_store):
        answers: list[Customer] = []
        caller = threading.Thread(target=lambda: answers.append(anyio.run(main)))
        caller.start()
        deadline = time.monotonic() + 10
        while len(calls) < 3 and time.monotonic() < deadline:  # inline, in its turn, in a thread
            time.sleep(0.01)
        assert not answers  # still waiting for the lock, not refused
    caller.join(timeout=15)
    assert calls == [True, True, False]
    assert [answer.first_name for answer in answers] == ["bea"]
    assert (
        service.get_customer(sqlite_store, account_of(sqlite_store, key), customer_id).first_name
        == "bea"
    )


def test_event_loops_in_two_threads_sharing_a_store_take_turns_on_the_inline_connection(
    sqlite_store: SqlStore,
) -> None:
    """Servers in threads of one process (tests) share a store, and each runs its webhook
    deliverer beside its requests: their inline calls never meet on its connection (the one
    that finds it taken runs in a thread)."""
    account = new_account(sqlite_store)
    failures: list[BaseException] = []

    async def busy(name: str) -> None:
        for n in range(300):
            await sqlite_store.run(
                service.account_for_key, sqlite_store, keys.hash_key(account.key)
            )
            if n % 10 == 0:
                await sqlite_store.run(create, sqlite_store, account.key, f"{name}{n}")

    def loop(name: str) -> None:
        try:
            anyio.run(busy, name)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=loop, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    count = service.count_customers(sqlite_store, account_of(sqlite_store, account.key))
    assert count == 60
