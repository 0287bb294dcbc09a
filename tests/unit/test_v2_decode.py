"""contract.v2.decode: v2 bodies become domain patches and edits, every problem at once (spec
helpscout-v2-customers.md §3, §4, §8a)."""

from __future__ import annotations

import json
import math
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openscout.contract.v2 import decode, wire
from openscout.domain.changes import AddEntry, CustomerPatch, RemoveEntry, SetAddress, UpdateEntry
from openscout.domain.customers import Collection
from openscout.domain.errors import Malformed, Problem, Reason
from openscout.domain.patch import (
    OWN_FIELDS,
    CustomerEdits,
    DropAddress,
    EditEntry,
    SetAddressField,
    SetField,
)
from openscout.domain.properties import PropertyEdits

EMAILS, PHONES, WEBSITES = Collection.EMAILS, Collection.PHONES, Collection.WEBSITES
INVALID = Reason.INVALID
ADDRESS = {"city": "Prague", "state": "CZ-10", "postalCode": "11000", "country": "CZ"}
ADDRESS_VALUES = {"city": "Prague", "state": "CZ-10", "postal_code": "11000", "country": "CZ"}


def body(document: Any) -> bytes:
    return json.dumps(document).encode()


def create(document: Any) -> CustomerPatch:
    return decode.create_request(body(document))


def overwrite(document: Any) -> CustomerPatch:
    return decode.overwrite_request(body(document))


def patch(*operations: Any) -> CustomerEdits:
    return decode.patch_request(body(list(operations)))


def op(name: str, path: str, *value: Any) -> dict[str, Any]:
    """One patch operation; `value` left out when not given."""
    return {"op": name, "path": path, **({"value": value[0]} if value else {})}


def problem(*path: str, value: object, reason: Reason) -> Problem:
    return Problem(tuple(path), value, reason)


# -- create (§4 "Create Customer") -----------------------------------------------------------------


def test_a_create_reads_own_fields_entries_phone_and_address() -> None:
    result = create(
        {
            "firstName": "Vernon",
            "gender": "Male",
            "photoType": "INSTAGRAM",
            "age": "30-35",
            "location": "Prague",
            "emails": [{"type": "home", "value": "bear@acme.com"}],
            "socialProfiles": [{"type": "twitter", "value": "@me"}],
            "websites": [{"value": "http://home.com"}],
            "phone": "123-123-123",
            "address": {**ADDRESS, "lines": ["1 Main St"]},
        }
    )
    assert result == CustomerPatch(
        fields={
            "first_name": "Vernon",
            "gender": "male",
            "photo_type": "instagram",
            "age": "30-35",
            "location": "Prague",
        },
        address=SetAddress({**ADDRESS_VALUES, "lines": ("1 Main St",)}),
        entries={
            EMAILS: [AddEntry("bear@acme.com", "home")],
            Collection.SOCIAL_PROFILES: [AddEntry("@me", "twitter")],
            WEBSITES: [AddEntry("http://home.com")],
            PHONES: [AddEntry("123-123-123")],
        },
    )


def test_a_create_needs_no_names() -> None:
    assert create({}) == CustomerPatch(fields={}, entries={})


def test_a_create_leaves_null_and_blank_fields_at_their_defaults() -> None:
    assert create({"firstName": None, "gender": "", "jobTitle": "  "}).fields == {}


def test_a_create_ignores_read_only_and_unknown_keys() -> None:
    document = {"id": 5, "organizationId": 35, "draft": True, "conversationCount": 3, "x": 1}
    assert create(document) == CustomerPatch(fields={}, entries={})


def test_an_email_entry_names_its_kind_type_not_location() -> None:
    result = create({"emails": [{"location": "home", "type": "other", "value": "a@b.io"}]})
    assert result.entries == {EMAILS: [AddEntry("a@b.io", "other")]}


def test_a_create_takes_every_entry_as_new_whatever_its_id() -> None:
    # v1's "a negative id skips the entry" is not v2's: the entry was silently dropped.
    entries = [{"id": -7, "value": "a@b.io"}, {"id": 7, "value": "c@d.io"}, {"id": 0, "value": ""}]
    result = create({"emails": entries})
    assert result.entries == {EMAILS: [AddEntry("a@b.io"), AddEntry("c@d.io")]}
    assert result.problems == (problem("emails", "value", value="", reason=Reason.REQUIRED),)


