"""SqlStore round trips on a real database: customers, their address and entries, email owners,
the unique email index, and API keys."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select

from openscout import keys
from openscout.domain.changes import (
    AddEntry,
    CustomerPatch,
    RemoveAddress,
    RemoveEntry,
    SetAddress,
    UpdateAddress,
    UpdateEntry,
    apply_patch,
)
from openscout.domain.customers import Address, Collection, Customer, Entry
from openscout.domain.errors import EmailTaken
from openscout.store.engine import SqlStore
from openscout.store.tables import customers
from tests.conftest import new_account

CREATED = datetime(2017, 9, 23, 20, 12, 43, tzinfo=UTC)
LATER = CREATED + timedelta(days=1)
EVEN_LATER = CREATED + timedelta(days=2)


def new_account_id(store: SqlStore) -> int:
    account = new_account(store)
    with store.reading() as transaction:
        account_id = transaction.account_for_key(keys.hash_key(account.key))
    assert account_id is not None
    return account_id


@pytest.fixture
def account_id(module_store: SqlStore) -> int:
    return new_account_id(module_store)


def make_customer(**overrides: Any) -> Customer:
    values: dict[str, Any] = {
        "id": None,
        "created_at": CREATED,
        "modified_at": CREATED,
        "first_name": "Ann",
        "last_name": "Lee",
        "organization": "Acme",
        "job_title": "CEO",
        "background": "Met at a fair",
        "location": "Boston, MA",
        "photo_url": "https://secure.gravatar.com/avatar/x",
        "photo_type": "gravatar",
        "gender": "female",
        "age": "30-35",
        "address": Address(
            id=None,
            lines=("1 Main St", "Suite 2"),
            city="Boston",
            state="MA",
            postal_code="02110",
            country="US",
            created_at=CREATED,
            modified_at=CREATED,
        ),
        "emails": (Entry(None, "ann@example.com", "work"), Entry(None, "Ann@Home.example", "home")),
        "phones": (Entry(None, "555-0100", "mobile"),),
        "chats": (Entry(None, "ann.lee", "skype"),),
        "social_profiles": (Entry(None, "https://twitter.com/ann", "twitter"),),
        "websites": (Entry(None, "https://ann.example", None),),
    }
    values.update(overrides)
    return Customer(**values)


def add(store: SqlStore, account: int, customer: Customer) -> Customer:
    with store.writing() as transaction:
        return transaction.add_customer(account, customer)


def get(store: SqlStore, account: int, customer_id: int | None) -> Customer | None:
    assert customer_id is not None
    with store.reading() as transaction:
        return transaction.get_customer(account, customer_id)


def save(store: SqlStore, account: int, before: Customer, after: Customer) -> Customer:
    with store.writing() as transaction:
        return transaction.save_customer(account, before, after)


def without_ids(customer: Customer) -> Customer:
    address = customer.address and replace(customer.address, id=None)
    return replace(
        customer,
        id=None,
        address=address,
        **{
            c.value: tuple(replace(entry, id=None) for entry in customer.entries(c))
            for c in Collection
        },
    )


def all_ids(customer: Customer) -> list[int | None]:
    ids: list[int | None] = [customer.id, customer.address.id if customer.address else 0]
    for collection in Collection:
        ids.extend(entry.id for entry in customer.entries(collection))
    return ids


_WRITE = re.compile(r'^\s*(INSERT INTO|UPDATE|DELETE FROM)\s+"?(\w+)"?', re.IGNORECASE)


@contextmanager
def writes(store: SqlStore) -> Iterator[list[tuple[str, str, Any]]]:
    """(verb, table, parameters) of every write statement the store sends meanwhile."""
    seen: list[tuple[str, str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if match := _WRITE.match(statement):
            seen.append((match[1].upper().split()[0], match[2].lower(), parameters))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", record)


def parameter_values(parameters: Any) -> list[Any]:
    """The values bound to one statement (positional or named, one row or several)."""
    if isinstance(parameters, dict):
        return list(parameters.values())
    if (
        isinstance(parameters, list | tuple)
        and parameters
        and isinstance(parameters[0], list | tuple | dict)
    ):
        return [value for row in parameters for value in parameter_values(row)]
    return list(parameters)


def customer_tables(found: list[tuple[str, str, Any]]) -> set[tuple[str, str]]:
    """The writes to the tables that hold customers, addresses and entries."""
    return {
        (verb, table) for verb, table, _ in found if table in ("customers", "addresses", "entries")
    }


# -- customers -------------------------------------------------------------------------------


def test_an_added_customer_comes_back_with_every_id_and_reads_back_equal(
    module_store: SqlStore, account_id: int
) -> None:
    added = add(module_store, account_id, make_customer())
    ids = all_ids(added)
    assert all(isinstance(i, int) and 0 < i < 2**31 for i in ids), ids
    assert len(set(ids[2:])) == len(ids[2:]), "entry ids are unique across collections"
    assert without_ids(added) == make_customer()
    assert get(module_store, account_id, added.id) == added


def test_a_customer_with_nothing_but_timestamps_reads_back_equal(
    module_store: SqlStore, account_id: int
) -> None:
    bare = Customer(id=None, created_at=CREATED, modified_at=LATER)
    added = add(module_store, account_id, bare)
    assert added == replace(bare, id=added.id)
    assert get(module_store, account_id, added.id) == added


def test_entries_read_back_in_the_order_they_were_added(
    module_store: SqlStore, account_id: int
) -> None:
    phones = tuple(Entry(None, f"555-01{n:02}", "work") for n in (9, 3, 7, 1))
    added = add(module_store, account_id, make_customer(phones=phones))
    stored = get(module_store, account_id, added.id)
    assert stored is not None
    assert [entry.value for entry in stored.phones] == [
        "555-0109",
        "555-0103",
        "555-0107",
        "555-0101",
    ]


def test_a_customer_of_another_account_is_not_found(
    module_store: SqlStore, account_id: int
) -> None:
    added = add(module_store, account_id, make_customer())
    assert get(module_store, new_account_id(module_store), added.id) is None
    assert get(module_store, account_id, (added.id or 0) + 1_000_000) is None


def test_a_failed_write_transaction_leaves_nothing_behind(
    module_store: SqlStore, account_id: int
) -> None:
    added_id = None
    with pytest.raises(RuntimeError), module_store.writing() as transaction:
        added_id = transaction.add_customer(account_id, make_customer()).id
        raise RuntimeError("stop")
    assert get(module_store, account_id, added_id) is None


# -- saving changes --------------------------------------------------------------------------


def test_saving_a_patched_customer_assigns_ids_to_new_entries_and_reads_back_equal(
    module_store: SqlStore, account_id: int
) -> None:
    before = add(module_store, account_id, make_customer())
    patch = CustomerPatch(
        fields={"first_name": "Anna", "background": None},
        address=UpdateAddress(before.address.id or 0, {"city": "Cambridge"})
        if before.address
        else None,
        entries={
            Collection.EMAILS: [
                UpdateEntry(before.emails[0].id or 0, "anna@example.com", "other"),
                AddEntry("third@example.com"),
            ],
            Collection.PHONES: [RemoveEntry(before.phones[0].id or 0), AddEntry("555-0142")],
            Collection.WEBSITES: [AddEntry("https://b.example"), AddEntry("https://c.example")],
        },
    )
    after = apply_patch(before, patch, LATER)
    saved = save(module_store, account_id, before, after)
    new_ids = [e.id for e in (saved.emails[-1], saved.phones[0], *saved.websites[1:])]
    assert all(isinstance(i, int) for i in new_ids)
    assert len(set(new_ids) | set(all_ids(before))) == len(new_ids) + len(set(all_ids(before)))
    assert saved == replace(
        after,
        emails=(*after.emails[:-1], replace(after.emails[-1], id=new_ids[0])),
        phones=(replace(after.phones[0], id=new_ids[1]),),
        websites=(
            after.websites[0],
            replace(after.websites[1], id=new_ids[2]),
            replace(after.websites[2], id=new_ids[3]),
        ),
    )
    assert get(module_store, account_id, before.id) == saved


def test_saving_writes_only_what_changed(module_store: SqlStore, account_id: int) -> None:
    before = add(module_store, account_id, make_customer())
    phone = before.phones[0]
    after = apply_patch(
        before,
        CustomerPatch(entries={Collection.PHONES: [UpdateEntry(phone.id or 0, label="home")]}),
        LATER,
    )
    with writes(module_store) as found:
        saved = save(module_store, account_id, before, after)
    # The customer row for modifiedAt, the one phone; not the address, not the other entries.
    assert customer_tables(found) == {("UPDATE", "customers"), ("UPDATE", "entries")}
    [entry_update] = [
        params for verb, table, params in found if (verb, table) == ("UPDATE", "entries")
    ]
    assert phone.id in parameter_values(entry_update)
    assert saved == after
    assert all_ids(get(module_store, account_id, before.id) or before) == all_ids(before)


def test_the_new_entries_of_a_collection_are_written_in_one_statement(
    module_store: SqlStore, account_id: int
) -> None:
    before = add(module_store, account_id, make_customer())
    added = [AddEntry(f"556-{n:04}", "work") for n in range(500)]
    after = apply_patch(before, CustomerPatch(entries={Collection.PHONES: added}), LATER)
    with writes(module_store) as found:
        saved = save(module_store, account_id, before, after)
    inserts = [params for verb, table, params in found if (verb, table) == ("INSERT", "entries")]
    assert len(inserts) == 1  # one executemany, not a statement per entry
    phones = saved.phones[1:]
    assert [phone.value for phone in phones] == [f"556-{n:04}" for n in range(500)]
    ids = [phone.id for phone in phones]
    assert None not in ids and len(set(ids)) == 500 and ids == sorted(ids)
    assert (before.phones[0].id or 0) < min(id_ or 0 for id_ in ids)
    assert get(module_store, account_id, before.id) == saved
    # The next entry, added alone, gets an id of its own after them.
    one_more = apply_patch(
        saved,
        CustomerPatch(entries={Collection.CHATS: [AddEntry("ann2")]}),
        LATER,
    )
    again = save(module_store, account_id, saved, one_more)
    assert (again.chats[-1].id or 0) > max(id_ or 0 for id_ in ids)
    assert get(module_store, account_id, before.id) == again


def test_saving_an_unchanged_customer_writes_nothing(
    module_store: SqlStore, account_id: int
) -> None:
    stored = add(module_store, account_id, make_customer())
    with writes(module_store) as found:
        assert save(module_store, account_id, stored, stored) == stored
    assert found == []


def test_an_address_is_inserted_updated_and_deleted(
    module_store: SqlStore, account_id: int
) -> None:
    values = {"lines": ("9 Elm",), "city": "Paris", "state": "IDF", "postal_code": "75001"}
    first = add(module_store, account_id, make_customer(address=None))
    with_address = apply_patch(
        first, CustomerPatch(address=SetAddress({**values, "country": "FR"})), LATER
    )
    inserted = save(module_store, account_id, first, with_address)
    assert inserted.address is not None and isinstance(inserted.address.id, int)
    assert get(module_store, account_id, first.id) == inserted

    changed = apply_patch(
        inserted,
        CustomerPatch(address=UpdateAddress(inserted.address.id, {"city": "Lyon"})),
        EVEN_LATER,
    )
    with writes(module_store) as found:
        updated = save(module_store, account_id, inserted, changed)
    assert ("UPDATE", "addresses") in customer_tables(found)
    stored = get(module_store, account_id, first.id)
    assert stored == updated
    assert stored.address == replace(inserted.address, city="Lyon", modified_at=EVEN_LATER)

    removed = apply_patch(updated, CustomerPatch(address=RemoveAddress(inserted.address.id)), LATER)
    save(module_store, account_id, updated, removed)
    stored = get(module_store, account_id, first.id)
    assert stored is not None and stored.address is None


def test_two_emails_of_one_customer_may_trade_places(
    module_store: SqlStore, account_id: int
) -> None:
    """The unique email index must not see the moment when both hold one address."""
    before = add(module_store, account_id, make_customer())
    one, two = before.emails
    after = apply_patch(
        before,
        CustomerPatch(
            entries={
                Collection.EMAILS: [
                    UpdateEntry(one.id or 0, two.value),
                    UpdateEntry(two.id or 0, one.value),
                ]
            }
        ),
        LATER,
    )
    save(module_store, account_id, before, after)
    stored = get(module_store, account_id, before.id)
    assert stored is not None
    assert [(e.id, e.value) for e in stored.emails] == [(one.id, two.value), (two.id, one.value)]


# -- email owners and the unique email index (§10.6) -------------------------------------------


def test_email_owners_names_the_customer_holding_each_address(
    module_store: SqlStore, account_id: int
) -> None:
    ann = add(module_store, account_id, make_customer())
    bob = add(
        module_store,
        account_id,
        make_customer(first_name="Bob", emails=(Entry(None, "bob@example.com", "work"),)),
    )
    keys_ = ["ann@example.com", "ann@home.example", "bob@example.com", "nobody@example.com"]
    with module_store.reading() as transaction:
        assert transaction.email_owners(account_id, keys_, besides=None) == {
            "ann@example.com": ann.id,
            "ann@home.example": ann.id,
            "bob@example.com": bob.id,
        }
        assert transaction.email_owners(account_id, keys_, besides=ann.id) == {
            "bob@example.com": bob.id
        }
        assert transaction.email_owners(account_id, [], besides=None) == {}
        other = new_account_id(module_store)
        assert transaction.email_owners(other, keys_, besides=None) == {}


def count_customers(store: SqlStore, account: int) -> int:
    with store.reading() as transaction:
        return int(
            transaction.connection.execute(
                select(func.count()).select_from(customers).where(customers.c.account_id == account)
            ).scalar_one()
        )


def test_a_new_customer_with_a_taken_address_hits_the_unique_index(
    module_store: SqlStore, account_id: int
) -> None:
    """As if another request took the address between the service's check and this write."""
    add(module_store, account_id, make_customer())
    with pytest.raises(EmailTaken) as raised:
        add(
            module_store,
            account_id,
            make_customer(first_name="Copy", emails=(Entry(None, "ANN@example.COM", "work"),)),
        )
    assert raised.value.email == "ANN@example.COM"
    assert count_customers(module_store, account_id) == 1


