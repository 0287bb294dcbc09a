"""v2's use cases (service.py) over a real store, on both backends, with requests decoded by
`contract.v2.decode`: overwrite, edit (and the id of an added entry), delete, custom
properties, and a v1 update that keeps what only v2 shows."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from openscout import service
from openscout.contract.v1 import decode as v1_decode
from openscout.contract.v2 import decode
from openscout.domain.customers import Collection, Customer, Property
from openscout.domain.errors import CustomerNotFound, EmailTaken, Invalid, PropertyExists
from openscout.domain.properties import PropertyDefinition, PropertyType, new_definition
from openscout.domain.search import Search
from openscout.store.base import is_unbounded
from openscout.store.engine import SqlStore
from openscout.webhooks.events import NO_EVENTS
from tests.store.test_sql_store import make_customer, new_account_id

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
CAR = new_definition("car", "Car", "text")
PLAN = new_definition("plan", "Plan", "dropdown", ("Free", "Plus"))


def body(document: Any) -> bytes:
    return json.dumps(document).encode()


@pytest.fixture
def account(module_store: SqlStore) -> int:
    account = new_account_id(module_store)
    service.define_property(module_store, account, CAR)
    service.define_property(module_store, account, PLAN)
    return account


def created(store: SqlStore, account: int, **fields: Any) -> Customer:
    """A customer made through v2's create, then given v2-only values and properties."""
    document = {
        "firstName": "Vernon",
        "lastName": "Bear",
        "jobTitle": "CEO",
        "emails": [{"type": "work", "value": "bear@acme.example"}],
        "phones": [{"type": "home", "value": "555-0100"}],
        "address": {"city": "Prague", "state": "PR", "postalCode": "11000", "country": "CZ"},
        **fields,
    }
    made = service.create_customer(
        store, account, decode.create_request(body(document)), NOW, events=NO_EVENTS
    )
    assert made.id is not None
    return service.edit_properties(
        store,
        account,
        made.id,
        decode.properties_request(body([{"op": "replace", "path": "/car", "value": "Tesla"}])),
        NOW,
        events=NO_EVENTS,
    )


def stored(store: SqlStore, account: int, customer: Customer) -> Customer:
    assert customer.id is not None
    return service.get_customer(store, account, customer.id)


def patch(store: SqlStore, account: int, customer: Customer, *ops: Any) -> service.Edited:
    assert customer.id is not None
    edits = decode.patch_request(body(list(ops)))
    return service.edit_customer(store, account, customer.id, edits, LATER, events=NO_EVENTS)


# -- overwrite (PUT) -------------------------------------------------------------------------


def test_an_overwrite_sets_every_own_field_and_touches_nothing_else(
    module_store: SqlStore, account: int
) -> None:
    before = created(module_store, account, gender="Male", age="30-35")
    assert before.id is not None
    request = decode.overwrite_request(
        body({"firstName": "Bo", "emails": [], "address": None, "draft": True})
    )
    after = service.overwrite_customer(
        module_store, account, before.id, request, LATER, events=NO_EVENTS
    )
    assert after == stored(module_store, account, before)
    assert (after.first_name, after.last_name, after.job_title, after.age) == (
        "Bo",
        None,
        None,
        None,
    )
    assert after.gender == "unknown"
    assert after.modified_at == LATER
    assert (after.emails, after.phones, after.address) == (
        before.emails,
        before.phones,
        before.address,
    )
    assert (after.properties, after.draft) == (before.properties, False)


def test_an_overwrite_with_the_same_values_changes_nothing(
    module_store: SqlStore, account: int
) -> None:
    before = created(module_store, account)
    assert before.id is not None
    same = {"firstName": "Vernon", "lastName": "Bear", "jobTitle": "CEO"}
    after = service.overwrite_customer(
        module_store,
        account,
        before.id,
        decode.overwrite_request(body(same)),
        LATER,
        events=NO_EVENTS,
    )
    assert after == before == stored(module_store, account, before)


# -- edits (PATCH and the sub-resources) -----------------------------------------------------


def test_an_added_entry_is_named_by_its_new_id(module_store: SqlStore, account: int) -> None:
    before = created(module_store, account)
    edited = patch(
        module_store,
        account,
        before,
        {"op": "add", "path": "/emails", "value": {"type": "home", "value": "vb@home.example"}},
        {"op": "replace", "path": "/firstName", "value": "Vern"},
    )
    (new_id,) = edited.added
    (old,) = before.emails
    assert new_id is not None and new_id != old.id
    assert [(e.id, e.value) for e in edited.customer.emails] == [
        (old.id, old.value),
        (new_id, "vb@home.example"),
    ]
    assert edited.customer == stored(module_store, account, before)
    assert edited.customer.modified_at == LATER


