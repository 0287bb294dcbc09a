"""The update rules of openscout.domain.changes, one rule at a time (spec §10)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from openscout.domain.changes import (
    AddEntry,
    CustomerPatch,
    EntryChange,
    RemoveAddress,
    RemoveEntry,
    SetAddress,
    UpdateAddress,
    UpdateEntry,
    apply_patch,
    new_customer,
)
from openscout.domain.customers import WRITABLE_FIELDS, Address, Collection, Customer, Entry
from openscout.domain.errors import Invalid, Problem, Reason

CREATED = datetime(2017, 9, 23, 20, 12, 43, tzinfo=UTC)
MODIFIED = datetime(2017, 12, 13, 22, 39, 59, tzinfo=UTC)
NOW = datetime(2018, 1, 2, 3, 4, 5, tzinfo=UTC)

ADDRESS = Address(
    id=61,
    lines=("1 Main St", "Suite 2"),
    city="Boston",
    state="MA",
    postal_code="02110",
    country="US",
    created_at=CREATED,
    modified_at=MODIFIED,
)

#: Two entries per collection, with values no other collection uses.
ENTRIES: dict[Collection, tuple[Entry, ...]] = {
    Collection.EMAILS: (
        Entry(11, "ann@example.com", "work"),
        Entry(12, "ann@home.example", "home"),
    ),
    Collection.PHONES: (Entry(21, "555-0100 x7", "mobile"), Entry(22, "555-0199", "work")),
    Collection.CHATS: (Entry(31, "ann.lee", "skype"), Entry(32, "annlee", "aim")),
    Collection.SOCIAL_PROFILES: (
        Entry(41, "https://twitter.com/ann", "twitter"),
        Entry(42, "https://quora.com/ann", "quora"),
    ),
    Collection.WEBSITES: (Entry(51, "https://ann.example", None), Entry(52, "https://lee.example")),
}

#: A label each collection accepts that its first entry does not have (websites have none).
OTHER_LABEL: dict[Collection, str | None] = {
    Collection.EMAILS: "other",
    Collection.PHONES: "fax",
    Collection.CHATS: "icq",
    Collection.SOCIAL_PROFILES: "other",
    Collection.WEBSITES: None,
}

DEFAULT_LABEL: dict[Collection, str | None] = {
    Collection.EMAILS: "work",
    Collection.PHONES: "work",
    Collection.CHATS: "other",
    Collection.SOCIAL_PROFILES: "other",
    Collection.WEBSITES: None,
}

NEW_VALUE: dict[Collection, str] = {
    Collection.EMAILS: "lee@example.org",
    Collection.PHONES: "555-0142",
    Collection.CHATS: "ann.lee.2",
    Collection.SOCIAL_PROFILES: "https://twitter.com/lee",
    Collection.WEBSITES: "https://new.example",
}

UNKNOWN_ID = 999


def make_customer(**overrides: Any) -> Customer:
    values: dict[str, Any] = {
        "id": 7,
        "created_at": CREATED,
        "modified_at": MODIFIED,
        "first_name": "Ann",
        "last_name": "Lee",
        "organization": "Acme",
        "job_title": "CEO",
        "background": "Met at a fair",
        "location": "Boston, MA",
        "gender": "female",
        "address": ADDRESS,
        **{collection.value: entries for collection, entries in ENTRIES.items()},
    }
    values.update(overrides)
    return Customer(**values)


def entries_patch(collection: Collection, *changes: EntryChange) -> CustomerPatch:
    return CustomerPatch(entries={collection: list(changes)})


def problems_of(customer: Customer, patch: CustomerPatch) -> tuple[Problem, ...]:
    with pytest.raises(Invalid) as raised:
        apply_patch(customer, patch, NOW)
    return raised.value.problems


every_collection = pytest.mark.parametrize("collection", list(Collection), ids=str)


# -- the customer's own fields (§10.2) ---------------------------------------------------------


def test_a_field_the_patch_does_not_name_keeps_its_value() -> None:
    customer = make_customer()
    result = apply_patch(customer, CustomerPatch(fields={"organization": "Initech"}), NOW)
    assert result.organization == "Initech"
    assert result == replace(customer, organization="Initech", modified_at=NOW)


@pytest.mark.parametrize("name", WRITABLE_FIELDS)
def test_each_writable_field_can_be_set(name: str) -> None:
    result = apply_patch(make_customer(), CustomerPatch(fields={name: "Changed"}), NOW)
    assert getattr(result, name) == "Changed"
    assert result == replace(make_customer(), **{name: "Changed"}, modified_at=NOW)


@pytest.mark.parametrize("name", WRITABLE_FIELDS)
def test_none_clears_a_field(name: str) -> None:
    result = apply_patch(make_customer(), CustomerPatch(fields={name: None}), NOW)
    assert getattr(result, name) is None
    assert result == replace(make_customer(), **{name: None}, modified_at=NOW)


def test_clearing_the_last_name_leaves_the_first_as_full_name() -> None:
    result = apply_patch(make_customer(), CustomerPatch(fields={"last_name": None}), NOW)
    assert result.full_name == "Ann"


# -- adding, updating and removing entries (§10.3) ---------------------------------------------


@every_collection
def test_an_added_entry_comes_last_with_no_id_and_the_default_label(collection: Collection) -> None:
    patch = entries_patch(collection, AddEntry(NEW_VALUE[collection]))
    result = apply_patch(make_customer(), patch, NOW)
    assert result.entries(collection) == (
        *ENTRIES[collection],
        Entry(None, NEW_VALUE[collection], DEFAULT_LABEL[collection]),
    )


@every_collection
def test_an_added_entry_keeps_the_label_it_was_given(collection: Collection) -> None:
    change = AddEntry(NEW_VALUE[collection], OTHER_LABEL[collection])
    result = apply_patch(make_customer(), entries_patch(collection, change), NOW)
    assert result.entries(collection)[-1] == Entry(
        None, NEW_VALUE[collection], OTHER_LABEL[collection] or DEFAULT_LABEL[collection]
    )


@every_collection
def test_several_entries_are_added_in_the_order_given(collection: Collection) -> None:
    first, second = NEW_VALUE[collection], NEW_VALUE[collection] + "x"
    patch = entries_patch(collection, AddEntry(second), AddEntry(first))
    result = apply_patch(make_customer(), patch, NOW)
    assert [entry.value for entry in result.entries(collection)] == [
        *(entry.value for entry in ENTRIES[collection]),
        second,
        first,
    ]


@every_collection
def test_an_update_changes_the_value_and_keeps_the_label(collection: Collection) -> None:
    first, second = ENTRIES[collection]
    patch = entries_patch(collection, UpdateEntry(first.id or 0, value=NEW_VALUE[collection]))
    result = apply_patch(make_customer(), patch, NOW)
    assert result.entries(collection) == (replace(first, value=NEW_VALUE[collection]), second)


@every_collection
def test_an_update_changes_the_label_and_keeps_the_value(collection: Collection) -> None:
    first, second = ENTRIES[collection]
    label = OTHER_LABEL[collection]
    patch = entries_patch(collection, UpdateEntry(first.id or 0, label=label))
    result = apply_patch(make_customer(), patch, NOW)
    assert result.entries(collection) == (replace(first, label=label or first.label), second)


@every_collection
def test_an_update_can_change_value_and_label_at_once(collection: Collection) -> None:
    first, second = ENTRIES[collection]
    value, label = NEW_VALUE[collection], OTHER_LABEL[collection]
    patch = entries_patch(collection, UpdateEntry(second.id or 0, value, label))
    result = apply_patch(make_customer(), patch, NOW)
    assert result.entries(collection) == (first, Entry(second.id, value, label or second.label))


@every_collection
def test_an_update_naming_nothing_changes_nothing(collection: Collection) -> None:
    customer = make_customer()
    first = ENTRIES[collection][0]
    assert apply_patch(customer, entries_patch(collection, UpdateEntry(first.id or 0)), NOW) is (
        customer
    )


@every_collection
def test_a_removed_entry_is_gone_and_the_others_keep_their_order(collection: Collection) -> None:
    first, second = ENTRIES[collection]
    customer = make_customer(**{collection.value: (first, second, Entry(99, "last", None))})
    result = apply_patch(customer, entries_patch(collection, RemoveEntry(second.id or 0)), NOW)
    assert result.entries(collection) == (first, Entry(99, "last", None))


@every_collection
def test_removing_every_entry_leaves_an_empty_collection(collection: Collection) -> None:
    changes = [RemoveEntry(entry.id or 0) for entry in ENTRIES[collection]]
    result = apply_patch(make_customer(), entries_patch(collection, *changes), NOW)
    assert result.entries(collection) == ()


@every_collection
def test_other_collections_are_left_as_they_were(collection: Collection) -> None:
    customer = make_customer()
    result = apply_patch(customer, entries_patch(collection, AddEntry(NEW_VALUE[collection])), NOW)
    for other in Collection:
        if other is not collection:
            assert result.entries(other) is customer.entries(other)
    assert result.address is customer.address


@every_collection
def test_updating_an_unknown_id_is_a_problem_naming_the_id(collection: Collection) -> None:
    customer = make_customer()
    problems = problems_of(customer, entries_patch(collection, UpdateEntry(UNKNOWN_ID, "x")))
    assert problems == (Problem((collection.value, "id"), UNKNOWN_ID, Reason.UNKNOWN_ENTRY),)


@every_collection
def test_removing_an_unknown_id_is_reported_as_the_negative_id(collection: Collection) -> None:
    problems = problems_of(make_customer(), entries_patch(collection, RemoveEntry(UNKNOWN_ID)))
    assert problems == (Problem((collection.value, "id"), -UNKNOWN_ID, Reason.UNKNOWN_ENTRY),)


@every_collection
def test_an_id_of_another_collection_is_unknown_here(collection: Collection) -> None:
    """Ids are unique across collections, but an entry belongs to one collection only."""
    other = next(c for c in Collection if c is not collection)
    foreign = ENTRIES[other][0].id or 0
    patch = entries_patch(collection, UpdateEntry(foreign, "x"), RemoveEntry(foreign))
    assert sorted(problems_of(make_customer(), patch), key=repr) == sorted(
        [
            Problem((collection.value, "id"), foreign, Reason.UNKNOWN_ENTRY),
            Problem((collection.value, "id"), -foreign, Reason.UNKNOWN_ENTRY),
        ],
        key=repr,
    )


def test_every_unknown_id_of_every_collection_is_reported_and_nothing_applies() -> None:
    customer = make_customer()
    patch = CustomerPatch(
        fields={"first_name": "Bo"},
        entries={
            Collection.EMAILS: [AddEntry("new@example.com"), UpdateEntry(UNKNOWN_ID, "x")],
            Collection.WEBSITES: [RemoveEntry(UNKNOWN_ID + 1), RemoveEntry(51)],
        },
    )
    problems = problems_of(customer, patch)
    assert sorted(problems, key=repr) == sorted(
        [
            Problem(("emails", "id"), UNKNOWN_ID, Reason.UNKNOWN_ENTRY),
            Problem(("websites", "id"), -(UNKNOWN_ID + 1), Reason.UNKNOWN_ENTRY),
        ],
        key=repr,
    )


@every_collection
@pytest.mark.parametrize("order", ["remove first", "update first"])
def test_a_removal_wins_over_an_update_in_either_order(collection: Collection, order: str) -> None:
    first, second = ENTRIES[collection]
    changes: list[EntryChange] = [
        RemoveEntry(first.id or 0),
        UpdateEntry(first.id or 0, NEW_VALUE[collection]),
    ]
    if order == "update first":
        changes.reverse()
    result = apply_patch(make_customer(), entries_patch(collection, *changes), NOW)
    assert result.entries(collection) == (second,)


@every_collection
def test_removing_an_entry_twice_removes_it(collection: Collection) -> None:
    first, second = ENTRIES[collection]
    patch = entries_patch(collection, RemoveEntry(first.id or 0), RemoveEntry(first.id or 0))
    assert apply_patch(make_customer(), patch, NOW).entries(collection) == (second,)


@every_collection
def test_the_last_of_two_updates_of_one_entry_wins_field_by_field(collection: Collection) -> None:
    first, second = ENTRIES[collection]
    label = OTHER_LABEL[collection]
    patch = entries_patch(
        collection,
        UpdateEntry(first.id or 0, "overwritten", label),
        UpdateEntry(first.id or 0, NEW_VALUE[collection]),
    )
    result = apply_patch(make_customer(), patch, NOW)
    assert result.entries(collection) == (
        Entry(first.id, NEW_VALUE[collection], label or first.label),
        second,
    )


# -- values that already exist (§10.3) -------------------------------------------------------


@every_collection
def test_adding_a_value_that_exists_updates_that_entry(collection: Collection) -> None:
    first, second = ENTRIES[collection]
    label = OTHER_LABEL[collection]
    result = apply_patch(
        make_customer(), entries_patch(collection, AddEntry(second.value, label)), NOW
    )
    assert result.entries(collection) == (first, Entry(second.id, second.value, label))


@every_collection
def test_adding_an_existing_value_without_a_label_keeps_the_entry(collection: Collection) -> None:
    customer = make_customer()
    first = ENTRIES[collection][0]
    assert apply_patch(customer, entries_patch(collection, AddEntry(first.value)), NOW) is customer


def test_an_email_that_exists_in_another_case_updates_that_entry() -> None:
    result = apply_patch(
        make_customer(), entries_patch(Collection.EMAILS, AddEntry("ANN@Example.COM", "home")), NOW
    )
    assert result.emails == (
        Entry(11, "ANN@Example.COM", "home"),
        Entry(12, "ann@home.example", "home"),
    )


@pytest.mark.parametrize(
    "collection", [c for c in Collection if c is not Collection.EMAILS], ids=str
)
def test_other_values_in_another_case_are_new_entries(collection: Collection) -> None:
    first = ENTRIES[collection][0]
    result = apply_patch(
        make_customer(), entries_patch(collection, AddEntry(first.value.upper())), NOW
    )
    assert result.entries(collection) == (
        *ENTRIES[collection],
        Entry(None, first.value.upper(), DEFAULT_LABEL[collection]),
    )


@every_collection
def test_adding_one_value_twice_makes_one_entry(collection: Collection) -> None:
    value = NEW_VALUE[collection]
    patch = entries_patch(collection, AddEntry(value), AddEntry(value, OTHER_LABEL[collection]))
    result = apply_patch(make_customer(), patch, NOW)
    assert result.entries(collection) == (
        *ENTRIES[collection],
        Entry(None, value, OTHER_LABEL[collection] or DEFAULT_LABEL[collection]),
    )


@every_collection
def test_an_update_that_makes_two_entries_equal_is_a_duplicate(collection: Collection) -> None:
    first, second = ENTRIES[collection]
    patch = entries_patch(collection, UpdateEntry(second.id or 0, first.value))
    assert problems_of(make_customer(), patch) == (
        Problem((collection.value, "value"), first.value, Reason.DUPLICATE_ENTRY),
    )


def test_emails_that_differ_only_in_case_are_duplicates() -> None:
    patch = entries_patch(Collection.EMAILS, UpdateEntry(12, "Ann@EXAMPLE.com"))
    assert problems_of(make_customer(), patch) == (
        Problem(("emails", "value"), "Ann@EXAMPLE.com", Reason.DUPLICATE_ENTRY),
    )


@every_collection
def test_two_entries_may_swap_values(collection: Collection) -> None:
    first, second = ENTRIES[collection]
    patch = entries_patch(
        collection,
        UpdateEntry(first.id or 0, second.value),
        UpdateEntry(second.id or 0, first.value),
    )
    result = apply_patch(make_customer(), patch, NOW)
    assert result.entries(collection) == (
        replace(first, value=second.value),
        replace(second, value=first.value),
    )


@every_collection
def test_a_value_freed_by_a_removal_may_be_taken_by_an_update(collection: Collection) -> None:
    first, second = ENTRIES[collection]
    patch = entries_patch(
        collection, UpdateEntry(second.id or 0, first.value), RemoveEntry(first.id or 0)
    )
    result = apply_patch(make_customer(), patch, NOW)
    assert result.entries(collection) == (replace(second, value=first.value),)


@every_collection
@pytest.mark.parametrize("order", ["remove first", "add first"])
def test_a_removed_value_added_again_is_a_new_entry_in_either_order(
    collection: Collection, order: str
) -> None:
    """The removal wins over the entry it names, never over the addition: the value stays."""
    first, second = ENTRIES[collection]
    changes: list[EntryChange] = [RemoveEntry(first.id or 0), AddEntry(first.value)]
    if order == "add first":
        changes.reverse()
    result = apply_patch(make_customer(), entries_patch(collection, *changes), NOW)
    assert result.entries(collection) == (
        second,
        Entry(None, first.value, DEFAULT_LABEL[collection]),
    )


@every_collection
@pytest.mark.parametrize("order", ["update first", "add first"])
def test_a_value_renamed_away_and_added_again_is_kept_in_either_order(
    collection: Collection, order: str
) -> None:
    first, second = ENTRIES[collection]
    changes: list[EntryChange] = [
        UpdateEntry(first.id or 0, NEW_VALUE[collection]),
        AddEntry(first.value),
    ]
    if order == "add first":
        changes.reverse()
    result = apply_patch(make_customer(), entries_patch(collection, *changes), NOW)
    assert result.entries(collection) == (
        replace(first, value=NEW_VALUE[collection]),
        second,
        Entry(None, first.value, DEFAULT_LABEL[collection]),
    )


@every_collection
def test_entries_keep_their_order_and_new_ones_come_last(collection: Collection) -> None:
    first, second = ENTRIES[collection]
    patch = entries_patch(
        collection,
        AddEntry(NEW_VALUE[collection]),
        UpdateEntry(second.id or 0, "changed second"),
        UpdateEntry(first.id or 0, "changed first"),
    )
    result = apply_patch(make_customer(), patch, NOW)
    assert [entry.id for entry in result.entries(collection)] == [first.id, second.id, None]
    assert [entry.value for entry in result.entries(collection)] == [
        "changed first",
        "changed second",
        NEW_VALUE[collection],
    ]


# -- large collections: linear work, the same result -----------------------------------------


def _large_change() -> tuple[Customer, list[EntryChange], list[Entry]]:
    """A customer with 5,000 phones and one request that removes every third, updates every
    third, re-adds some values it has and adds 5,000 new ones; with the result expected."""
    phones = tuple(Entry(n, f"555-{n:05d}", "work") for n in range(1, 5001))
    changes: list[EntryChange] = [AddEntry(f"777-{n:05d}") for n in range(5000)]
    expected: list[Entry] = []
    for entry in phones:
        assert entry.id is not None
        match entry.id % 3:
            case 0:
                changes.append(RemoveEntry(entry.id))
            case 1:
                changes.append(UpdateEntry(entry.id, label="mobile"))
                expected.append(replace(entry, label="mobile"))
            case _:
                changes.append(AddEntry(entry.value, "home"))  # a value it has: an update
                expected.append(replace(entry, label="home"))
    expected += [Entry(None, f"777-{n:05d}", "work") for n in range(5000)]
    return make_customer(phones=phones), changes, expected


def test_thousands_of_changes_apply_in_order_keeping_ids() -> None:
    customer, changes, expected = _large_change()
    result = apply_patch(customer, entries_patch(Collection.PHONES, *changes), NOW)
    assert list(result.phones) == expected


def test_the_work_grows_linearly_with_the_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Counted, not timed: how often a value's key is computed. A scan of the entries for each
    added value computed it tens of millions of times here; an index, a few times per entry."""
    customer, changes, _expected = _large_change()
    calls = 0
    key = Collection.key

    def counting(self: Collection, value: str) -> str:
        nonlocal calls
        calls += 1
        return key(self, value)

    monkeypatch.setattr(Collection, "key", counting)
    apply_patch(customer, entries_patch(Collection.PHONES, *changes), NOW)
    assert 0 < calls <= 4 * (len(customer.phones) + len(changes))


