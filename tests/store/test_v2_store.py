"""The store's v2 data on a real database, on both backends: v2-only fields, property
definitions and values, deleting a customer, list pages with everything each customer has,
and snapshots that carry all of it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from openscout.domain.customers import Customer, Entry, Property
from openscout.domain.properties import PropertyDefinition, PropertyType
from openscout.domain.search import Field, Match, Search
from openscout.store.engine import SqlStore
from openscout.store.tables import (
    accounts,
    addresses,
    customer_properties,
    entries,
    search_terms,
)
from tests.store.test_sql_store import (
    LATER,
    add,
    get,
    make_customer,
    new_account_id,
    save,
    writes,
)

CAR = PropertyDefinition("car", "Car", PropertyType.TEXT)
PLAN = PropertyDefinition(
    "plan", "Plan", PropertyType.DROPDOWN, {1: "Free", 2: "Standard", 3: "Plus"}
)
SEATS = PropertyDefinition("seats", "Seats", PropertyType.NUMBER)


def define(store: SqlStore, account: int, *definitions: PropertyDefinition) -> None:
    with store.writing() as transaction:
        for definition in definitions:
            assert transaction.define_property(account, definition)


def car(value: str) -> Property:
    return Property("car", "Car", PropertyType.TEXT, value)


def plan(option: int) -> Property:
    return Property("plan", "Plan", PropertyType.DROPDOWN, str(option), PLAN.options[option])


def seats(number: int) -> Property:
    return Property("seats", "Seats", PropertyType.NUMBER, str(number))


def rows_of(store: SqlStore, table: sa.Table, customer_id: int | None) -> int:
    with store.reading() as transaction:
        return int(
            transaction.connection.execute(
                sa.select(sa.func.count())
                .select_from(table)
                .where(table.c.customer_id == customer_id)
            ).scalar_one()
        )


def customer_count(store: SqlStore, account: int) -> int:
    with store.reading() as transaction:
        return int(
            transaction.connection.execute(
                sa.select(accounts.c.customer_count).where(accounts.c.id == account)
            ).scalar_one()
        )


@contextmanager
def statements(store: SqlStore) -> Iterator[list[str]]:
    """Every statement the store sends meanwhile."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", record)


# -- v2-only fields --------------------------------------------------------------------------


def test_v2_only_fields_a_long_age_and_instagram_read_back_as_written(
    module_store: SqlStore,
) -> None:
    account = new_account_id(module_store)
    written = make_customer(
        organization_id=35,
        conversation_count=10,
        draft=True,
        age="x" * 255,
        photo_type="instagram",
    )
    added = add(module_store, account, written)
    stored = get(module_store, account, added.id)
    assert stored == added
    assert stored is not None
    assert stored.draft is True  # a bool, not SQLite's 1
    assert (stored.organization_id, stored.conversation_count) == (35, 10)
    assert (stored.age, stored.photo_type) == ("x" * 255, "instagram")


def test_a_customer_without_v2_fields_reads_their_defaults(module_store: SqlStore) -> None:
    account = new_account_id(module_store)
    added = add(module_store, account, make_customer())
    stored = get(module_store, account, added.id)
    assert stored is not None
    assert (stored.organization_id, stored.conversation_count, stored.draft) == (None, 0, False)
    assert stored.properties == ()


def test_saving_keeps_v2_fields_and_properties_that_the_change_does_not_name(
    module_store: SqlStore,
) -> None:
    account = new_account_id(module_store)
    define(module_store, account, CAR, PLAN)
    added = add(
        module_store,
        account,
        make_customer(draft=True, organization_id=7, properties=(car("Tesla"), plan(2))),
    )
    changed = replace(added, first_name="Bo", modified_at=LATER)
    assert save(module_store, account, added, changed) == changed
    assert get(module_store, account, added.id) == changed


# -- property definitions and values -------------------------------------------------------


def test_definitions_are_kept_per_account_in_the_order_they_were_made(
    module_store: SqlStore,
) -> None:
    account, other = new_account_id(module_store), new_account_id(module_store)
    define(module_store, account, SEATS, PLAN, CAR)
    with module_store.writing() as transaction:
        assert not transaction.define_property(account, replace(CAR, name="Another car"))
        assert transaction.define_property(other, CAR)
    with module_store.reading() as transaction:
        assert transaction.property_definitions(account) == [SEATS, PLAN, CAR]
        assert transaction.property_definitions(other) == [CAR]
        assert transaction.property_definitions(new_account_id(module_store)) == []


def test_property_values_read_back_in_definition_order_with_dropdown_labels(
    module_store: SqlStore,
) -> None:
    account = new_account_id(module_store)
    define(module_store, account, CAR, PLAN, SEATS)
    added = add(module_store, account, make_customer())
    written = replace(added, properties=(seats(4), car("Tesla"), plan(3)))
    save(module_store, account, added, written)
    stored = get(module_store, account, added.id)
    assert stored is not None
    assert stored.properties == (car("Tesla"), plan(3), seats(4))
    assert stored.properties[1].text == "Plus"


def test_property_values_are_inserted_updated_and_deleted_one_statement_each(
    module_store: SqlStore,
) -> None:
    account = new_account_id(module_store)
    define(module_store, account, CAR, PLAN, SEATS)
    added = add(module_store, account, make_customer(properties=(car("Tesla"), plan(1))))
    after = replace(added, properties=(car("Volvo"), seats(2)), modified_at=LATER)
    with writes(module_store) as seen:
        save(module_store, account, added, after)
    assert sorted((verb, table) for verb, table, _ in seen) == [
        ("DELETE", "customer_properties"),
        ("INSERT", "customer_properties"),
        ("UPDATE", "customer_properties"),
        ("UPDATE", "customers"),
    ]
    assert get(module_store, account, added.id) == after