def test_a_sub_resource_create_of_a_value_the_customer_has_names_that_entry(
    module_store: SqlStore, account: int
) -> None:
    before = created(module_store, account)
    assert before.id is not None
    (old,) = before.emails
    edits = decode.entry_request(Collection.EMAILS, body({"value": "BEAR@acme.example"}))
    edited = service.edit_customer(module_store, account, before.id, edits, LATER, events=NO_EVENTS)
    assert edited.added == (old.id,)
    assert [e.value for e in edited.customer.emails] == ["BEAR@acme.example"]


def test_an_added_value_that_a_later_edit_takes_away_names_no_entry(
    module_store: SqlStore, account: int
) -> None:
    before = created(module_store, account)
    (old,) = before.emails
    edited = patch(
        module_store,
        account,
        before,
        {"op": "add", "path": "/emails", "value": {"value": "bear@acme.example"}},
        {"op": "replace", "path": f"/emails/{old.id}/value", "value": "b@acme.example"},
    )
    assert edited.added == (None,)
    assert [(e.id, e.value) for e in edited.customer.emails] == [(old.id, "b@acme.example")]


def test_edits_apply_all_or_none(module_store: SqlStore, account: int) -> None:
    before = created(module_store, account)
    with pytest.raises(Invalid):
        patch(
            module_store,
            account,
            before,
            {"op": "replace", "path": "/firstName", "value": "Vern"},
            {"op": "remove", "path": "/phones/999999"},
        )
    assert stored(module_store, account, before) == before


def test_edits_may_not_take_another_customers_address(module_store: SqlStore, account: int) -> None:
    before = created(module_store, account)
    other = created(module_store, account, emails=[{"value": "other@acme.example"}])
    with pytest.raises(EmailTaken):
        patch(
            module_store,
            account,
            before,
            {"op": "add", "path": "/emails", "value": {"value": "OTHER@acme.example"}},
        )
    assert stored(module_store, account, before) == before
    assert stored(module_store, account, other) == other


def test_edits_that_undo_each_other_change_nothing(module_store: SqlStore, account: int) -> None:
    before = created(module_store, account)
    edited = patch(
        module_store,
        account,
        before,
        {"op": "replace", "path": "/firstName", "value": "Vern"},
        {"op": "replace", "path": "/firstName", "value": "Vernon"},
    )
    assert edited.customer == before == stored(module_store, account, before)


def test_edits_of_a_missing_customer_are_not_found(module_store: SqlStore, account: int) -> None:
    edits = decode.patch_request(body([{"op": "remove", "path": "/firstName"}]))
    for missing in (0, 2**31 - 1, 2**40):
        with pytest.raises(CustomerNotFound):
            service.edit_customer(module_store, account, missing, edits, LATER, events=NO_EVENTS)


# -- delete ----------------------------------------------------------------------------------


def test_a_deleted_customer_is_gone_for_good_and_its_addresses_are_free(
    module_store: SqlStore, account: int
) -> None:
    gone = created(module_store, account)
    assert gone.id is not None
    count = service.count_customers(module_store, account)
    service.delete_customer(module_store, account, gone.id, events=NO_EVENTS)
    with pytest.raises(CustomerNotFound):
        service.get_customer(module_store, account, gone.id)
    with pytest.raises(CustomerNotFound):
        service.delete_customer(module_store, account, gone.id, events=NO_EVENTS)
    assert service.count_customers(module_store, account) == count - 1
    again = created(module_store, account)  # the same email address
    assert [e.value for e in again.emails] == ["bear@acme.example"]


def test_deleting_what_the_account_does_not_have_is_not_found(
    module_store: SqlStore, account: int
) -> None:
    other = new_account_id(module_store)
    service.define_property(module_store, other, CAR)
    theirs = created(module_store, other)
    for missing in (0, -1, 2**40, theirs.id):
        assert missing is not None
        with pytest.raises(CustomerNotFound):
            service.delete_customer(module_store, account, missing, events=NO_EVENTS)
    assert stored(module_store, other, theirs) == theirs


# -- properties ------------------------------------------------------------------------------


def edit_properties(
    store: SqlStore, account: int, customer: Customer, *ops: Any, now: datetime = LATER
) -> Customer:
    assert customer.id is not None
    edits = decode.properties_request(body(list(ops)))
    return service.edit_properties(store, account, customer.id, edits, now, events=NO_EVENTS)