# -- the address (§10.5) ---------------------------------------------------------------------

COMPLETE = {"city": "Paris", "state": "IDF", "postal_code": "75001", "country": "FR"}


def test_setting_an_address_on_a_customer_without_one_creates_it() -> None:
    customer = make_customer(address=None)
    values = {"lines": ("2 Rue de Rivoli",), **COMPLETE}
    result = apply_patch(customer, CustomerPatch(address=SetAddress(values)), NOW)
    assert result.address == Address(
        id=None,
        lines=("2 Rue de Rivoli",),
        city="Paris",
        state="IDF",
        postal_code="75001",
        country="FR",
        created_at=NOW,
        modified_at=NOW,
    )
    assert result.modified_at == NOW


def test_setting_an_address_replaces_every_value_of_the_existing_one() -> None:
    result = apply_patch(make_customer(), CustomerPatch(address=SetAddress(COMPLETE)), NOW)
    assert result.address == Address(
        id=61, lines=(), **COMPLETE, created_at=CREATED, modified_at=NOW
    )


def test_setting_the_address_it_already_has_changes_nothing() -> None:
    customer = make_customer()
    values = {
        "lines": ADDRESS.lines,
        "city": ADDRESS.city,
        "state": ADDRESS.state,
        "postal_code": ADDRESS.postal_code,
        "country": ADDRESS.country,
    }
    assert apply_patch(customer, CustomerPatch(address=SetAddress(values)), NOW) is customer


