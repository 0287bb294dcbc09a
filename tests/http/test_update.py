"""PUT /v1/customers/{id}.json through the real server: status, scalars and the five entry
collections (spec §9.5, §10.1-§10.3, §11)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.conftest import Clock
from tests.helpers import (
    LABEL_KEYS,
    NOT_FOUND,
    SAMPLE_VALUES,
    assert_empty,
    assert_error,
    assert_invalid,
    assert_item,
    create,
    fetch,
    ids,
    raw,
    update,
)

COLLECTIONS = tuple(LABEL_KEYS)
#: Required fields: a blank one is refused, never cleared (spec §8.5, §10.2).
NAMES = ("firstName", "lastName")
LABELLED = tuple(name for name, label in LABEL_KEYS.items() if label)
#: The label a new entry gets when none is sent (spec §8.3).
DEFAULT_LABELS = {"emails": "work", "phones": "work", "chats": "other", "socialProfiles": "other"}
#: A label other than the default, and a way to write it that must be read the same.
OTHER_LABELS = {
    "emails": ("home", "Home"),
    "phones": ("mobile", "MOBILE"),
    "chats": ("skype", "Skype"),
    "socialProfiles": ("twitter", "TWITTER"),
}


def _values(item: dict[str, Any], name: str) -> list[tuple[Any, ...]]:
    label = LABEL_KEYS[name]
    return [(e["value"], e[label]) if label else (e["value"],) for e in item[name] or ()]


# -- status and body (§9.5)


def test_an_update_answers_200_with_an_empty_body(client: httpx.Client) -> None:
    customer = create(client)
    response = client.put(f"/v1/customers/{customer}.json", json={"organization": "Acme"})
    assert_empty(response, 200)
    assert "location" not in response.headers
    assert fetch(client, customer)["organization"] == "Acme"


@pytest.mark.parametrize(
    ("query", "body"),
    [
        ("?reload=true", {}),
        ("?reload=1", {}),
        ("", {"reload": True}),
        ("", {"reload": "true"}),
        ("", {"reload": 1}),
        ("", {"reload": "1"}),
    ],
)
def test_an_update_with_reload_answers_201_with_the_item_and_no_location(
    client: httpx.Client, query: str, body: dict[str, Any]
) -> None:
    customer = create(client)
    response = client.put(f"/v1/customers/{customer}.json{query}", json={**body, "jobTitle": "CTO"})
    item = assert_item(response, 201)
    assert "location" not in response.headers
    assert (item["id"], item["jobTitle"]) == (customer, "CTO")
    assert item == fetch(client, customer)


def test_the_customer_wrapper_works_on_update(client: httpx.Client) -> None:
    customer = create(client)
    response = client.put(
        f"/v1/customers/{customer}.json",
        json={"customer": {"jobTitle": "CTO"}, "reload": True},
    )
    assert assert_item(response, 201)["jobTitle"] == "CTO"


@pytest.mark.parametrize("flag", [False, "false", 0, "0", None])
def test_an_update_with_a_false_reload_answers_200(client: httpx.Client, flag: object) -> None:
    customer = create(client)
    assert_empty(
        client.put(f"/v1/customers/{customer}.json", json={"reload": flag, "jobTitle": "x"}), 200
    )


def test_an_update_of_a_customer_that_does_not_exist_is_not_found(
    client: httpx.Client, other_client: httpx.Client
) -> None:
    theirs = create(other_client)
    before = raw(other_client, theirs)
    for customer in (theirs, 0, 2_147_483_000, 2**70):
        response = client.put(f"/v1/customers/{customer}.json", json={"firstName": "Mallory"})
        assert_error(response, 404, NOT_FOUND)
    assert raw(other_client, theirs) == before


# -- scalars (§10.1, §10.2)

FIELDS = ("firstName", "lastName", "organization", "jobTitle", "background")
FULL = {
    "firstName": "Ann",
    "lastName": "Lee",
    "organization": "Acme",
    "jobTitle": "CEO",
    "background": "Met at the fair.",
}


def test_omitted_and_null_fields_are_kept(client: httpx.Client) -> None:
    customer = create(client, **FULL)
    before = raw(client, customer)
    assert_empty(client.put(f"/v1/customers/{customer}.json", json={}), 200)
    assert_empty(
        client.put(f"/v1/customers/{customer}.json", json=dict.fromkeys(FIELDS, None)), 200
    )
    assert raw(client, customer) == before


@pytest.mark.parametrize("field", [name for name in FIELDS if name not in NAMES])
def test_a_blank_string_clears_a_field(client: httpx.Client, field: str) -> None:
    for blank in ("", "   "):
        customer = create(client, **FULL)
        item = update(client, customer, {field: blank})
        assert item[field] is None
        assert {name: item[name] for name in FIELDS if name != field} == {
            name: value for name, value in FULL.items() if name != field
        }


def test_each_field_is_written(client: httpx.Client) -> None:
    customer = create(client, **FULL)
    changed = {name: f"{value} 2" for name, value in FULL.items()}
    item = update(client, customer, changed)
    assert {name: item[name] for name in FIELDS} == changed
    assert item["fullName"] == "Ann 2 Lee 2"


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_name_on_update_is_missing_not_cleared(client: httpx.Client, blank: str) -> None:
    customer = create(client)
    before = fetch(client, customer)
    response = client.put(
        f"/v1/customers/{customer}.json",
        json={"firstName": blank, "lastName": blank, "jobTitle": "CTO"},
    )
    assert_invalid(
        response,
        ("firstName", None, "Value is required"),
        ("lastName", None, "Value is required"),
    )
    assert fetch(client, customer) == before


def test_names_left_out_or_null_on_update_are_kept(client: httpx.Client) -> None:
    customer = create(client)
    item = update(client, customer, {"firstName": None, "jobTitle": "CTO"})
    assert (item["firstName"], item["lastName"], item["fullName"]) == ("Ann", "Lee", "Ann Lee")


def test_read_only_and_ignored_keys_are_ignored_on_update(
    client: httpx.Client, clock: Clock
) -> None:
    clock.freeze(datetime(2019, 5, 6, 7, 8, 9, tzinfo=UTC))
    customer = create(client)
    other = create(client, firstName="Bob")
    clock.advance(60)
    body = {
        "id": other,
        "fullName": "Someone Else",
        "createdAt": "2001-01-01T00:00:00Z",
        "modifiedAt": "2001-01-01T00:00:00Z",
        "gender": "female",
        "photoUrl": "https://example.com/p.png",
        "photoType": "gravatar",
        "age": "30-35",
        "location": "Boston, MA",
        "type": "customer",
        "customerPersonType": None,
        "jobTitle": "CTO",
    }
    response = client.put(f"/v1/customers/{customer}.json?reload=true", json=body)
    item = assert_item(response, 201)
    assert (item["id"], item["fullName"], item["jobTitle"]) == (customer, "Ann Lee", "CTO")
    assert (item["createdAt"], item["modifiedAt"]) == (
        "2019-05-06T07:08:09Z",
        "2019-05-06T07:09:09Z",
    )
    assert (item["gender"], item["photoUrl"], item["photoType"]) == ("unknown", None, None)
    assert (item["age"], item["location"]) == (None, None)
    # The id in the body named another customer: that one is untouched.
    assert fetch(client, other)["jobTitle"] is None


def test_a_full_get_item_sent_back_changes_only_what_was_edited(
    client: httpx.Client, clock: Clock
) -> None:
    """The PHP and Java clients PUT the whole object they read (spec §13)."""
    clock.freeze(datetime(2019, 5, 6, 7, 8, 9, tzinfo=UTC))
    customer = create(
        client,
        **FULL,
        emails=[{"value": "ann@example.com"}],
        phones=[{"value": "555-0100"}],
        chats=[{"value": "ann", "type": "skype"}],
        socialProfiles=[{"value": "https://twitter.com/ann", "type": "twitter"}],
        websites=[{"value": "https://ann.example.com"}],
        address={
            "lines": ["1 Main St"],
            "city": "Boston",
            "state": "MA",
            "postalCode": "02110",
            "country": "US",
        },
    )
    item = fetch(client, customer)
    before = raw(client, customer)
    clock.advance(60)
    assert_empty(client.put(f"/v1/customers/{customer}.json", json=item), 200)
    assert raw(client, customer) == before
    edited = update(client, customer, {**item, "firstName": "Anna"})
    assert edited == {
        **item,
        "firstName": "Anna",
        "fullName": "Anna Lee",
        "modifiedAt": "2019-05-06T07:09:09Z",
    }


def test_the_recorded_laslabs_update_gets_the_recorded_answer(
    client: httpx.Client, clock: Clock
) -> None:
    """Spec §9.5: every key as before or null, a new firstName, reload in the body."""
    clock.freeze(datetime(2017, 12, 13, 22, 49, 9, tzinfo=UTC))
    customer = create(
        client,
        firstName="Test",
        lastName="User",
        organization="Test Company",
        jobTitle="CEO",
        emails=[{"value": "test@example.com"}],
    )
    item = fetch(client, customer)
    clock.freeze(datetime(2017, 12, 13, 22, 50, 26, tzinfo=UTC))
    body = {
        **dict.fromkeys(item, None),
        "firstName": "A new name",
        "lastName": "User",
        "organization": "Test Company",
        "jobTitle": "CEO",
        "gender": "unknown",
        "fullName": "Test User",
        "type": "user",
        "reload": True,
    }
    del body["id"]
    response = client.put(f"/v1/customers/{customer}.json", json=body)
    assert assert_item(response, 201) == {
        **item,
        "firstName": "A new name",
        "fullName": "A new name User",
        "modifiedAt": "2017-12-13T22:50:26Z",
    }


# -- collections (§10.3)


@pytest.mark.parametrize("name", COLLECTIONS)
def test_an_entry_without_an_id_is_added_with_the_default_label(
    client: httpx.Client, name: str
) -> None:
    customer = create(client, **{name: [{"value": "first-" + SAMPLE_VALUES[name]}]})
    first = fetch(client, customer)[name][0]
    default = DEFAULT_LABELS.get(name)
    added: list[tuple[Any, ...]] = []
    for new_id in ("absent", 0, False, None):
        value = f"{new_id}-{SAMPLE_VALUES[name]}".lower()
        entry: dict[str, Any] = {"value": value}
        if new_id != "absent":
            entry["id"] = new_id
        item = update(client, customer, {name: [entry]})
        added.append((value, default) if default else (value,))
        assert item[name][0] == first
        assert _values(item, name)[1:] == added
        assert ids(item[name]) == sorted(ids(item[name]))


@pytest.mark.parametrize("name", LABELLED)
def test_labels_are_read_in_any_case_and_written_lowercase(client: httpx.Client, name: str) -> None:
    label, spelled = OTHER_LABELS[name]
    customer = create(client)
    item = update(
        client, customer, {name: [{"value": SAMPLE_VALUES[name], LABEL_KEYS[name]: spelled}]}
    )
    assert _values(item, name) == [(SAMPLE_VALUES[name], label)]


@pytest.mark.parametrize("spelled", ["xmmp", "XMMP", "xmpp", " Xmpp "])
def test_the_java_spelling_xmmp_is_xmpp(client: httpx.Client, spelled: str) -> None:
    customer = create(client)
    item = update(client, customer, {"chats": [{"value": "ann@jabber.example", "type": spelled}]})
    assert _values(item, "chats") == [("ann@jabber.example", "xmpp")]


@pytest.mark.parametrize("name", COLLECTIONS)
def test_an_entry_is_updated_by_its_id_keeping_what_is_not_sent(
    client: httpx.Client, name: str
) -> None:
    label = LABEL_KEYS[name]
    first, second = "one-" + SAMPLE_VALUES[name], "two-" + SAMPLE_VALUES[name]
    customer = create(client, **{name: [{"value": first}, {"value": second}]})
    one, two = ids(fetch(client, customer)[name])
    item = update(client, customer, {name: [{"id": one, "value": "new-" + SAMPLE_VALUES[name]}]})
    assert ids(item[name]) == [one, two]
    default = DEFAULT_LABELS.get(name)
    expected = [("new-" + SAMPLE_VALUES[name], default), (second, default)]
    assert _values(item, name) == [e[: 2 if label else 1] for e in expected]
    if label is None:
        return
    other_label = OTHER_LABELS[name][0]
    for partial in (
        {"id": one, label: other_label},
        {"id": one, label: other_label, "value": None},
    ):
        item = update(client, customer, {name: [partial]})
        assert _values(item, name)[0] == ("new-" + SAMPLE_VALUES[name], other_label)
    item = update(client, customer, {name: [{"id": one, "value": None, label: None}]})
    assert _values(item, name)[0] == ("new-" + SAMPLE_VALUES[name], other_label)


@pytest.mark.parametrize("name", COLLECTIONS)
def test_a_negative_id_removes_the_entry(client: httpx.Client, name: str) -> None:
    values = [f"{n}-{SAMPLE_VALUES[name]}" for n in ("a", "b", "c")]
    customer = create(client, **{name: [{"value": v} for v in values]})
    a, b, c = ids(fetch(client, customer)[name])
    item = update(client, customer, {name: [{"id": -b, "value": "ignored"}]})
    assert ids(item[name]) == [a, c]
    item = update(client, customer, {name: [{"id": -a}, {"id": -c}]})
    # socialProfiles, chats and websites come back as null when empty; emails and phones as [].
    assert item[name] == ([] if name in ("emails", "phones") else None)


@pytest.mark.parametrize("name", COLLECTIONS)
def test_one_request_can_add_update_and_remove(client: httpx.Client, name: str) -> None:
    values = [f"{n}-{SAMPLE_VALUES[name]}" for n in ("a", "b", "c")]
    customer = create(client, **{name: [{"value": v} for v in values]})
    a, b, c = ids(fetch(client, customer)[name])
    item = update(
        client,
        customer,
        {
            name: [
                {"value": "d-" + SAMPLE_VALUES[name]},
                {"id": -a},
                {"id": c, "value": "e-" + SAMPLE_VALUES[name]},
            ]
        },
    )
    assert [e["value"] for e in item[name]] == [
        values[1],
        "e-" + SAMPLE_VALUES[name],
        "d-" + SAMPLE_VALUES[name],
    ]
    assert ids(item[name])[:2] == [b, c]


def test_five_thousand_changes_in_one_request_apply_in_order_keeping_ids(
    client: httpx.Client,
) -> None:
    """A large collection changed at once (removals, updates, additions, values it has): the
    same result as a few changes would give, in creation order, ids kept (docs/hardening.md)."""
    customer = create(client, phones=[{"value": f"a{n}"} for n in range(1500)])
    before = fetch(client, customer)["phones"]
    changes: list[dict[str, Any]] = [{"value": f"b{n}"} for n in range(3000)]
    expected: list[tuple[int | None, str, str]] = []
    for n, phone in enumerate(before):
        if n % 3 == 0:
            changes.append({"id": -phone["id"]})
        elif n % 3 == 1:
            changes.append({"id": phone["id"], "location": "home"})
            expected.append((phone["id"], phone["value"], "home"))
        else:
            changes.append({"value": phone["value"], "location": "fax"})  # it has it: an update
            expected.append((phone["id"], phone["value"], "fax"))
    expected += [(None, f"b{n}", "work") for n in range(3000)]
    assert len(changes) >= 4500
    after = update(client, customer, {"phones": changes})["phones"]
    kept = len(expected) - 3000
    assert [
        (p["id"] if n < kept else None, p["value"], p["location"]) for n, p in enumerate(after)
    ] == expected
    new = ids(after)[kept:]
    assert len(set(new)) == 3000 and new == sorted(new) and new[0] > before[-1]["id"]


@pytest.mark.parametrize("name", COLLECTIONS)
@pytest.mark.parametrize("given", ["absent", None, []])
def test_an_omitted_null_or_empty_collection_changes_nothing(
    client: httpx.Client, name: str, given: object
) -> None:
    customer = create(client, **{name: [{"value": SAMPLE_VALUES[name]}]})
    before = raw(client, customer)
    body = {} if given == "absent" else {name: given}
    assert_empty(client.put(f"/v1/customers/{customer}.json", json=body), 200)
    assert raw(client, customer) == before


def test_entries_not_mentioned_are_untouched_in_every_collection(client: httpx.Client) -> None:
    customer = create(client, **{name: [{"value": SAMPLE_VALUES[name]}] for name in COLLECTIONS})
    before = fetch(client, customer)
    item = update(client, customer, {"emails": [{"value": "more@example.com"}]})
    for name in COLLECTIONS:
        if name != "emails":
            assert item[name] == before[name]
    assert item["emails"][0] == before["emails"][0]


def test_adding_an_email_the_customer_has_updates_it_whatever_the_case(
    client: httpx.Client,
) -> None:
    customer = create(client, emails=[{"value": "ann@example.com"}, {"value": "b@example.com"}])
    one, two = ids(fetch(client, customer)["emails"])
    item = update(client, customer, {"emails": [{"value": "ANN@Example.com", "location": "home"}]})
    assert ids(item["emails"]) == [one, two]
    assert _values(item, "emails") == [("ANN@Example.com", "home"), ("b@example.com", "work")]


@pytest.mark.parametrize("name", ["phones", "chats", "socialProfiles", "websites"])
def test_adding_a_value_the_customer_has_updates_that_entry(
    client: httpx.Client, name: str
) -> None:
    customer = create(client, **{name: [{"value": SAMPLE_VALUES[name]}]})
    (one,) = ids(fetch(client, customer)[name])
    label = LABEL_KEYS[name]
    entry = {"value": SAMPLE_VALUES[name], **({label: OTHER_LABELS[name][0]} if label else {})}
    item = update(client, customer, {name: [entry]})
    assert ids(item[name]) == [one]
    if label:
        assert _values(item, name) == [(SAMPLE_VALUES[name], OTHER_LABELS[name][0])]


def test_other_values_are_matched_exactly(client: httpx.Client) -> None:
    customer = create(client, websites=[{"value": "https://Ann.example.com"}])
    item = update(client, customer, {"websites": [{"value": "https://ann.example.com"}]})
    assert _values(item, "websites") == [("https://Ann.example.com",), ("https://ann.example.com",)]


def test_keys_of_other_entry_kinds_are_ignored(client: httpx.Client) -> None:
    """The PHP client sends `type` and `location` on every entry (spec §10.3)."""
    customer = create(client)
    item = update(
        client,
        customer,
        {
            "emails": [{"value": "ann@example.com", "type": "bogus", "location": None}],
            "chats": [{"value": "ann", "location": "bogus", "type": None}],
            "websites": [{"value": "https://ann.example.com", "location": "x", "type": "y"}],
        },
    )
    assert _values(item, "emails") == [("ann@example.com", "work")]
    assert _values(item, "chats") == [("ann", "other")]
    assert _values(item, "websites") == [("https://ann.example.com",)]


@pytest.mark.parametrize("name", LABELLED)
def test_a_label_outside_the_list_is_refused(client: httpx.Client, name: str) -> None:
    customer = create(client, **{name: [{"value": SAMPLE_VALUES[name]}]})
    (entry,) = ids(fetch(client, customer)[name])
    before = raw(client, customer)
    label = LABEL_KEYS[name]
    assert label is not None
    for body in (
        {"value": "x" + SAMPLE_VALUES[name], label: "Office"},
        {"id": entry, label: "Office"},
    ):
        response = client.put(f"/v1/customers/{customer}.json", json={name: [body]})
        assert_invalid(response, (f"{name}:{label}", "Office", "Value is not valid"))
    response = client.put(f"/v1/customers/{customer}.json", json={name: [{"id": entry, label: 7}]})
    assert_invalid(response, (f"{name}:{label}", "7", "Value is not valid"))
    assert raw(client, customer) == before


def test_a_bad_label_is_refused_on_create_too(client: httpx.Client) -> None:
    response = client.post(
        "/v1/customers.json",
        json={
            "firstName": "Ann",
            "lastName": "Lee",
            "emails": [{"value": "ann@example.com", "location": "office"}],
            "phones": [{"value": "555-0100", "location": "cell"}],
            "chats": [{"value": "ann", "type": "whatsapp"}],
            "socialProfiles": [{"value": "https://x.example", "type": "mastodon"}],
        },
    )
    assert_invalid(
        response,
        ("emails:location", "office", "Value is not valid"),
        ("phones:location", "cell", "Value is not valid"),
        ("chats:type", "whatsapp", "Value is not valid"),
        ("socialProfiles:type", "mastodon", "Value is not valid"),
    )


@pytest.mark.parametrize("name", COLLECTIONS)
def test_a_new_entry_needs_a_value(client: httpx.Client, name: str) -> None:
    customer = create(client)
    for value in ("absent", None, "", "  "):
        entry = {} if value == "absent" else {"value": value}
        response = client.put(f"/v1/customers/{customer}.json", json={name: [entry]})
        assert_invalid(response, (f"{name}:value", None, "Value is required"))


@pytest.mark.parametrize("name", COLLECTIONS)
def test_an_entry_value_cannot_be_blanked(client: httpx.Client, name: str) -> None:
    customer = create(client, **{name: [{"value": SAMPLE_VALUES[name]}]})
    (entry,) = ids(fetch(client, customer)[name])
    response = client.put(
        f"/v1/customers/{customer}.json", json={name: [{"id": entry, "value": ""}]}
    )
    assert_invalid(response, (f"{name}:value", None, "Value is required"))
