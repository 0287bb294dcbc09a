"""Finding customers in the store: counts, pages, the terms kept for search, and migration 0002
filling them in for customers that existed before it (docs/performance.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command

from openscout.domain.customers import Customer, Entry
from openscout.domain.search import (
    EVERYTHING,
    Field,
    Found,
    Match,
    Range,
    Search,
    Sort,
    SortKey,
    Word,
)
from openscout.store import schema
from openscout.store.engine import SqlStore
from openscout.store.tables import accounts, search_terms

NOW = datetime(2020, 5, 17, 8, 0, 0, tzinfo=UTC)


def customer(number: int, **fields: object) -> Customer:
    values: dict[str, object] = {
        "first_name": f"First{number}",
        "last_name": "Bulk",
        "emails": (Entry(None, f"c{number}@bulk.example", "work"),),
    }
    values.update(fields)
    moment = NOW + timedelta(seconds=number)
    return Customer(id=None, created_at=moment, modified_at=moment, **values)  # type: ignore[arg-type]


def ids(found: Found) -> list[int | None]:
    return [c.id for c in found.customers]


@pytest.fixture
def account(module_store: SqlStore) -> int:
    with module_store.writing() as transaction:
        return transaction.ensure_account(f"store-{datetime.now(UTC).timestamp()}", NOW)


def find(store: SqlStore, account: int, search: Search, *, with_emails: bool = False) -> Found:
    with store.reading() as transaction:
        return transaction.find_customers(account, search, with_emails=with_emails)


def test_bulk_added_customers_take_the_next_ids_in_order_as_single_ones_do(
    module_store: SqlStore, account: int
) -> None:
    with module_store.writing() as transaction:
        (first,) = transaction.add_customers(account, [customer(0)])
        single = transaction.add_customer(account, customer(1)).id
        bulk = transaction.add_customers(account, [customer(n) for n in range(2, 12)])
        after = transaction.add_customer(account, customer(12)).id
    assert single is not None and after is not None
    assert first < single < bulk[0]
    assert bulk == list(range(bulk[0], bulk[0] + 10))
    assert after > bulk[-1]
    with module_store.reading() as transaction:
        loaded = [transaction.get_customer(account, customer_id) for customer_id in bulk]
    assert [c.first_name for c in loaded if c is not None] == [
        customer(n).first_name for n in range(2, 12)
    ]


def test_bulk_added_customers_are_counted_found_and_paged(
    module_store: SqlStore, account: int
) -> None:
    with module_store.writing() as transaction:
        added = transaction.add_customers(account, [customer(n) for n in range(120)])
    assert len(added) == 120 and len(set(added)) == 120
    newest_first = added[::-1]
    first = find(module_store, account, Search())
    assert (first.count, ids(first)) == (120, newest_first[:50])
    third = find(module_store, account, Search(page=3))
    assert (third.count, ids(third)) == (120, newest_first[100:])
    assert find(module_store, account, Search(page=4)) == Found(120, [])
    with module_store.reading() as transaction:
        count = transaction.connection.execute(
            sa.select(accounts.c.customer_count).where(accounts.c.id == account)
        ).scalar_one()
    assert count == 120


def test_a_filtered_count_counts_only_the_matches(module_store: SqlStore, account: int) -> None:
    with module_store.writing() as transaction:
        made = transaction.add_customers(
            account,
            [customer(n, last_name="Even" if n % 2 == 0 else "Odd") for n in range(110)],
        )
    evens = made[::2][::-1]
    search = Search(Match(Field.LAST_NAME, "even"), Sort(SortKey.CREATED_AT, True))
    assert (
        find(module_store, account, search).count,
        ids(find(module_store, account, search)),
    ) == (
        55,
        evens[:50],
    )
    second = Search(search.criteria, search.sort, page=2)
    assert (
        find(module_store, account, second).count,
        ids(find(module_store, account, second)),
    ) == (
        55,
        evens[50:],
    )


def test_emails_are_loaded_only_when_asked(module_store: SqlStore, account: int) -> None:
    with module_store.writing() as transaction:
        transaction.add_customers(
            account,
            [
                customer(
                    1,
                    emails=(
                        Entry(None, "one@bulk.example", "work"),
                        Entry(None, "two@bulk.example", "home"),
                    ),
                )
            ],
        )
    plain = find(module_store, account, Search())
    assert plain.customers[0].emails == ()
    rich = find(module_store, account, Search(), with_emails=True)
    assert [e.value for e in rich.customers[0].emails] == ["one@bulk.example", "two@bulk.example"]


def test_terms_are_those_of_the_customer(module_store: SqlStore, account: int) -> None:
    with module_store.writing() as transaction:
        (made,) = transaction.add_customers(
            account,
            [
                customer(
                    1,
                    first_name="Jean-Luc",
                    last_name="Picard",
                    organization="Star Fleet",
                    job_title=None,
                    emails=(Entry(None, "JL@Fleet.Example", "work"),),
                )
            ],
        )
    with module_store.reading() as transaction:
        rows = transaction.connection.execute(
            sa.select(search_terms.c.field, search_terms.c.term).where(
                search_terms.c.customer_id == made
            )
        ).all()
    assert sorted(map(tuple, rows)) == sorted(
        [
            ("first_name", "jean"),
            ("first_name", "luc"),
            ("last_name", "picard"),
            ("organization", "star"),
            ("organization", "fleet"),
            ("organization=", "star fleet"),
            ("email", "jl"),
            ("email", "fleet"),
            ("email", "example"),
            ("email~", "jl@fleet.example"),
            ("email_domain=", "fleet.example"),
        ]
    )


# --- migration 0002 on a database that already has customers ---------------------------------


def test_migration_0002_fills_in_keys_terms_and_counts(empty_database_url: str) -> None:
    store = SqlStore(empty_database_url)
    try:
        config = schema._config()
        with store.writing() as transaction:
            config.attributes["connection"] = transaction.connection
            command.upgrade(config, "0001")
        old_accounts = sa.table(
            "accounts", sa.column("id"), sa.column("name"), sa.column("created_at")
        )
        old_customers = sa.table(
            "customers",
            *(
                sa.column(name)
                for name in (
                    "id",
                    "account_id",
                    "first_name",
                    "last_name",
                    "organization",
                    "job_title",
                    "gender",
                    "created_at",
                    "modified_at",
                )
            ),
        )
        old_entries = sa.table(
            "entries",
            *(
                sa.column(name)
                for name in ("account_id", "customer_id", "collection", "value", "value_key")
            ),
        )
        stamp = int(NOW.timestamp())
        with store.writing() as transaction:
            run = transaction.connection.execute
            run(sa.insert(old_accounts), [{"id": 1, "name": "one", "created_at": stamp}])
            run(sa.insert(old_accounts), [{"id": 2, "name": "two", "created_at": stamp}])
            run(
                sa.insert(old_customers),
                [
                    {
                        "id": 10,
                        "account_id": 1,
                        "first_name": "  Émile ",
                        "last_name": "Zola",
                        "organization": "Les Éditions",
                        "job_title": None,
                        "gender": "unknown",
                        "created_at": stamp,
                        "modified_at": stamp,
                    },
                    {
                        "id": 11,
                        "account_id": 1,
                        "first_name": None,
                        "last_name": None,
                        "organization": None,
                        "job_title": "Writer",
                        "gender": "unknown",
                        "created_at": stamp + 1,
                        "modified_at": stamp + 1,
                    },
                ],
            )
            run(
                sa.insert(old_entries),
                [
                    {
                        "account_id": 1,
                        "customer_id": 11,
                        "collection": "emails",
                        "value": "Anon@Mail.example",
                        "value_key": "anon@mail.example",
                    },
                    {
                        "account_id": 1,
                        "customer_id": 11,
                        "collection": "phones",
                        "value": "555-0100",
                        "value_key": "555-0100",
                    },
                ],
            )
        schema.upgrade(store)
        assert schema.current_revision(store) == schema.head_revision()
        assert schema.drift(store) == []
        assert find(store, 1, Search()).count == 2
        assert find(store, 2, Search()) == Found(0, [])
        for criteria, expected in (
            (Match(Field.FIRST_NAME, "émile"), [10]),
            (Match(Field.LAST_NAME, "ZOLA"), [10]),
            (Match(Field.FULL_NAME, "Émile Zola"), [10]),
            (Word(Field.ORGANIZATION, "éditions"), [10]),
            (Match(Field.ORGANIZATION, "les éditions"), [10]),
            (Word(Field.JOB_TITLE, "writer"), [11]),
            (Match(Field.EMAIL, "anon@mail.example"), [11]),
            (Word(Field.EMAIL, "anon"), [11]),
            (Match(Field.EMAIL_DOMAIN, "mail.example"), [11]),
            (Word(Field.EMAIL, "555"), []),
            (Range(Field.CREATED_AT, low=NOW + timedelta(seconds=1)), [11]),
            (EVERYTHING, [11, 10]),
        ):
            assert ids(find(store, 1, Search(criteria))) == expected, criteria
        sort = Sort(SortKey.FIRST_NAME, descending=False)
        assert ids(find(store, 1, Search(EVERYTHING, sort))) == [11, 10]
    finally:
        store.close()
