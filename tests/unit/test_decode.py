"""contract.v1.decode: v1 request bodies become domain patches (spec §10, §11)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from openscout.contract.v1 import decode
from openscout.domain.changes import (
    AddEntry,
    CustomerPatch,
    RemoveAddress,
    RemoveEntry,
    SetAddress,
    UpdateAddress,
    UpdateEntry,
)
from openscout.domain.customers import Collection
from openscout.domain.errors import Malformed, Problem, Reason

NAMES = {"firstName": "Ann", "lastName": "Lee"}


def body(document: Any) -> bytes:
    return json.dumps(document).encode()


def create(document: Any, query_reload: str | None = None) -> decode.WriteRequest:
    return decode.create_request(body(document), query_reload)


def update(document: Any, query_reload: str | None = None) -> decode.WriteRequest:
    return decode.update_request(body(document), query_reload)


def update_patch(document: Any) -> CustomerPatch:
    return update(document).patch


def create_patch(document: Any) -> CustomerPatch:
    return create({**NAMES, **document}).patch


def problems(patch: CustomerPatch) -> list[Problem]:
    return sorted(patch.problems, key=repr)


def problem(*path: str, value: object, reason: Reason) -> Problem:
    return Problem(tuple(path), value, reason)


# -- reload (§11) --------------------------------------------------------------------------------

TRUE_IN_BODY = [True, "true", "TRUE", "True", 1, "1"]
FALSE_IN_BODY = [False, "false", 0, "0", None, "", "no", [], {}]


@pytest.mark.parametrize("value", TRUE_IN_BODY, ids=repr)
@pytest.mark.parametrize("read", [create, update], ids=["create", "update"])
def test_reload_in_the_body_says_yes(read: Any, value: object) -> None:
    assert read({**NAMES, "reload": value}).reload is True


@pytest.mark.parametrize("value", FALSE_IN_BODY, ids=repr)
@pytest.mark.parametrize("read", [create, update], ids=["create", "update"])
def test_reload_in_the_body_says_no(read: Any, value: object) -> None:
    assert read({**NAMES, "reload": value}).reload is False


@pytest.mark.parametrize("value", ["true", "TRUE", "True", "1"])
@pytest.mark.parametrize("read", [create, update], ids=["create", "update"])
def test_reload_in_the_query_says_yes(read: Any, value: str) -> None:
    assert read(NAMES, value).reload is True


@pytest.mark.parametrize("value", ["false", "0", "", "yes", "2", None])
@pytest.mark.parametrize("read", [create, update], ids=["create", "update"])
def test_reload_in_the_query_says_no(read: Any, value: str | None) -> None:
    assert read(NAMES, value).reload is False


def test_either_place_saying_yes_is_enough() -> None:
    assert update({"reload": False}, "true").reload is True
    assert update({"reload": True}, "false").reload is True
    assert update({}).reload is False


@pytest.mark.parametrize("value", TRUE_IN_BODY, ids=repr)
def test_reload_beside_or_inside_the_customer_wrapper_says_yes(value: object) -> None:
    assert update({"customer": {"firstName": "Bo"}, "reload": value}).reload is True
    assert update({"customer": {"firstName": "Bo", "reload": value}}).reload is True


def test_the_customer_wrapper_is_unwrapped() -> None:
    request = create({"customer": {**NAMES, "organization": "Acme"}, "firstName": "Outer"})
    assert request.patch == CustomerPatch(
        fields={"first_name": "Ann", "last_name": "Lee", "organization": "Acme"}
    )


def test_reload_is_not_a_customer_field() -> None:
    assert update({"reload": True}).patch == CustomerPatch()


# -- the customer's own fields (§10.1, §10.2) -----------------------------------------------


def test_absent_and_null_fields_are_left_out_and_blank_ones_clear() -> None:
    patch = update_patch(
        {"firstName": None, "organization": "", "jobTitle": "  ", "background": "B"}
    )
    assert patch == CustomerPatch(
        fields={"organization": None, "job_title": None, "background": "B"}
    )


def test_every_writable_field_is_read_under_its_v1_name() -> None:
    patch = update_patch(
        {"firstName": "A", "lastName": "B", "organization": "C", "jobTitle": "D", "background": "E"}
    )
    assert patch.fields == {
        "first_name": "A",
        "last_name": "B",
        "organization": "C",
        "job_title": "D",
        "background": "E",
    }


def test_read_only_enrichment_and_unknown_keys_are_ignored() -> None:
    """LasLabs sends every model key on every write; v1 writes none of these (§10.1)."""
    ignored = {
        "id": 5,
        "fullName": "X Y",
        "createdAt": "2017-09-23T20:12:43Z",
        "modifiedAt": "2017-09-23T20:12:43Z",
        "gender": "male",
        "location": "Boston",
        "photoUrl": "https://example.com/a.png",
        "photoType": "gravatar",
        "age": "35",
        "type": "user",
        "customerPersonType": None,
        "email": "x@example.com",
        "phone": "555",
    }
    assert update_patch(ignored) == CustomerPatch()
    assert create({**NAMES, **ignored}).patch == CustomerPatch(
        fields={"first_name": "Ann", "last_name": "Lee"}
    )


@pytest.mark.parametrize("name", ["firstName", "lastName"])
def test_a_create_needs_both_names(name: str) -> None:
    domain = {"firstName": "first_name", "lastName": "last_name"}[name]
    without = {key: value for key, value in NAMES.items() if key != name}
    assert create(without).patch.problems == (problem(domain, value=None, reason=Reason.REQUIRED),)
    assert create({**without, name: None}).patch.problems == (
        problem(domain, value=None, reason=Reason.REQUIRED),
    )
    assert create({**without, name: " "}).patch.problems == (
        problem(domain, value=" ", reason=Reason.REQUIRED),
    )


def test_an_update_needs_no_names() -> None:
    assert update_patch({"organization": "Acme"}) == CustomerPatch(fields={"organization": "Acme"})


@pytest.mark.parametrize(
    ("name", "domain", "limit"),
    [
        ("firstName", "first_name", 40),
        ("lastName", "last_name", 40),
        ("organization", "organization", 60),
        ("jobTitle", "job_title", 60),
        ("background", "background", 200),
    ],
)
def test_fields_longer_than_v2s_limits_are_refused(name: str, domain: str, limit: int) -> None:
    assert update_patch({name: "é" * limit}) == CustomerPatch(fields={domain: "é" * limit})
    too_long = "é" * (limit + 1)
    assert update_patch({name: too_long}).problems == (
        problem(domain, value=too_long, reason=Reason.TOO_LONG),
    )


@pytest.mark.parametrize("value", [5, 1.5, True, False, ["Ann"], {"a": "b"}], ids=repr)
def test_a_field_of_the_wrong_type_is_reported_with_its_value(value: object) -> None:
    patch = update_patch({"firstName": value, "organization": "Acme"})
    assert patch.problems == (problem("first_name", value=value, reason=Reason.INVALID),)
    assert patch.fields == {"organization": "Acme"}


def test_nul_characters_are_refused_everywhere() -> None:
    patch = update_patch(
        {
            "firstName": "A\x00n",
            "emails": [{"value": "a\x00@example.com"}],
            "address": {"id": 3, "city": "Bos\x00ton"},
        }
    )
    assert problems(patch) == sorted(
        [
            problem("first_name", value="A\x00n", reason=Reason.INVALID),
            problem("emails", "value", value="a\x00@example.com", reason=Reason.INVALID),
            problem("address", "city", value="Bos\x00ton", reason=Reason.INVALID),
        ],
        key=repr,
    )


def test_an_escaped_nul_character_is_refused_too() -> None:
    patch = decode.update_request(b'{"lastName": "a\\u0000b"}', None).patch
    assert patch == CustomerPatch(
        problems=(problem("last_name", value="a\x00b", reason=Reason.INVALID),)
    )


def test_every_problem_of_a_request_is_reported_together() -> None:
    patch = create(
        {
            "lastName": "x" * 41,
            "jobTitle": 7,
            "emails": [{"value": "nope"}, {"value": "ok@example.com", "location": "moon"}],
            "address": {"city": 12},
        }
    ).patch
    assert problems(patch) == sorted(
        [
            problem("first_name", value=None, reason=Reason.REQUIRED),
            problem("last_name", value="x" * 41, reason=Reason.TOO_LONG),
            problem("job_title", value=7, reason=Reason.INVALID),
            problem("emails", "value", value="nope", reason=Reason.NOT_AN_EMAIL),
            problem("emails", "location", value="moon", reason=Reason.INVALID),
            problem("address", "city", value=12, reason=Reason.INVALID),
        ],
        key=repr,
    )


# -- entry ids on update (§10.3) --------------------------------------------------------------


@pytest.mark.parametrize("entry", [{}, {"id": 0}, {"id": False}, {"id": None}], ids=repr)
def test_an_entry_without_a_positive_or_negative_id_is_new(entry: dict[str, Any]) -> None:
    patch = update_patch({"emails": [{**entry, "value": "ann@example.com"}]})
    assert patch == CustomerPatch(entries={Collection.EMAILS: [AddEntry("ann@example.com")]})


def test_a_positive_id_updates_that_entry() -> None:
    patch = update_patch({"phones": [{"id": 21, "value": "555-0101", "location": "home"}]})
    assert patch.entries == {Collection.PHONES: [UpdateEntry(21, "555-0101", "home")]}


def test_an_update_without_value_or_label_keeps_them() -> None:
    patch = update_patch({"chats": [{"id": 31, "value": None}, {"id": 32, "type": None}]})
    assert patch.entries == {Collection.CHATS: [UpdateEntry(31), UpdateEntry(32)]}


def test_a_negative_id_removes_the_entry_and_ignores_the_rest() -> None:
    patch = update_patch({"websites": [{"id": -51, "value": None}, {"id": -52, "value": 7}]})
    assert patch == CustomerPatch(entries={Collection.WEBSITES: [RemoveEntry(51), RemoveEntry(52)]})


@pytest.mark.parametrize("value", ["12", 1.5, 0.0, True, [12], {"id": 1}], ids=repr)
def test_an_id_that_is_not_an_integer_is_refused(value: object) -> None:
    patch = update_patch({"emails": [{"id": value, "value": "ann@example.com"}]})
    assert patch == CustomerPatch(
        problems=(problem("emails", "id", value=value, reason=Reason.INVALID),)
    )


def test_huge_integers_are_ids_like_any_other() -> None:
    """They name no entry, which the rules report; the decoder must not choke on them."""
    huge = 10**30
    patch = update_patch({"emails": [{"id": huge, "value": "a@example.com"}, {"id": -huge}]})
    assert patch.entries == {
        Collection.EMAILS: [UpdateEntry(huge, "a@example.com"), RemoveEntry(huge)]
    }


def test_entries_are_read_in_every_collection_under_their_v1_names() -> None:
    patch = update_patch(
        {
            "emails": [{"value": "a@example.com"}],
            "phones": [{"value": "555"}],
            "chats": [{"value": "ann"}],
            "socialProfiles": [{"value": "https://twitter.com/ann"}],
            "websites": [{"value": "https://ann.example"}],
        }
    )
    assert patch.entries == {
        Collection.EMAILS: [AddEntry("a@example.com")],
        Collection.PHONES: [AddEntry("555")],
        Collection.CHATS: [AddEntry("ann")],
        Collection.SOCIAL_PROFILES: [AddEntry("https://twitter.com/ann")],
        Collection.WEBSITES: [AddEntry("https://ann.example")],
    }


@pytest.mark.parametrize("value", [None, []], ids=repr)
def test_a_null_or_empty_collection_changes_nothing(value: object) -> None:
    names = ("emails", "phones", "chats", "socialProfiles", "websites")
    assert update_patch(dict.fromkeys(names, value)) == CustomerPatch()


# -- entries on create (§9.4) ---------------------------------------------------------------


def test_on_create_entry_ids_are_ignored_and_negative_ones_skipped() -> None:
    patch = create_patch(
        {
            "emails": [
                {"id": 5, "value": "a@example.com"},
                {"id": -6, "value": "b@example.com"},
                {"id": "x", "value": "c@example.com"},
                {"id": 10**30, "value": "d@example.com"},
                {"id": -(10**30), "value": "e@example.com"},
            ]
        }
    )
    assert patch.problems == ()
    assert patch.entries == {
        Collection.EMAILS: [
            AddEntry("a@example.com"),
            AddEntry("c@example.com"),
            AddEntry("d@example.com"),
        ]
    }


def test_on_create_an_entry_needs_a_value() -> None:
    patch = create_patch({"phones": [{"location": "home"}, {"value": " "}, {"value": None}]})
    assert patch.problems == (
        problem("phones", "value", value=None, reason=Reason.REQUIRED),
        problem("phones", "value", value=" ", reason=Reason.REQUIRED),
        problem("phones", "value", value=None, reason=Reason.REQUIRED),
    )
    assert patch.entries == {}


def test_on_update_a_blank_value_is_refused_but_the_id_still_goes_to_the_rules() -> None:
    patch = update_patch({"emails": [{"id": 11, "value": ""}]})
    assert patch == CustomerPatch(
        entries={Collection.EMAILS: [UpdateEntry(11)]},
        problems=(problem("emails", "value", value="", reason=Reason.REQUIRED),),
    )


# -- labels (§8.3) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "collection", "key", "sent", "read"),
    [
        ("emails", Collection.EMAILS, "location", "HOME", "home"),
        ("emails", Collection.EMAILS, "location", " Other ", "other"),
        ("phones", Collection.PHONES, "location", "Mobile", "mobile"),
        ("phones", Collection.PHONES, "location", "pager", "pager"),
        ("chats", Collection.CHATS, "type", "Skype", "skype"),
        ("chats", Collection.CHATS, "type", "xmpp", "xmpp"),
        ("chats", Collection.CHATS, "type", "xmmp", "xmpp"),
        ("chats", Collection.CHATS, "type", "XMMP", "xmpp"),
        ("socialProfiles", Collection.SOCIAL_PROFILES, "type", "LinkedIn", "linkedin"),
        ("socialProfiles", Collection.SOCIAL_PROFILES, "type", "tungleme", "tungleme"),
    ],
)
def test_labels_are_read_without_case_and_stored_lowercase(
    name: str, collection: Collection, key: str, sent: str, read: str
) -> None:
    value = "ann@example.com" if collection is Collection.EMAILS else "ann"
    patch = update_patch({name: [{"value": value, key: sent}]})
    assert patch == CustomerPatch(entries={collection: [AddEntry(value, read)]})


@pytest.mark.parametrize(
    ("name", "key", "sent"),
    [
        ("emails", "location", "mobile"),
        ("phones", "location", "cell"),
        ("chats", "type", "whatsapp"),
        ("socialProfiles", "type", "xmmp"),
        ("socialProfiles", "type", "myspace"),
        ("phones", "location", 3),
        ("chats", "type", ["aim"]),
    ],
)
def test_a_label_outside_v1s_lists_is_refused(name: str, key: str, sent: object) -> None:
    value = "ann@example.com" if name == "emails" else "ann"
    domain = "social_profiles" if name == "socialProfiles" else name
    patch = update_patch({name: [{"value": value, key: sent}]})
    assert patch == CustomerPatch(
        problems=(problem(domain, key, value=sent, reason=Reason.INVALID),)
    )


@pytest.mark.parametrize("label", [None, "", "  "], ids=repr)
def test_a_blank_label_gets_the_default_on_a_new_entry_and_keeps_on_an_update(
    label: object,
) -> None:
    patch = update_patch(
        {"emails": [{"value": "a@example.com", "location": label}, {"id": 12, "location": label}]}
    )
    assert patch.entries == {Collection.EMAILS: [AddEntry("a@example.com"), UpdateEntry(12)]}


def test_keys_that_belong_to_another_entry_kind_are_ignored() -> None:
    """The PHP client sends `type` and `location` on every entry (§10.3)."""
    patch = update_patch(
        {
            "emails": [{"value": "a@example.com", "type": "aim", "location": "home"}],
            "chats": [{"value": "ann", "location": "moon", "type": "aim"}],
            "websites": [{"value": "https://ann.example", "location": "work", "type": "blog"}],
        }
    )
    assert patch == CustomerPatch(
        entries={
            Collection.EMAILS: [AddEntry("a@example.com", "home")],
            Collection.CHATS: [AddEntry("ann", "aim")],
            Collection.WEBSITES: [AddEntry("https://ann.example")],
        }
    )


# -- entry values ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["ann@example.com", "ANN+tag@Example.co.uk", "o'brien@mail.example", "a@b.c"],
)
def test_email_addresses_are_taken_as_written(value: str) -> None:
    assert update_patch({"emails": [{"value": value}]}).entries == {
        Collection.EMAILS: [AddEntry(value)]
    }


@pytest.mark.parametrize(
    "value",
    [
        "nope",
        "@example.com",
        "ann@",
        "ann@localhost",
        "ann@exa mple.com",
        "a@b@c.com",
        "ann@x.com.",
        "ann@x\u200b.com",
        "ann\u00ad@x.com",
    ],
)
def test_values_that_are_not_email_addresses_are_refused(value: str) -> None:
    assert update_patch({"emails": [{"value": value}]}) == CustomerPatch(
        problems=(problem("emails", "value", value=value, reason=Reason.NOT_AN_EMAIL),)
    )


def test_entry_values_up_to_255_characters_are_taken() -> None:
    fits, too_long = "1" * 255, "1" * 256
    patch = update_patch({"phones": [{"value": fits}, {"value": too_long}]})
    assert patch == CustomerPatch(
        entries={Collection.PHONES: [AddEntry(fits)]},
        problems=(problem("phones", "value", value=too_long, reason=Reason.TOO_LONG),),
    )


@pytest.mark.parametrize("value", [555, True, ["555"], {"n": 5}], ids=repr)
def test_an_entry_value_of_the_wrong_type_is_refused(value: object) -> None:
    patch = update_patch({"phones": [{"value": value}]})
    assert patch == CustomerPatch(
        problems=(problem("phones", "value", value=value, reason=Reason.INVALID),)
    )


@pytest.mark.parametrize("value", ["ann@example.com", 5, True, {"value": "x"}], ids=repr)
def test_a_collection_that_is_not_a_list_is_refused(value: object) -> None:
    assert update_patch({"socialProfiles": value}) == CustomerPatch(
        problems=(problem("social_profiles", value=value, reason=Reason.INVALID),)
    )


@pytest.mark.parametrize("value", ["ann@example.com", 5, None, ["x"]], ids=repr)
def test_an_entry_that_is_not_an_object_is_refused(value: object) -> None:
    patch = update_patch({"emails": [value, {"value": "ok@example.com"}]})
    assert patch == CustomerPatch(
        entries={Collection.EMAILS: [AddEntry("ok@example.com")]},
        problems=(problem("emails", value=value, reason=Reason.INVALID),),
    )


# -- the address (§10.5) -------------------------------------------------------------------------

FULL_ADDRESS = {
    "lines": ["1 Main St", "Suite 2"],
    "city": "Boston",
    "state": "MA",
    "postalCode": "02110",
    "country": "US",
}
FULL_VALUES = {
    "lines": ("1 Main St", "Suite 2"),
    "city": "Boston",
    "state": "MA",
    "postal_code": "02110",
    "country": "US",
}


@pytest.mark.parametrize("address_id", [None, 0, False], ids=repr)
def test_an_address_without_an_id_sets_the_address(address_id: object) -> None:
    patch = update_patch({"address": {**FULL_ADDRESS, "id": address_id}})
    assert patch == CustomerPatch(address=SetAddress(FULL_VALUES))


def test_an_address_with_an_id_updates_the_fields_it_names() -> None:
    patch = update_patch({"address": {"id": 61, "city": "Cambridge", "state": None}})
    assert patch == CustomerPatch(address=UpdateAddress(61, {"city": "Cambridge"}))


def test_a_blank_address_field_clears_it() -> None:
    patch = update_patch({"address": {"id": 61, "state": "", "lines": []}})
    assert patch == CustomerPatch(address=UpdateAddress(61, {"state": None, "lines": ()}))


def test_an_address_with_a_negative_id_removes_it() -> None:
    assert update_patch({"address": {"id": -61, "city": "x"}}) == CustomerPatch(
        address=RemoveAddress(61)
    )


def test_on_create_an_address_id_is_ignored() -> None:
    patch = create_patch({"address": {**FULL_ADDRESS, "id": 61}})
    assert patch.address == SetAddress(FULL_VALUES)
    assert patch.problems == ()


@pytest.mark.parametrize("value", [None, {}], ids=repr)
def test_a_null_address_changes_nothing_but_an_empty_object_sets_one(value: object) -> None:
    expected = None if value is None else SetAddress({})
    assert update_patch({"address": value}) == CustomerPatch(address=expected)


@pytest.mark.parametrize("value", ["1 Main St", 5, ["1 Main St"]], ids=repr)
def test_an_address_that_is_not_an_object_is_refused(value: object) -> None:
    assert update_patch({"address": value}) == CustomerPatch(
        problems=(problem("address", value=value, reason=Reason.INVALID),)
    )


@pytest.mark.parametrize("value", ["61", 6.1, True], ids=repr)
def test_an_address_id_that_is_not_an_integer_is_refused(value: object) -> None:
    assert update_patch({"address": {"id": value, "city": "Boston"}}) == CustomerPatch(
        problems=(problem("address", "id", value=value, reason=Reason.INVALID),)
    )


def test_the_misspelt_postcal_code_is_read_as_postal_code() -> None:
    """Help Scout's own update example sends `postcalCode` (§10.5)."""
    patch = update_patch({"address": {"id": 61, "postcalCode": "02139"}})
    assert patch == CustomerPatch(address=UpdateAddress(61, {"postal_code": "02139"}))