def test_an_address_update_changes_only_the_fields_it_names() -> None:
    patch = CustomerPatch(address=UpdateAddress(61, {"city": "Cambridge", "lines": ("9 Elm",)}))
    result = apply_patch(make_customer(), patch, NOW)
    assert result.address == replace(ADDRESS, city="Cambridge", lines=("9 Elm",), modified_at=NOW)
    assert result.modified_at == NOW


def test_an_address_update_with_its_own_values_changes_nothing() -> None:
    customer = make_customer()
    patch = CustomerPatch(address=UpdateAddress(61, {"city": "Boston"}))
    assert apply_patch(customer, patch, NOW) is customer


def test_an_address_update_may_clear_the_lines() -> None:
    patch = CustomerPatch(address=UpdateAddress(61, {"lines": None}))
    result = apply_patch(make_customer(), patch, NOW)
    assert result.address == replace(ADDRESS, lines=(), modified_at=NOW)


def test_removing_the_address_leaves_none() -> None:
    result = apply_patch(make_customer(), CustomerPatch(address=RemoveAddress(61)), NOW)
    assert result.address is None
    assert result.modified_at == NOW


@pytest.mark.parametrize("address", [ADDRESS, None], ids=["another address", "no address"])
def test_updating_an_address_the_customer_does_not_have_is_a_problem(
    address: Address | None,
) -> None:
    patch = CustomerPatch(address=UpdateAddress(UNKNOWN_ID, {"city": "Cambridge"}))
    assert problems_of(make_customer(address=address), patch) == (
        Problem(("address", "id"), UNKNOWN_ID, Reason.UNKNOWN_ENTRY),
    )


