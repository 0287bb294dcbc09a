"""v1 field selectors (spec §5): reading `fields` and trimming answers by it."""

from __future__ import annotations

from typing import Any

import pytest

from openscout.contract.v1 import fields, query, wire
from openscout.domain.errors import Invalid, Problem, Reason


@pytest.mark.parametrize(
    ("text", "selector"),
    [
        ("id", {"id": None}),
        ("id,firstName", {"id": None, "firstName": None}),
        (" id , firstName ", {"id": None, "firstName": None}),
        ("emails:(value)", {"emails": {"value": None}}),
        ("id,emails:(value,location)", {"id": None, "emails": {"value": None, "location": None}}),
        ("address : ( city , lines )", {"address": {"city": None, "lines": None}}),
        ("a:(b:(c,d),e)", {"a": {"b": {"c": None, "d": None}, "e": None}}),
        ("emails,emails:(id)", {"emails": None}),  # whole wins
        ("emails:(id),emails", {"emails": None}),
        ("emails:(id),emails:(value)", {"emails": {"id": None, "value": None}}),
        ("id,id", {"id": None}),
        ("first-name,nom_é", {"first-name": None, "nom_é": None}),  # unknown: dropped later
    ],
)
def test_selectors_are_read(text: str, selector: dict[str, Any]) -> None:
    assert fields.parse(text) == selector


@pytest.mark.parametrize(
    "text",
    ["a,,b", "a,", ",a", ",", "a:", "a:()", "a:(b", "a)", "a b", "a(b)", "a:b", "(a)", "a:(b))"],
)
def test_a_selector_that_cannot_be_read_is_refused(text: str) -> None:
    with pytest.raises(fields.Unreadable):
        fields.parse(text)


def test_no_selector_or_a_blank_one_means_everything() -> None:
    assert query.fields({}) is None
    assert query.fields({"fields": "  "}) is None


@pytest.mark.parametrize("reader", [query.fields, query.list_search, query.search])
def test_a_bad_selector_is_a_problem_of_the_fields_parameter(reader: Any) -> None:
    with pytest.raises(Invalid) as raised:
        reader({"fields": "id,,name"})
    assert raised.value.problems == (Problem(("fields",), "id,,name", Reason.INVALID),)


def test_a_bad_selector_is_reported_with_the_other_bad_parameters() -> None:
    with pytest.raises(Invalid) as raised:
        query.list_search({"fields": "a:(", "page": "0"})
    assert {p.path for p in raised.value.problems} == {("page",), ("fields",)}
    with pytest.raises(Invalid) as raised:
        query.mailbox_page({"fields": "a:(", "page": "0"})
    assert {p.path for p in raised.value.problems} == {("page",), ("fields",)}


BODY = {
    "id": 1,
    "firstName": "Ann",
    "lastName": "Lee",
    "address": {"id": 9, "lines": ["1 Main St"], "city": "Boston"},
    "socialProfiles": None,
    "emails": [{"id": 2, "value": "a@x.com", "location": "work"}],
    "chats": None,
}


def test_select_keeps_the_named_keys_in_the_shapes_order() -> None:
    assert fields.select(BODY, fields.parse("lastName,id,nope")) == {"id": 1, "lastName": "Lee"}


def test_select_trims_nested_objects_and_lists_of_them() -> None:
    selector = fields.parse("emails:(value),address:(city,nope),chats:(value),firstName:(x)")
    assert fields.select(BODY, selector) == {
        "firstName": "Ann",  # not an object: kept as it is
        "address": {"city": "Boston"},
        "emails": [{"value": "a@x.com"}],
        "chats": None,
    }


def test_search_emails_are_strings_and_stay_so() -> None:
    body = {"id": 1, "emails": ["a@x.com", "b@x.com"]}
    assert fields.select(body, fields.parse("emails:(value)")) == {"emails": body["emails"]}


def test_the_envelopes_keep_their_keys() -> None:
    selector = fields.parse("id")
    assert wire.item(BODY, selector) == {"item": {"id": 1}}
    assert wire.collection(2, 3, 101, [BODY, BODY], selector) == {
        "page": 2,
        "pages": 3,
        "count": 101,
        "items": [{"id": 1}, {"id": 1}],
    }
    assert wire.item(BODY) == {"item": BODY}
    assert wire.item(BODY, fields.parse("nope")) == {"item": {}}