def test_a_create_reports_every_problem_at_once() -> None:
    result = create(
        {
            "firstName": "x" * 41,
            "photoUrl": "u" * 201,
            "gender": "robot",
            "photoType": 3,
            "emails": [{"type": "home", "value": "nope"}, {"type": "pager", "value": "a@b.io"}],
            "phone": "",
            "address": {**ADDRESS, "state": None},
        }
    )
    assert sorted(result.problems, key=repr) == sorted(
        [
            problem("first_name", value="x" * 41, reason=Reason.TOO_LONG),
            problem("photo_url", value="u" * 201, reason=Reason.TOO_LONG),
            problem("gender", value="robot", reason=Reason.INVALID),
            problem("photo_type", value=3, reason=Reason.INVALID),
            problem("emails", "value", value="nope", reason=Reason.NOT_AN_EMAIL),
            problem("emails", "type", value="pager", reason=Reason.INVALID),
            problem("phones", "value", value="", reason=Reason.REQUIRED),
        ],
        key=repr,
    )
    # The incomplete address is the rules' to find, once the address is applied.
    assert result.address == SetAddress({k: v for k, v in ADDRESS_VALUES.items() if k != "state"})


@pytest.mark.parametrize("document", [[], "x", 3, None], ids=repr)
def test_a_create_body_that_is_not_an_object_is_malformed(document: Any) -> None:
    with pytest.raises(Malformed):
        create(document)


def test_a_body_that_is_not_json_is_malformed() -> None:
    with pytest.raises(Malformed):
        decode.create_request(b"{")


# -- overwrite (§4 "Overwrite Customer", §8a.9) ---------------------------------------------


def test_an_overwrite_sets_every_own_field_null_when_left_out() -> None:
    result = overwrite({"firstName": "Vernon", "gender": "Female"})
    assert set(result.fields) == set(OWN_FIELDS)
    assert result.fields["first_name"] == "Vernon"
    assert result.fields["gender"] == "female"
    assert result.fields["last_name"] is None


def test_an_overwrite_clears_a_gender_left_out_to_unknown() -> None:
    assert overwrite({}).fields["gender"] == "unknown"


def test_an_overwrite_ignores_what_the_php_sdk_sends_beside_the_own_fields() -> None:
    """The PHP SDK PUTs the whole customer it holds: ids, entries, address, timestamps."""
    document = {
        "id": 500,
        "firstName": "Vernon",
        "lastName": None,
        "email": "bear@acme.com",
        "phone": "123",
        "emails": [{"id": 1, "value": "bear@acme.com", "type": "home"}],
        "phones": "not even a list",
        "socialProfiles": [{"id": -4}],
        "address": {"city": "Prague"},
        "organizationId": 35,
        "createdAt": "2012-07-23T12:34:12Z",
        "_embedded": {"emails": []},
    }
    result = overwrite(document)
    assert (result.entries, result.address, result.problems) == ({}, None, ())
    assert result.fields["first_name"] == "Vernon"


def test_an_overwrite_reports_bad_own_fields() -> None:
    result = overwrite({"jobTitle": "j" * 61, "photoType": "myspace"})
    assert result.problems == (
        problem("job_title", value="j" * 61, reason=Reason.TOO_LONG),
        problem("photo_type", value="myspace", reason=Reason.INVALID),
    )


# -- patch: fields and the address (§4 "Update Customer") -----------------------------------------


@pytest.mark.parametrize("name", ["add", "replace"])
def test_add_and_replace_set_a_field(name: str) -> None:
    assert patch(op(name, "/jobTitle", "CTO")) == CustomerEdits([SetField("job_title", "CTO")])


def test_remove_clears_a_field() -> None:
    assert patch(op("remove", "/background")).edits == [SetField("background", None)]


def test_replace_with_null_clears_a_field_or_an_address_part() -> None:
    edits = patch(op("replace", "/age", None), op("replace", "/address/lines", None))
    assert edits == CustomerEdits([SetField("age", None), SetAddressField("lines", None)])


