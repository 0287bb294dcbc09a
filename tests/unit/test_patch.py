"""openscout.domain.patch: overwrites and edits by path, applied in order, all or none (spec
helpscout-v2-customers.md §4, §8; docs/decisions/v2-patch-order.md)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from openscout.domain.changes import (
    AddEntry,
    RemoveEntry,
    SetAddress,
    UpdateEntry,
    apply_patch,
)
from openscout.domain.customers import Address, Collection, Customer, Entry
from openscout.domain.errors import Invalid, Problem, Reason
from openscout.domain.patch import (
    OWN_FIELDS,
    CustomerEdits,
    DropAddress,
    Edit,
    EditEntry,
    SetAddressField,
    SetField,
    apply_edits,
    overwrite,
)

CREATED = datetime(2017, 9, 23, 20, 12, 43, tzinfo=UTC)
MODIFIED = datetime(2017, 12, 13, 22, 39, 59, tzinfo=UTC)
NOW = datetime(2018, 1, 2, 3, 4, 5, tzinfo=UTC)
EMAILS = Collection.EMAILS

ADDRESS = Address(
    id=61,
    lines=("1 Main St",),
    city="Boston",
    state="MA",
    postal_code="02110",
    country="US",
    created_at=CREATED,
    modified_at=MODIFIED,
)
CUSTOMER = Customer(
    id=7,
    created_at=CREATED,
    modified_at=MODIFIED,
    first_name="Ann",
    last_name="Lee",
    organization="Acme",
    job_title="CEO",
    background="met at a fair",
    location="Boston",
    photo_url="https://example.com/ann.png",
    photo_type="twitter",
    gender="female",
    age="30-35",
    address=ADDRESS,
    emails=(Entry(11, "ann@example.com", "work"), Entry(12, "ann@home.example", "home")),
    phones=(Entry(21, "555-0100", "mobile"),),
)


def edit(*edits: Edit, problems: tuple[Problem, ...] = ()) -> Customer:
    return apply_edits(CUSTOMER, CustomerEdits(edits, problems), NOW)


def refused(*edits: Edit) -> list[Problem]:
    with pytest.raises(Invalid) as error:
        edit(*edits)
    return list(error.value.problems)


# -- overwrite -----------------------------------------------------------------------------------


def test_an_overwrite_sets_every_own_field_and_clears_those_left_out() -> None:
    result = apply_patch(CUSTOMER, overwrite({"first_name": "Bo", "photo_type": "instagram"}), NOW)
    assert (result.first_name, result.photo_type) == ("Bo", "instagram")
    cleared = [name for name in OWN_FIELDS if name not in ("first_name", "photo_type", "gender")]
    assert [getattr(result, name) for name in cleared] == [None] * len(cleared)
    assert result.modified_at == NOW


def test_an_overwrite_leaves_entries_and_the_address_alone() -> None:
    result = apply_patch(CUSTOMER, overwrite({}), NOW)
    assert (result.address, result.emails, result.phones) == (
        CUSTOMER.address,
        CUSTOMER.emails,
        CUSTOMER.phones,
    )


def test_a_gender_left_out_of_an_overwrite_becomes_unknown_never_null() -> None:
    assert apply_patch(CUSTOMER, overwrite({"gender": None}), NOW).gender == "unknown"


def test_an_overwrite_with_the_same_values_changes_nothing() -> None:
    same = {name: getattr(CUSTOMER, name) for name in OWN_FIELDS}
    assert apply_patch(CUSTOMER, overwrite(same), NOW) is CUSTOMER


def test_an_overwrite_reports_the_problems_of_its_request() -> None:
    problem = Problem(("first_name",), "x" * 41, Reason.TOO_LONG)
    with pytest.raises(Invalid) as error:
        apply_patch(CUSTOMER, overwrite({}, [problem]), NOW)
    assert error.value.problems == (problem,)


# -- fields --------------------------------------------------------------------------------------


def test_a_field_edit_sets_one_field_and_moves_modified_at() -> None:
    result = edit(SetField("job_title", "CTO"))
    assert (result.job_title, result.first_name, result.modified_at) == ("CTO", "Ann", NOW)


def test_a_field_edit_to_null_clears_it_and_gender_becomes_unknown() -> None:
    result = edit(SetField("background", None), SetField("gender", None))
    assert (result.background, result.gender) == (None, "unknown")


def test_later_edits_see_what_earlier_ones_did() -> None:
    assert edit(SetField("age", "40"), SetField("age", "41")).age == "41"


def test_edits_that_undo_each_other_leave_the_customer_as_it_was() -> None:
    assert edit(SetField("age", "40"), SetField("age", "30-35")) is CUSTOMER
    assert edit() is CUSTOMER


# -- entries -------------------------------------------------------------------------------------


def test_an_added_entry_comes_last_with_no_id_and_its_type() -> None:
    result = edit(EditEntry(EMAILS, AddEntry("bo@example.com", "other")))
    assert result.emails[-1] == Entry(None, "bo@example.com", "other")
    assert result.emails[:2] == CUSTOMER.emails


def test_an_added_entry_without_a_type_gets_the_collection_default() -> None:
    result = edit(EditEntry(Collection.CHATS, AddEntry("ann.lee")))
    assert result.chats == (Entry(None, "ann.lee", "other"),)


def test_adding_a_value_the_customer_has_updates_that_entry() -> None:
    result = edit(EditEntry(EMAILS, AddEntry("ANN@example.com", "home")))
    assert result.emails[0] == Entry(11, "ANN@example.com", "home")
    assert len(result.emails) == 2


def test_an_entry_is_updated_field_by_field() -> None:
    result = edit(
        EditEntry(EMAILS, UpdateEntry(11, value="ann@new.example")),
        EditEntry(EMAILS, UpdateEntry(11, label="other")),
    )
    assert result.emails[0] == Entry(11, "ann@new.example", "other")


def test_an_entry_is_removed_by_id() -> None:
    assert edit(EditEntry(EMAILS, RemoveEntry(11))).emails == (CUSTOMER.emails[1],)


def test_an_entry_removed_by_an_earlier_edit_cannot_be_edited_again() -> None:
    problems = refused(
        EditEntry(EMAILS, RemoveEntry(11)), EditEntry(EMAILS, UpdateEntry(11, value="a@b.io"))
    )
    assert problems == [Problem(("emails", "id"), 11, Reason.UNKNOWN_ENTRY)]


def test_an_entry_of_another_customer_is_refused() -> None:
    assert refused(EditEntry(Collection.PHONES, RemoveEntry(11))) == [
        Problem(("phones", "id"), -11, Reason.UNKNOWN_ENTRY)
    ]


def test_an_update_to_a_value_another_entry_holds_is_refused() -> None:
    assert refused(EditEntry(EMAILS, UpdateEntry(12, value="Ann@Example.com"))) == [
        Problem(("emails", "value"), "Ann@Example.com", Reason.DUPLICATE_ENTRY)
    ]


# -- the address ---------------------------------------------------------------------------------


def test_an_address_field_edit_changes_that_field_and_keeps_the_address_id() -> None:
    result = edit(SetAddressField("city", "Cambridge"))
    assert result.address is not None
    assert (result.address.id, result.address.city, result.address.state) == (61, "Cambridge", "MA")
    assert result.address.modified_at == NOW


def test_an_address_is_built_by_several_edits_and_checked_once_complete() -> None:
    customer = Customer(id=8, created_at=CREATED, modified_at=MODIFIED)
    parts = {"city": "Prague", "state": "CZ-10", "postal_code": "11000", "country": "CZ"}
    edits = CustomerEdits([SetAddressField(name, value) for name, value in parts.items()])
    result = apply_edits(customer, edits, NOW)
    assert result.address == Address(None, (), "Prague", "CZ-10", "11000", "CZ", NOW, NOW)


def test_an_address_left_incomplete_is_refused() -> None:
    assert refused(SetAddressField("state", None)) == [
        Problem(("address", "state"), None, Reason.REQUIRED)
    ]


def test_a_whole_address_replaces_every_value() -> None:
    values = {"city": "Prague", "state": "CZ-10", "postal_code": "11000", "country": "CZ"}
    result = edit(SetAddress(values))
    assert result.address is not None
    assert (result.address.id, result.address.lines, result.address.city) == (61, (), "Prague")


def test_the_address_is_dropped_whatever_its_id() -> None:
    result = edit(DropAddress())
    assert (result.address, result.modified_at) == (None, NOW)


def test_dropping_an_address_the_customer_lacks_is_refused() -> None:
    customer = Customer(id=8, created_at=CREATED, modified_at=MODIFIED)
    with pytest.raises(Invalid) as error:
        apply_edits(customer, CustomerEdits([DropAddress()]), NOW)
    assert error.value.problems == (Problem(("address",), None, Reason.UNKNOWN_ENTRY),)


# -- all or none ---------------------------------------------------------------------------------


def test_every_problem_of_every_edit_is_reported_and_nothing_applies() -> None:
    request_problem = Problem(("gender",), "robot", Reason.INVALID)
    with pytest.raises(Invalid) as error:
        edit(
            SetField("first_name", "Bo"),
            EditEntry(EMAILS, RemoveEntry(99)),
            SetAddressField("country", None),
            EditEntry(Collection.PHONES, UpdateEntry(98, value="1")),
            problems=(request_problem,),
        )
    assert error.value.problems == (
        request_problem,
        Problem(("emails", "id"), -99, Reason.UNKNOWN_ENTRY),
        Problem(("phones", "id"), 98, Reason.UNKNOWN_ENTRY),
        Problem(("address", "country"), None, Reason.REQUIRED),
    )
