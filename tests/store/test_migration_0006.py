"""Migration 0006 on a database that holds customers, on both backends: v2's columns get their
defaults, `age` becomes free text without losing a value (or a customer's entries and
address), every email address gets its containing-search term; and the downgrade undoes it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command

from openscout.domain.search import Contains, Field, Search
from openscout.store import schema
from openscout.store.engine import SqlStore

STAMP = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())

_accounts = sa.table("accounts", sa.column("id"), sa.column("name"), sa.column("created_at"))
_customers = sa.table(
    "customers",
    *(
        sa.column(name)
        for name in ("id", "account_id", "first_name", "age", "gender", "created_at")
    ),
    sa.column("modified_at"),
)
_entries = sa.table(
    "entries",
    *(
        sa.column(name)
        for name in ("id", "account_id", "customer_id", "collection", "value", "value_key")
    ),
)
_addresses = sa.table(
    "addresses",
    *(sa.column(name) for name in ("customer_id", "lines", "city", "created_at")),
)
#: (entry id, customer, collection, value); customer 1's two addresses fold alike.
ENTRIES = [
    (1, 1, "emails", "Straße@Example.com"),
    (2, 1, "emails", "strasse@example.com"),
    (3, 2, "emails", "Bear@Acme.example"),
    (4, 2, "phones", "555-0100"),
]


def upgrade_to(store: SqlStore, revision: str) -> None:
    config = schema._config()
    with store.writing() as transaction:
        config.attributes["connection"] = transaction.connection
        command.upgrade(config, revision)


def downgrade_to(store: SqlStore, revision: str) -> None:
    config = schema._config()
    with store.writing() as transaction:
        config.attributes["connection"] = transaction.connection
        command.downgrade(config, revision)


@pytest.fixture
def old_store(empty_database_url: str) -> Iterator[SqlStore]:
    """A database at revision 0004 with two customers, their entries and an address."""
    store = SqlStore(empty_database_url)
    upgrade_to(store, "0004")
    with store.writing() as transaction:
        run = transaction.connection.execute
        run(sa.insert(_accounts), [{"id": 1, "name": "one", "created_at": STAMP}])
        run(
            sa.insert(_customers),
            [
                {
                    "id": number,
                    "account_id": 1,
                    "first_name": f"C{number}",
                    "age": age,
                    "gender": "unknown",
                    "created_at": STAMP,
                    "modified_at": STAMP,
                }
                for number, age in ((1, "30-35"), (2, None))
            ],
        )
        run(
            sa.insert(_entries),
            [
                {
                    "id": entry,
                    "account_id": 1,
                    "customer_id": customer,
                    "collection": collection,
                    "value": value,
                    "value_key": value.lower(),
                }
                for entry, customer, collection, value in ENTRIES
            ],
        )
        run(
            sa.insert(_addresses),
            [{"customer_id": 2, "lines": "[]", "city": "Prague", "created_at": STAMP}],
        )
    yield store
    store.close()


def containing_terms(store: SqlStore) -> list[tuple[int, str]]:
    with store.reading() as transaction:
        return sorted(
            (row.customer_id, row.term)
            for row in transaction.connection.execute(
                sa.text("SELECT customer_id, term FROM search_terms WHERE field = 'email~'")
            )
        )


def test_migration_0006_keeps_every_row_and_adds_v2_columns_and_terms(
    old_store: SqlStore,
) -> None:
    upgrade_to(old_store, "head")
    assert schema.drift(old_store) == []
    with old_store.reading() as transaction:
        first = transaction.get_customer(1, 1)
        second = transaction.get_customer(1, 2)
    assert first is not None and second is not None
    assert (first.age, second.age) == ("30-35", None)
    assert (first.organization_id, first.conversation_count, first.draft) == (None, 0, False)
    assert [e.value for e in first.emails] == ["Straße@Example.com", "strasse@example.com"]
    assert [e.value for e in second.phones] == ["555-0100"]
    assert second.address is not None and second.address.city == "Prague"
    assert containing_terms(old_store) == [(1, "strasse@example.com"), (2, "bear@acme.example")]
    with old_store.reading() as transaction:
        found = transaction.find_customers(1, Search(Contains(Field.EMAIL, "acme")))
    assert [c.id for c in found.customers] == [2]
    with old_store.writing() as transaction:  # `age` now takes v2's longest
        transaction.connection.execute(
            sa.update(_customers).where(_customers.c.id == 2).values(age="y" * 255)
        )


def test_migration_0006_is_undone_by_its_downgrade(old_store: SqlStore) -> None:
    upgrade_to(old_store, "head")
    downgrade_to(old_store, "0004")
    assert schema.current_revision(old_store) == "0004"
    assert containing_terms(old_store) == []
    with old_store.reading() as transaction:
        tables = set(sa.inspect(transaction.connection).get_table_names())
        columns = {c["name"] for c in sa.inspect(transaction.connection).get_columns("customers")}
        ages = transaction.connection.execute(
            sa.select(_customers.c.age).order_by(_customers.c.id)
        ).scalars()
        assert list(ages) == ["30-35", None]
        left = transaction.connection.execute(sa.select(sa.func.count()).select_from(_entries))
        assert left.scalar_one() == len(ENTRIES)
    assert not tables & {"property_definitions", "customer_properties"}
    assert not columns & {"organization_id", "conversation_count", "draft"}
    upgrade_to(old_store, "head")
    assert schema.drift(old_store) == []