def test_a_save_that_changes_no_property_writes_none(module_store: SqlStore) -> None:
    account = new_account_id(module_store)
    define(module_store, account, CAR)
    added = add(module_store, account, make_customer(properties=(car("Tesla"),)))
    with writes(module_store) as seen:
        save(module_store, account, added, replace(added, last_name="Ng"))
    assert [table for _, table, _ in seen if table == "customer_properties"] == []


# -- deleting a customer ---------------------------------------------------------------------


def test_deleting_a_customer_removes_everything_it_has_and_counts_it_out(
    module_store: SqlStore,
) -> None:
    account = new_account_id(module_store)
    define(module_store, account, CAR)
    kept = add(module_store, account, make_customer(emails=(Entry(None, "kept@x.example"),)))
    gone = add(module_store, account, make_customer(properties=(car("Tesla"),)))
    assert customer_count(module_store, account) == 2
    for table in (entries, addresses, search_terms, customer_properties):
        assert rows_of(module_store, table, gone.id) > 0, table.name
    with module_store.writing() as transaction:
        assert gone.id is not None
        assert transaction.delete_customer(account, gone.id)
    for table in (entries, addresses, search_terms, customer_properties):
        assert rows_of(module_store, table, gone.id) == 0, table.name
    assert get(module_store, account, gone.id) is None
    assert get(module_store, account, kept.id) == kept
    assert customer_count(module_store, account) == 1
    with module_store.reading() as transaction:
        assert transaction.find_customers(account, Search()).count == 1
        found = transaction.find_customers(account, Search(Match(Field.EMAIL, "ann@example.com")))
        assert found.count == 0


def test_a_deleted_customers_addresses_are_free_and_its_id_is_not_reused(
    module_store: SqlStore,
) -> None:
    account = new_account_id(module_store)
    gone = add(module_store, account, make_customer())
    with module_store.writing() as transaction:
        assert gone.id is not None
        assert transaction.delete_customer(account, gone.id)
        assert transaction.email_owners(account, ["ann@example.com"], besides=None) == {}
    again = add(module_store, account, make_customer())
    assert again.id is not None and again.id > gone.id
    assert [e.value for e in again.emails] == ["ann@example.com", "Ann@Home.example"]


def test_deleting_is_refused_for_a_missing_customer_or_one_of_another_account(
    module_store: SqlStore,
) -> None:
    account, other = new_account_id(module_store), new_account_id(module_store)
    theirs = add(module_store, other, make_customer())
    with module_store.writing() as transaction:
        assert theirs.id is not None
        assert not transaction.delete_customer(account, theirs.id)
        assert not transaction.delete_customer(account, 2**31 - 1)
    assert get(module_store, other, theirs.id) == theirs
    assert customer_count(module_store, account) == 0
    assert customer_count(module_store, other) == 1


# -- list pages with everything --------------------------------------------------------------


def page_of(store: SqlStore, account: int, size: int) -> list[Customer]:
    with store.reading() as transaction:
        found = transaction.find_customers(account, Search(page_size=size), with_entries=True)
    return found.customers


def test_a_page_with_entries_carries_what_each_customer_has(module_store: SqlStore) -> None:
    account = new_account_id(module_store)
    define(module_store, account, CAR, PLAN)
    made = [
        add(module_store, account, make_customer(properties=(car("Tesla"), plan(1)))),
        add(module_store, account, Customer(id=None, created_at=LATER, modified_at=LATER)),
        add(
            module_store,
            account,
            make_customer(address=None, emails=(Entry(None, "bo@x.example", "home"),), draft=True),
        ),
    ]
    listed = page_of(module_store, account, 50)
    assert sorted(listed, key=lambda c: c.id or 0) == [
        get(module_store, account, customer.id) for customer in made
    ]


def test_a_page_with_entries_takes_as_many_queries_for_many_customers_as_for_one(
    module_store: SqlStore,
) -> None:
    account = new_account_id(module_store)
    define(module_store, account, CAR)
    for number in range(6):
        add(
            module_store,
            account,
            make_customer(
                emails=(Entry(None, f"c{number}@x.example"),), properties=(car(f"{number}"),)
            ),
        )
    with statements(module_store) as for_one:
        assert len(page_of(module_store, account, 1)) == 1
    with statements(module_store) as for_six:
        assert len(page_of(module_store, account, 6)) == 6
    assert len(for_six) == len(for_one)


# -- snapshots -------------------------------------------------------------------------------


def test_a_snapshot_carries_v2_fields_and_properties_and_restores_them(
    module_store: SqlStore,
) -> None:
    account = new_account_id(module_store)
    define(module_store, account, CAR, PLAN)
    first = add(
        module_store,
        account,
        make_customer(properties=(car("Tesla"), plan(2)), draft=True, conversation_count=3),
    )
    second = add(module_store, account, make_customer(emails=(), organization_id=9))
    with module_store.reading() as transaction:
        saved = transaction.account_customers(account)
    assert saved == [first, second]
    with module_store.writing() as transaction:
        assert transaction.clear_customers(account) == 2
    assert rows_of(module_store, customer_properties, first.id) == 0
    with module_store.reading() as transaction:
        assert transaction.property_definitions(account) == [CAR, PLAN]  # they stay
    with module_store.writing() as transaction:
        transaction.put_customers(account, saved)
    assert get(module_store, account, first.id) == first
    assert get(module_store, account, second.id) == second