@pytest.mark.parametrize("address", [ADDRESS, None], ids=["another address", "no address"])
def test_removing_an_address_the_customer_does_not_have_reports_the_negative_id(
    address: Address | None,
) -> None:
    patch = CustomerPatch(address=RemoveAddress(UNKNOWN_ID))
    assert problems_of(make_customer(address=address), patch) == (
        Problem(("address", "id"), -UNKNOWN_ID, Reason.UNKNOWN_ENTRY),
    )


def test_a_new_address_needs_city_state_postal_code_and_country() -> None:
    patch = CustomerPatch(address=SetAddress({"lines": ("1 Main St",)}))
    assert problems_of(make_customer(address=None), patch) == tuple(
        Problem(("address", name), None, Reason.REQUIRED)
        for name in ("city", "state", "postal_code", "country")
    )


@pytest.mark.parametrize("name", ["city", "state", "postal_code", "country"])
def test_an_address_update_may_not_clear_a_required_field(name: str) -> None:
    patch = CustomerPatch(address=UpdateAddress(61, {name: None}))
    assert problems_of(make_customer(), patch) == (
        Problem(("address", name), None, Reason.REQUIRED),
    )


def test_an_update_of_a_stored_partial_address_must_complete_it() -> None:
    """Help Scout refused updates echoing a stored address that lacked `state` (§10.5)."""
    partial = replace(ADDRESS, state=None)
    patch = CustomerPatch(address=UpdateAddress(61, {"city": "Cambridge"}))
    assert problems_of(make_customer(address=partial), patch) == (
        Problem(("address", "state"), None, Reason.REQUIRED),
    )


