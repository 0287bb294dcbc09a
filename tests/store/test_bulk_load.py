"""`SqlStore.loading()`: a bulk load into an empty PostgreSQL database sets the customer tables'
foreign keys and non-unique indexes aside and makes them again at the end, in one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import func, insert, select

from openscout.domain.customers import Customer, Entry
from openscout.domain.search import Field, Match, Search
from openscout.store.engine import SqlStore, SqlTransaction
from openscout.store.tables import customers, entries
from tests.conftest import migrated_store

NOW = datetime(2017, 9, 23, 20, 12, 43, tzinfo=UTC)

#: The foreign keys and indexes of the customer tables, as PostgreSQL would make them again.
CATALOG = """
SELECT 'reference', c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
  FROM pg_constraint c
 WHERE c.contype = 'f'
   AND c.conrelid::regclass::text IN ('customers', 'entries', 'addresses', 'search_terms')
UNION ALL
SELECT 'index', i.indrelid::regclass::text, i.indexrelid::regclass::text,
       pg_get_indexdef(i.indexrelid)
  FROM pg_index i
 WHERE i.indrelid::regclass::text IN ('customers', 'entries', 'addresses', 'search_terms')
"""


@pytest.fixture(scope="module", params=["postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(empty_database_url: str) -> Iterator[SqlStore]:
    store = migrated_store(empty_database_url)
    try:
        yield store
    finally:
        store.close()


def catalog(store: SqlStore) -> set[tuple[str, ...]]:
    with store.reading() as transaction:
        return catalog_seen_by(transaction)


def catalog_seen_by(transaction: SqlTransaction) -> set[tuple[str, ...]]:
    return {tuple(row) for row in transaction.connection.exec_driver_sql(CATALOG).all()}


def people(count: int, start: int = 0) -> list[Customer]:
    return [
        Customer(
            id=None,
            first_name=f"Ann{number}",
            last_name="Lee",
            created_at=NOW,
            modified_at=NOW,
            emails=(Entry(None, f"ann{number}@example.com", "work"),),
        )
        for number in range(start, start + count)
    ]


def account(store: SqlStore) -> int:
    with store.writing() as transaction:
        return transaction.ensure_account("bulk", NOW)


def count(store: SqlStore) -> int:
    with store.reading() as transaction:
        found = transaction.connection.execute(select(func.count()).select_from(customers))
        return int(found.scalar_one())


def test_a_bulk_load_sets_keys_and_indexes_aside_and_makes_them_again(store: SqlStore) -> None:
    before = catalog(store)
    assert sum(kind == "reference" for kind, *_ in before) >= 6
    account_id = account(store)
    reported: list[str] = []
    with store.loading(report=reported.append) as transaction:
        during = catalog_seen_by(transaction)
        transaction.add_customers(account_id, people(300))
    # While loading, only the unique indexes (and primary keys) were left.
    assert not any(kind == "reference" for kind, *_ in during)
    assert all("UNIQUE" in definition for kind, _, _, definition in during if kind == "index")
    assert len(reported) == 1 and reported[0].startswith("building ")
    assert catalog(store) == before
    assert count(store) == 300
    with store.reading() as transaction:
        by_email = Search(criteria=Match(Field.EMAIL, "ann7@example.com"))
        found = transaction.find_customers(account_id, by_email)
    assert [customer.first_name for customer in found.customers] == ["Ann7"]


def test_a_reference_the_final_check_refuses_rolls_all_of_it_back(store: SqlStore) -> None:
    before = catalog(store)
    account_id = account(store)
    with pytest.raises(sa_exc.IntegrityError), store.loading(report=lambda _line: None) as t:
        t.add_customers(account_id, people(50))
        # An entry of a customer that does not exist: nothing checks it until the end.
        t.connection.execute(
            insert(entries).values(
                account_id=account_id,
                customer_id=987_654,
                collection="emails",
                value="nobody@example.com",
                value_key="nobody@example.com",
            )
        )
    assert catalog(store) == before
    assert count(store) == 0


def test_a_load_that_fails_midway_leaves_keys_indexes_and_rows_as_they_were(
    store: SqlStore,
) -> None:
    before = catalog(store)
    account_id = account(store)
    with pytest.raises(RuntimeError), store.loading(report=lambda _line: None) as transaction:
        transaction.add_customers(account_id, people(50))
        raise RuntimeError("the loader stopped")
    assert catalog(store) == before
    assert count(store) == 0


def test_into_a_database_with_customers_nothing_is_set_aside(store: SqlStore) -> None:
    before = catalog(store)
    account_id = account(store)
    with store.writing() as transaction:
        transaction.add_customers(account_id, people(1))
    reported: list[str] = []
    with store.loading(report=reported.append) as transaction:
        during = catalog_seen_by(transaction)
        transaction.add_customers(account_id, people(20, start=1))
        # Nothing is locked beyond the rows written: another connection still writes.
        with store.writing() as other:
            other.connection.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
            elsewhere = other.ensure_account("elsewhere", NOW)
            other.add_customers(elsewhere, people(1, start=100))
    assert during == before
    assert reported == []
    assert catalog(store) == before
    assert count(store) == 22