def test_postal_code_wins_over_its_misspelling() -> None:
    patch = update_patch({"address": {"id": 61, "postalCode": "1", "postcalCode": "2"}})
    assert patch == CustomerPatch(address=UpdateAddress(61, {"postal_code": "1"}))


def test_a_numeric_postal_code_is_taken_as_text() -> None:
    patch = update_patch({"address": {"id": 61, "postalCode": 74206}})
    assert patch == CustomerPatch(address=UpdateAddress(61, {"postal_code": "74206"}))


def test_a_single_string_is_one_line_and_blank_lines_are_dropped() -> None:
    patch = update_patch({"address": {"id": 61, "lines": "1 Main St"}})
    assert patch == CustomerPatch(address=UpdateAddress(61, {"lines": ("1 Main St",)}))
    patch = update_patch({"address": {"id": 61, "lines": ["", "2 Elm St", "  "]}})
    assert patch == CustomerPatch(address=UpdateAddress(61, {"lines": ("2 Elm St",)}))


@pytest.mark.parametrize(
    ("lines", "value"), [(5, 5), ({"a": 1}, {"a": 1}), (["ok", 7], 7)], ids=repr
)
def test_lines_of_the_wrong_type_are_refused(lines: object, value: object) -> None:
    patch = update_patch({"address": {"id": 61, "lines": lines, "city": "Boston"}})
    assert patch.problems == (problem("address", "lines", value=value, reason=Reason.INVALID),)