def test_an_update_taking_another_customers_address_hits_the_unique_index(
    module_store: SqlStore, account_id: int
) -> None:
    add(module_store, account_id, make_customer())
    bob = add(
        module_store,
        account_id,
        make_customer(first_name="Bob", emails=(Entry(None, "bob@example.com", "work"),)),
    )
    after = apply_patch(
        bob,
        CustomerPatch(
            fields={"first_name": "Robert"},
            entries={Collection.EMAILS: [AddEntry("Ann@Example.com")]},
        ),
        LATER,
    )
    with pytest.raises(EmailTaken) as raised:
        save(module_store, account_id, bob, after)
    assert raised.value.email == "Ann@Example.com"
    assert get(module_store, account_id, bob.id) == bob


def test_another_account_may_hold_the_same_address(module_store: SqlStore, account_id: int) -> None:
    add(module_store, account_id, make_customer())
    other = new_account_id(module_store)
    copy = add(module_store, other, make_customer())
    assert get(module_store, other, copy.id) == copy


# -- API keys ----------------------------------------------------------------------------------


def test_keys_are_created_listed_revoked_and_found_by_hash(module_store: SqlStore) -> None:
    account = f"acme-{datetime.now(UTC).timestamp()}"
    first, second = keys.generate_key(), keys.generate_key()
    with module_store.writing() as transaction:
        made = transaction.create_key(
            account, "ci", keys.hash_key(first), first[: keys.PREFIX_LENGTH], CREATED
        )
        other = transaction.create_key(
            account, None, keys.hash_key(second), second[: keys.PREFIX_LENGTH], LATER
        )
    assert (made.account, made.name, made.prefix, made.created_at, made.revoked_at) == (
        account,
        "ci",
        first[:4],
        CREATED,
        None,
    )
    with module_store.reading() as transaction:
        listed = [key for key in transaction.list_keys() if key.account == account]
        owner = transaction.account_for_key(keys.hash_key(first))
        live = transaction.count_live_keys()
    assert listed == [made, other]
    assert owner is not None
    assert owner == transaction_account(module_store, second)
    assert all(first not in repr(key) and second not in repr(key) for key in listed)

    with module_store.writing() as transaction:
        assert transaction.revoke_key(made.id, EVEN_LATER) is True
        assert transaction.revoke_key(made.id, EVEN_LATER) is False
        assert transaction.revoke_key(10**9, EVEN_LATER) is False
    with module_store.reading() as transaction:
        assert transaction.account_for_key(keys.hash_key(first)) is None
        assert transaction.account_for_key(keys.hash_key(second)) == owner
        assert transaction.count_live_keys() == live - 1
        listed = [key for key in transaction.list_keys() if key.account == account]
    assert listed == [replace(made, revoked_at=EVEN_LATER), other]


def transaction_account(store: SqlStore, key: str) -> int | None:
    with store.reading() as transaction:
        return transaction.account_for_key(keys.hash_key(key))


def test_a_key_for_a_new_account_name_makes_a_new_account(module_store: SqlStore) -> None:
    suffix = datetime.now(UTC).timestamp()
    one, two = keys.generate_key(), keys.generate_key()
    with module_store.writing() as transaction:
        transaction.create_key(f"one-{suffix}", None, keys.hash_key(one), one[:4], CREATED)
        transaction.create_key(f"two-{suffix}", None, keys.hash_key(two), two[:4], CREATED)
    first, second = transaction_account(module_store, one), transaction_account(module_store, two)
    assert first is not None and second is not None and first != second


def test_an_unknown_key_belongs_to_no_account(module_store: SqlStore) -> None:
    assert transaction_account(module_store, keys.generate_key()) is None