# -- timestamps and no-op patches (§8.4, §9.5) -----------------------------------------------


def test_an_empty_patch_returns_the_very_same_customer() -> None:
    customer = make_customer()
    assert apply_patch(customer, CustomerPatch(), NOW) is customer


def test_a_patch_that_repeats_every_value_returns_the_very_same_customer() -> None:
    customer = make_customer()
    patch = CustomerPatch(
        fields={name: getattr(customer, name) for name in WRITABLE_FIELDS},
        address=UpdateAddress(61, {"city": "Boston", "country": "US"}),
        entries={
            collection: [
                *(UpdateEntry(entry.id or 0, entry.value, entry.label) for entry in entries),
                AddEntry(entries[0].value),
            ]
            for collection, entries in ENTRIES.items()
        },
    )
    result = apply_patch(customer, patch, NOW)
    assert result is customer
    assert result.modified_at == MODIFIED


@pytest.mark.parametrize(
    "patch",
    [
        CustomerPatch(fields={"background": "New notes"}),
        CustomerPatch(fields={"job_title": None}),
        CustomerPatch(address=UpdateAddress(61, {"country": "CA"})),
        CustomerPatch(address=RemoveAddress(61)),
        entries_patch(Collection.PHONES, AddEntry("555-0000")),
        entries_patch(Collection.CHATS, UpdateEntry(31, label="icq")),
        entries_patch(Collection.WEBSITES, RemoveEntry(52)),
    ],
    ids=["set field", "clear field", "update address", "remove address", "add", "update", "remove"],
)
def test_any_change_moves_modified_at_and_never_created_at(patch: CustomerPatch) -> None:
    result = apply_patch(make_customer(), patch, NOW)
    assert result.modified_at == NOW
    assert result.created_at == CREATED
    assert replace(result, modified_at=MODIFIED) != make_customer()