def test_a_refused_field_of_an_address_update_still_sends_the_id_to_the_rules() -> None:
    patch = update_patch({"address": {"id": 61, "city": "x" * 256, "state": "MA"}})
    assert patch == CustomerPatch(
        address=UpdateAddress(61, {"state": "MA"}),
        problems=(problem("address", "city", value="x" * 256, reason=Reason.TOO_LONG),),
    )


@pytest.mark.parametrize("name", ["city", "state", "country"])
def test_address_fields_of_the_wrong_type_are_refused(name: str) -> None:
    patch = update_patch({"address": {"id": 61, name: 7}})
    assert patch.problems == (problem("address", name, value=7, reason=Reason.INVALID),)


def test_address_read_only_timestamps_are_ignored() -> None:
    patch = update_patch(
        {"address": {"id": 61, "createdAt": "2017-01-01T00:00:00Z", "modifiedAt": None}}
    )
    assert patch == CustomerPatch(address=UpdateAddress(61, {}))


# -- bodies that are not a JSON object ---------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   ",
        b"{",
        b'{"firstName": "Ann",}',
        b"{}x",
        b"[]",
        b'[{"firstName": "Ann"}]',
        b"null",
        b'"Ann"',
        b"12",
        b"true",
        b"\xff\xfe{}",
        b'{"firstName": "\xff"}',
        b'{"firstName": "\xed\xa0\x80"}',
        b'{"firstName": "\\ud800"}',
        b"{'firstName': 'Ann'}",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    ],
    ids=lambda raw: repr(raw[:24]),
)
@pytest.mark.parametrize(
    "read", [decode.create_request, decode.update_request], ids=["create", "update"]
)
def test_a_body_that_is_not_a_json_object_is_malformed(read: Any, raw: bytes) -> None:
    with pytest.raises(Malformed):
        read(raw, None)


def test_white_space_around_the_object_is_fine() -> None:
    assert decode.update_request(b'  \n{"firstName": "Ann"}\n ', None).patch == CustomerPatch(
        fields={"first_name": "Ann"}
    )


def test_escaped_text_is_read_as_the_text_it_stands_for() -> None:
    patch = decode.update_request(b'{"firstName": "Z\\u00fcrich \\"Z\\""}', None).patch
    assert patch == CustomerPatch(fields={"first_name": 'Zürich "Z"'})