def test_an_enumerated_field_is_read_in_any_case() -> None:
    edits = patch(op("replace", "/gender", "FEMALE"), op("replace", "/photoType", "Gravatar"))
    assert edits.edits == [SetField("gender", "female"), SetField("photo_type", "gravatar")]


def test_operations_keep_their_order() -> None:
    edits = patch(op("replace", "/age", "1"), op("replace", "/age", "2"), op("remove", "/age"))
    assert edits.edits == [SetField("age", "1"), SetField("age", "2"), SetField("age", None)]


def test_address_parts_are_set_and_removed() -> None:
    edits = patch(
        op("replace", "/address/city", "Brno"),
        op("add", "/address/postalCode", 60200),
        op("replace", "/address/lines", "1 Main St"),
        op("remove", "/address/state"),
    )
    assert edits.edits == [
        SetAddressField("city", "Brno"),
        SetAddressField("postal_code", "60200"),
        SetAddressField("lines", ("1 Main St",)),
        SetAddressField("state", None),
    ]


def test_the_whole_address_is_set_and_removed() -> None:
    edits = patch(op("replace", "/address", ADDRESS), op("remove", "/address"))
    assert edits.edits == [SetAddress(ADDRESS_VALUES), DropAddress()]


# -- patch: entries --------------------------------------------------------------------------------


def test_add_on_a_collection_appends_an_entry() -> None:
    edits = patch(
        op("add", "/emails", {"type": "work", "value": "a@b.io"}),
        op("add", "/social-profiles", {"value": "@me"}),
        op("add", "/websites", {"value": "http://home.com", "type": "ignored"}),
    )
    assert edits.edits == [
        EditEntry(EMAILS, AddEntry("a@b.io", "work")),
        EditEntry(Collection.SOCIAL_PROFILES, AddEntry("@me")),
        EditEntry(WEBSITES, AddEntry("http://home.com")),
    ]


def test_remove_on_an_entry_path_deletes_it() -> None:
    assert patch(op("remove", "/phones/21")).edits == [EditEntry(PHONES, RemoveEntry(21))]


def test_replace_on_an_entry_path_overwrites_it_type_defaulting() -> None:
    edits = patch(
        op("replace", "/emails/11", {"value": "a@b.io"}),
        op("add", "/chats/31", {"value": "ann", "type": "skype"}),
    )
    assert edits.edits == [
        EditEntry(EMAILS, UpdateEntry(11, "a@b.io", "work")),
        EditEntry(Collection.CHATS, UpdateEntry(31, "ann", "skype")),
    ]


def test_an_entry_value_and_type_are_replaced_alone() -> None:
    edits = patch(
        op("replace", "/emails/11/value", "a@b.io"),
        op("replace", "/emails/11/type", "Home"),
        op("remove", "/phones/21/type"),
    )
    assert edits.edits == [
        EditEntry(EMAILS, UpdateEntry(11, value="a@b.io")),
        EditEntry(EMAILS, UpdateEntry(11, label="home")),
        EditEntry(PHONES, UpdateEntry(21, label="work")),
    ]


def test_a_json_pointer_is_unescaped() -> None:
    assert patch(op("replace", "/first~4Name", "x")).problems  # not a field after all
    assert patch(op("replace", "/social-profiles/4/value", "@me")).edits == [
        EditEntry(Collection.SOCIAL_PROFILES, UpdateEntry(4, value="@me"))
    ]


def test_an_entry_with_a_refused_value_still_has_its_id_checked() -> None:
    result = patch(op("replace", "/emails/11", {"value": "nope"}))
    assert result.edits == [EditEntry(EMAILS, UpdateEntry(11))]
    assert result.problems == (
        problem("emails", "value", value="nope", reason=Reason.NOT_AN_EMAIL),
    )


# -- patch: the document and its problems ---------------------------------------------------


def test_a_single_operation_object_is_a_one_operation_array() -> None:
    result = decode.patch_request(body(op("replace", "/age", "40")))
    assert result.edits == [SetField("age", "40")]