def test_an_entry_change_leaves_the_address_as_it_was() -> None:
    result = apply_patch(make_customer(), entries_patch(Collection.EMAILS, RemoveEntry(12)), NOW)
    assert result.address is ADDRESS


# -- problems from the request itself --------------------------------------------------------


def test_the_patch_problems_come_first_then_the_rules_problems() -> None:
    request_problem = Problem(("first_name",), "x" * 41, Reason.TOO_LONG)
    patch = CustomerPatch(
        fields={"organization": "Initech"},
        address=RemoveAddress(UNKNOWN_ID),
        entries={Collection.PHONES: [UpdateEntry(UNKNOWN_ID, "555")]},
        problems=(request_problem,),
    )
    assert problems_of(make_customer(), patch) == (
        request_problem,
        Problem(("address", "id"), -UNKNOWN_ID, Reason.UNKNOWN_ENTRY),
        Problem(("phones", "id"), UNKNOWN_ID, Reason.UNKNOWN_ENTRY),
    )


def test_patch_problems_alone_make_the_patch_invalid() -> None:
    request_problem = Problem(("emails", "value"), "nope", Reason.NOT_AN_EMAIL)
    patch = CustomerPatch(problems=(request_problem,))
    assert problems_of(make_customer(), patch) == (request_problem,)