def test_property_values_are_set_in_definition_order_and_move_modified_at(
    module_store: SqlStore, account: int
) -> None:
    before = created(module_store, account)
    after = edit_properties(
        module_store,
        account,
        before,
        {"op": "replace", "path": "/plan", "value": "plus"},
        {"op": "remove", "path": "/car"},
        {"op": "add", "path": "/car", "value": "Volvo"},
    )
    assert after.properties == (
        Property("car", "Car", PropertyType.TEXT, "Volvo"),
        Property("plan", "Plan", PropertyType.DROPDOWN, "2", "Plus"),
    )
    assert after.modified_at == LATER
    assert after == stored(module_store, account, before)


def test_property_edits_that_change_nothing_leave_the_customer_as_it_was(
    module_store: SqlStore, account: int
) -> None:
    before = created(module_store, account)
    after = edit_properties(
        module_store,
        account,
        before,
        {"op": "remove", "path": "/car"},
        {"op": "replace", "path": "/car", "value": "Tesla"},
        {"op": "remove", "path": "/plan"},
    )
    assert after == before == stored(module_store, account, before)


def test_property_edits_naming_an_undefined_property_or_a_bad_value_change_nothing(
    module_store: SqlStore, account: int
) -> None:
    before = created(module_store, account)
    for ops in (
        [{"op": "replace", "path": "/car", "value": "Volvo"}, {"op": "remove", "path": "/boat"}],
        [{"op": "replace", "path": "/plan", "value": "Gold"}],
    ):
        with pytest.raises(Invalid):
            edit_properties(module_store, account, before, *ops)
    assert stored(module_store, account, before) == before


def test_properties_are_defined_per_account_once_per_slug(module_store: SqlStore) -> None:
    account, other = new_account_id(module_store), new_account_id(module_store)
    service.define_property(module_store, account, PLAN)
    service.define_property(module_store, account, CAR)
    service.define_property(module_store, other, CAR)
    with pytest.raises(PropertyExists) as taken:
        service.define_property(module_store, account, replace(CAR, name="Vehicle"))
    assert taken.value.slug == "car"
    with pytest.raises(Invalid):
        service.define_property(
            module_store, account, PropertyDefinition("Boat", "Boat", PropertyType.TEXT)
        )
    assert service.list_properties(module_store, account) == [PLAN, CAR]
    assert service.list_properties(module_store, other) == [CAR]


# -- v1 beside v2 ----------------------------------------------------------------------------


def test_a_v1_update_keeps_what_only_v2_shows(module_store: SqlStore, account: int) -> None:
    with module_store.writing() as transaction:
        added = transaction.add_customer(
            account, make_customer(draft=True, organization_id=35, conversation_count=4)
        )
    assert added.id is not None
    with_properties = edit_properties(
        module_store, account, added, {"op": "replace", "path": "/plan", "value": 1}, now=NOW
    )
    request = v1_decode.update_request(
        body(
            {
                "firstName": "Ann-Marie",
                "photoType": "twitter",
                "emails": [{"value": "am@x.example", "location": "home"}],
            }
        )
    )
    updated = service.update_customer(
        module_store, account, added.id, request.patch, LATER, events=NO_EVENTS
    )
    after = stored(module_store, account, added)
    assert after == updated
    assert after.first_name == "Ann-Marie"
    assert (after.draft, after.organization_id, after.conversation_count) == (True, 35, 4)
    assert after.properties == with_properties.properties != ()


def test_a_v2_list_page_carries_everything_and_a_v1_list_does_not(
    module_store: SqlStore, account: int
) -> None:
    made = created(module_store, account)
    (listed,) = service.list_customers_v2(module_store, account, Search()).customers
    assert listed == made
    (plain,) = service.list_customers(module_store, account, Search()).customers
    assert (plain.emails, plain.address, plain.properties) == ((), None, ())


def test_lists_deletes_and_long_edits_never_run_on_the_event_loop() -> None:
    few = decode.patch_request(body([{"op": "remove", "path": "/firstName"}] * 3))
    many = decode.patch_request(body([{"op": "remove", "path": "/firstName"}] * 501))
    assert is_unbounded(service.list_customers_v2)
    assert is_unbounded(service.delete_customer)
    assert not is_unbounded(service.edit_customer, (None, 1, 1, few, LATER))
    assert is_unbounded(service.edit_customer, (None, 1, 1, many, LATER))
    assert not is_unbounded(
        service.overwrite_customer, (None, 1, 1, decode.overwrite_request(b"{}"), LATER)
    )