def test_an_empty_array_edits_nothing() -> None:
    assert patch() == CustomerEdits([])


@pytest.mark.parametrize("document", ["x", 3, None, True], ids=repr)
def test_a_patch_body_that_is_neither_array_nor_object_is_malformed(document: Any) -> None:
    with pytest.raises(Malformed):
        decode.patch_request(body(document))


BAD_OPERATIONS = [
    ("x", problem("0", value="x", reason=Reason.INVALID)),
    ({"path": "/age", "value": "1"}, problem("0", "op", value=None, reason=Reason.REQUIRED)),
    (op("move", "/age", "1"), problem("0", "op", value="move", reason=Reason.INVALID)),
    (op("ADD", "/age", "1"), problem("0", "op", value="ADD", reason=Reason.INVALID)),
    ({"op": "add", "value": "1"}, problem("0", "path", value=None, reason=Reason.REQUIRED)),
    (op("add", "age", "1"), problem("0", "path", value="age", reason=Reason.INVALID)),
    (op("add", 3, "1"), problem("0", "path", value=3, reason=Reason.INVALID)),
    (op("replace", "/age"), problem("0", "value", value=None, reason=Reason.REQUIRED)),
]
#: Paths that name nothing the operation can change.
BAD_PATHS = [
    op("replace", "/fullName", "x"),
    op("replace", "/id", 3),
    op("replace", "/organizationId", 3),
    op("replace", "/address/zip", "1"),
    op("remove", "/emails"),
    op("replace", "/emails", []),
    op("remove", "/emails/0"),
    op("remove", "/emails/-3"),
    op("remove", "/emails/x"),
    op("remove", "/emails/99999999999"),
    op("remove", "/emails/3/value"),
    op("replace", "/websites/3/type", "x"),
    op("replace", "/emails/3/id", 4),
    op("replace", "/emails/3/value/x", "a@b.io"),
    op("replace", "/socialProfiles/3", {}),
]
BAD_VALUES = [
    ("/gender", "robot", problem("gender", value="robot", reason=Reason.INVALID)),
    ("/firstName", "x" * 41, problem("first_name", value="x" * 41, reason=Reason.TOO_LONG)),
    ("/lastName", "a\x00b", problem("last_name", value="a\x00b", reason=Reason.INVALID)),
    ("/address/city", 3.5, problem("address", "city", value=3.5, reason=Reason.INVALID)),
    ("/address", "Prague", problem("address", value="Prague", reason=Reason.INVALID)),
    ("/emails/3", "a@b.io", problem("emails", value="a@b.io", reason=Reason.INVALID)),
    ("/emails/3", {"type": "home"}, problem("emails", "value", value=None, reason=Reason.REQUIRED)),
    ("/phones/3", {"value": "1", "type": 7}, problem("phones", "type", value=7, reason=INVALID)),
    ("/chats/3/value", "", problem("chats", "value", value="", reason=Reason.REQUIRED)),
    ("/chats/3/type", "icqq", problem("chats", "type", value="icqq", reason=Reason.INVALID)),
]  # fmt: skip


@pytest.mark.parametrize(("operation", "found"), BAD_OPERATIONS, ids=repr)
def test_every_malformed_operation_is_reported(operation: Any, found: Problem) -> None:
    assert decode.patch_request(body([operation])) == CustomerEdits([], (found,))


@pytest.mark.parametrize("operation", BAD_PATHS, ids=lambda operation: operation["path"])
def test_a_path_that_names_nothing_the_operation_changes_is_reported(operation: Any) -> None:
    found = problem("0", "path", value=operation["path"], reason=Reason.INVALID)
    assert decode.patch_request(body([operation])) == CustomerEdits([], (found,))


@pytest.mark.parametrize(("path", "value", "found"), BAD_VALUES, ids=repr)
def test_a_refused_value_is_reported_as_the_field_it_was_for(
    path: str, value: Any, found: Problem
) -> None:
    result = patch(op("replace", path, value))
    assert result.problems == (found,)
    # A refused entry still has its id checked (an update that changes nothing); else no edit.
    if path.count("/") == 2 and not path.startswith("/address"):
        assert result.edits == [EditEntry(Collection(found.path[0]), UpdateEntry(3))]
    else:
        assert result.edits == []