# -- new customers (§9.4) ------------------------------------------------------------------------


def test_a_new_customer_has_the_patch_values_and_now_for_both_timestamps() -> None:
    patch = CustomerPatch(
        fields={"first_name": "Ann", "last_name": "Lee"},
        address=SetAddress(COMPLETE),
        entries={
            Collection.EMAILS: [AddEntry("ann@example.com"), AddEntry("ANN@example.com", "home")],
            Collection.WEBSITES: [AddEntry("https://ann.example")],
        },
    )
    customer = new_customer(patch, NOW)
    assert customer == Customer(
        id=None,
        created_at=NOW,
        modified_at=NOW,
        first_name="Ann",
        last_name="Lee",
        address=Address(id=None, **COMPLETE, created_at=NOW, modified_at=NOW),
        emails=(Entry(None, "ANN@example.com", "home"),),
        websites=(Entry(None, "https://ann.example", None),),
    )


def test_a_new_customer_has_no_entries_to_update() -> None:
    patch = entries_patch(Collection.EMAILS, UpdateEntry(5, "a@example.com"))
    with pytest.raises(Invalid) as raised:
        new_customer(patch, NOW)
    assert raised.value.problems == (Problem(("emails", "id"), 5, Reason.UNKNOWN_ENTRY),)


def test_a_later_clock_reading_is_what_moves_modified_at() -> None:
    later = NOW + timedelta(hours=1)
    once = apply_patch(make_customer(), CustomerPatch(fields={"first_name": "Bo"}), NOW)
    twice = apply_patch(once, CustomerPatch(fields={"first_name": "Cy"}), later)
    assert (once.modified_at, twice.modified_at, twice.created_at) == (NOW, later, CREATED)
