"""Migration 0004: email keys of a database written under the old rule (case folding) follow
the comparison rule of docs/decisions/email-uniqueness.md, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command

from openscout.domain.customers import Collection
from openscout.store import schema
from openscout.store.engine import SqlStore

STAMP = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())

#: (entry id, account, collection, value), keyed as the old rule did (`str.casefold`).
ROWS = [
    (1, 1, "emails", "Anon@Mail.example"),
    (2, 1, "emails", "Straße@Example.com"),
    (3, 1, "emails", "Émile@Bücher.de"),
    (4, 1, "emails", "ann@ex.com"),
    (5, 1, "emails", "ann@\uff25\uff38.com"),  # full-width letters: the same domain as ex.com now
    (6, 2, "emails", "\u212aelvin@x.com"),  # the Kelvin sign
    (7, 1, "phones", "\uff33\uff34\uff32\uff21ß\uff25"),
]
#: Each entry's key after the migration.
MIGRATED = {
    1: "anon@mail.example",
    2: "straße@example.com",
    3: "émile@xn--bcher-kva.de",
    4: "ann@ex.com",
    5: "ann@\uff45\uff58.com",  # its new key is entry 4's: it keeps the old one
    6: "\u212aelvin@x.com",
    7: "\uff33\uff34\uff32\uff21ß\uff25",
}

_entries = sa.table(
    "entries",
    *(
        sa.column(name)
        for name in ("id", "account_id", "customer_id", "collection", "value", "value_key")
    ),
)


@pytest.fixture
def old_store(empty_database_url: str) -> Iterator[SqlStore]:
    """A database at revision 0003 holding `ROWS`."""
    store = SqlStore(empty_database_url)
    config = schema._config()
    with store.writing() as transaction:
        config.attributes["connection"] = transaction.connection
        command.upgrade(config, "0003")
    accounts = sa.table("accounts", sa.column("id"), sa.column("name"), sa.column("created_at"))
    customers = sa.table(
        "customers",
        *(sa.column(n) for n in ("id", "account_id", "gender", "created_at", "modified_at")),
    )
    with store.writing() as transaction:
        run = transaction.connection.execute
        run(
            sa.insert(accounts),
            [{"id": n, "name": f"account {n}", "created_at": STAMP} for n in (1, 2)],
        )
        run(
            sa.insert(customers),
            [
                {
                    "id": entry,
                    "account_id": account,
                    "gender": "unknown",
                    "created_at": STAMP,
                    "modified_at": STAMP,
                }
                for entry, account, _collection, _value in ROWS
            ],
        )
        run(
            sa.insert(_entries),
            [
                {
                    "id": entry,
                    "account_id": account,
                    "customer_id": entry,
                    "collection": collection,
                    "value": value,
                    "value_key": value.casefold() if collection == "emails" else value,
                }
                for entry, account, collection, value in ROWS
            ],
        )
    yield store
    store.close()


def keys_in(store: SqlStore) -> dict[int, str]:
    with store.reading() as transaction:
        rows = transaction.connection.execute(sa.select(_entries.c.id, _entries.c.value_key))
        return {row.id: row.value_key for row in rows}


def test_migration_0004_keys_emails_by_the_new_rule(old_store: SqlStore) -> None:
    schema.upgrade(old_store)
    assert schema.current_revision(old_store) == schema.head_revision()
    assert keys_in(old_store) == MIGRATED
    with old_store.reading() as transaction:
        owners = transaction.email_owners(
            1,
            [Collection.EMAILS.key(v) for v in ("STRASSE@example.com", "straße@EXAMPLE.com")],
            besides=None,
        )
        assert owners == {"straße@example.com": 2}
        assert transaction.email_owners(
            1, [Collection.EMAILS.key("émile@xn--bcher-kva.de")], besides=None
        )
        assert not transaction.email_owners(2, ["kelvin@x.com"], besides=None)


def test_migration_0004_is_undone_by_its_downgrade(old_store: SqlStore) -> None:
    before = keys_in(old_store)
    schema.upgrade(old_store)
    config = schema._config()
    with old_store.writing() as transaction:
        config.attributes["connection"] = transaction.connection
        command.downgrade(config, "0003")
    assert keys_in(old_store) == before