def test_every_problem_of_a_document_is_reported_with_its_operation() -> None:
    result = patch(op("replace", "/age", "1"), op("copy", "/age"), op("remove", "/nope"))
    assert result.edits == [SetField("age", "1")]
    assert result.problems == (
        problem("1", "op", value="copy", reason=Reason.INVALID),
        problem("2", "path", value="/nope", reason=Reason.INVALID),
    )


# -- entry and address sub-resources (§4) ---------------------------------------------------


def test_an_entry_post_adds_an_entry() -> None:
    result = decode.entry_request(PHONES, body({"type": "mobile", "value": "555"}))
    assert result == CustomerEdits([EditEntry(PHONES, AddEntry("555", "mobile"))])


def test_an_entry_put_overwrites_the_entry() -> None:
    result = decode.entry_request(PHONES, body({"value": "555"}), entry_id=21)
    assert result.edits == [EditEntry(PHONES, UpdateEntry(21, "555", "work"))]


def test_an_entry_body_with_problems_reports_them() -> None:
    result = decode.entry_request(EMAILS, body({"type": "pager"}))
    assert result.edits == []
    assert set(result.problems) == {
        problem("emails", "value", value=None, reason=Reason.REQUIRED),
        problem("emails", "type", value="pager", reason=Reason.INVALID),
    }


def test_an_entry_delete_removes_the_entry() -> None:
    assert decode.entry_removal(EMAILS, 11).edits == [EditEntry(EMAILS, RemoveEntry(11))]


def test_an_address_body_becomes_the_whole_address() -> None:
    assert decode.address_request(body(ADDRESS)).edits == [SetAddress(ADDRESS_VALUES)]


def test_an_address_body_with_problems_reports_them() -> None:
    result = decode.address_request(body({**ADDRESS, "city": ["x"]}))
    assert (result.edits, result.problems) == (
        [],
        (problem("address", "city", value=["x"], reason=Reason.INVALID),),
    )


def test_an_address_delete_drops_the_address() -> None:
    assert decode.address_removal().edits == [DropAddress()]


@pytest.mark.parametrize("document", [[], "x", None], ids=repr)
def test_a_sub_resource_body_that_is_not_an_object_is_malformed(document: Any) -> None:
    with pytest.raises(Malformed):
        decode.entry_request(EMAILS, body(document))
    with pytest.raises(Malformed):
        decode.address_request(body(document))


# -- whatever a client sends ----------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(["/emails", "/emails/1", "/emails/1/type", "/address/city", "add", "home"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["op", "path", "value", "type", "city", "x"]), inner),
    ),
    max_leaves=10,
)
operations = st.fixed_dictionaries(
    {},
    optional={
        "op": st.one_of(st.sampled_from(wire.OPERATIONS), values),
        "path": st.one_of(
            st.sampled_from(
                [
                    "/firstName",
                    "/gender",
                    "/address",
                    "/address/lines",
                    "/emails",
                    "/social-profiles/4",
                    "/phones/2/value",
                    "/chats/3/type",
                    "/websites/5/type",
                ]
            ),
            values,
        ),
        "value": values,
    },
)
DECODERS = [
    decode.create_request,
    decode.overwrite_request,
    decode.patch_request,
    decode.properties_request,
    decode.address_request,
    lambda raw: decode.entry_request(EMAILS, raw),
    lambda raw: decode.entry_request(WEBSITES, raw, entry_id=5),
]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    document=st.one_of(values, st.lists(operations, max_size=4), operations),
    index=st.integers(0, len(DECODERS) - 1),
)
def test_any_json_is_decoded_or_malformed_and_its_problems_render(
    document: Any, index: int
) -> None:
    try:
        result = DECODERS[index](body(document))
    except Malformed:
        return
    assert isinstance(result, CustomerPatch | CustomerEdits | PropertyEdits)
    rendered = wire.validation_body("ref", result.problems)
    assert len(rendered["_embedded"]["errors"]) == len(result.problems)
    assert math.isfinite(len(msgspec.json.encode(rendered)))
