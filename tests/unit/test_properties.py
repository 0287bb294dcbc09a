"""Customer properties: openscout.domain.properties and their v2 request bodies (spec
helpscout-v2-customers.md §4 "Update Customer Properties"; docs/decisions/v2-properties.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from openscout.contract.v2 import decode, wire
from openscout.domain.customers import Customer, Property
from openscout.domain.errors import Invalid, Malformed, Problem, Reason
from openscout.domain.properties import (
    PropertyDefinition,
    PropertyEdits,
    PropertyType,
    RemoveProperty,
    SetProperty,
    apply_property_edits,
)

START = datetime(2017, 1, 1, tzinfo=UTC)
NOW = datetime(2018, 1, 1, tzinfo=UTC)
DEFINITIONS = {
    "car": PropertyDefinition("car", "Car", PropertyType.TEXT),
    "seats": PropertyDefinition("seats", "Seats", PropertyType.NUMBER),
    "site": PropertyDefinition("site", "Site", PropertyType.URL),
    "since": PropertyDefinition("since", "Customer since", PropertyType.DATE),
    "tier": PropertyDefinition("tier", "Tier", PropertyType.DROPDOWN, {17: "Gold", 18: "Silver"}),
}
TESLA = Property("car", "Car", "text", "Tesla")
CUSTOMER = Customer(id=1, created_at=START, modified_at=START, properties=(TESLA,))


def apply(*edits: SetProperty | RemoveProperty) -> Customer:
    return apply_property_edits(CUSTOMER, PropertyEdits(edits), DEFINITIONS, NOW)


def refused(*edits: SetProperty | RemoveProperty) -> list[Problem]:
    with pytest.raises(Invalid) as error:
        apply(*edits)
    return list(error.value.problems)


# -- the rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "sent", "kept"),
    [
        ("car", "Model S", Property("car", "Car", "text", "Model S")),
        ("seats", 5, Property("seats", "Seats", "number", "5")),
        ("seats", str(-(2**63)), Property("seats", "Seats", "number", str(-(2**63)))),
        ("site", "https://acme.example/x", Property("site", "Site", "url", "https://acme.example/x")),
        ("since", "2012-07-23", Property("since", "Customer since", "date", "2012-07-23")),
        ("tier", 17, Property("tier", "Tier", "dropdown", "17", "Gold")),
        ("tier", "18", Property("tier", "Tier", "dropdown", "18", "Silver")),
        ("tier", "gold", Property("tier", "Tier", "dropdown", "17", "Gold")),
    ],
)  # fmt: skip
def test_a_value_is_kept_as_its_type_says(slug: str, sent: str | int, kept: Property) -> None:
    result = apply(SetProperty(slug, sent))
    assert {item.slug: item for item in result.properties}[slug] == kept
    assert result.modified_at == NOW


@pytest.mark.parametrize(
    ("slug", "sent"),
    [
        ("car", "x" * 256),
        ("car", 5),
        ("car", "a\x00b"),
        ("seats", "five"),
        ("seats", 2**63),
        ("seats", "1.5"),
        ("site", "acme.example"),
        ("site", "ftp://acme.example"),
        ("since", "2012-02-30"),
        ("since", "20120723"),
        ("since", "23.07.2012"),
        ("tier", 19),
        ("tier", "Bronze"),
    ],
)
def test_a_value_its_type_refuses_is_reported(slug: str, sent: str | int) -> None:
    assert refused(SetProperty(slug, sent)) == [Problem(("properties", slug), sent, Reason.INVALID)]


def test_a_new_value_comes_after_those_the_customer_has() -> None:
    assert apply(SetProperty("seats", 2)).properties[0] == TESLA


def test_a_value_is_replaced_in_place() -> None:
    result = apply(SetProperty("seats", 2), SetProperty("car", "Model 3"))
    assert [item.value for item in result.properties] == ["Model 3", "2"]


@pytest.mark.parametrize("edit", [RemoveProperty("car"), SetProperty("car", "  ")])
def test_remove_and_a_blank_value_drop_the_value(edit: SetProperty | RemoveProperty) -> None:
    assert apply(edit).properties == ()


def test_removing_a_value_the_customer_lacks_changes_nothing() -> None:
    assert apply(RemoveProperty("seats")) is CUSTOMER


def test_setting_the_same_value_changes_nothing() -> None:
    assert apply(SetProperty("car", "Tesla")) is CUSTOMER


def test_an_undefined_property_is_refused_and_nothing_applies() -> None:
    problems = refused(SetProperty("car", "Model 3"), RemoveProperty("boat"), SetProperty("x", 1))
    assert problems == [
        Problem(("properties", "boat"), "boat", Reason.UNKNOWN_ENTRY),
        Problem(("properties", "x"), "x", Reason.UNKNOWN_ENTRY),
    ]
    assert wire.problem_body(problems[0]) == {
        "path": "properties.boat",
        "message": "The specified property was not found",
        "rejectedValue": "boat",
        "source": "JSON",
    }


# -- the request body ----------------------------------------------------------------------------


CAR = ("properties", "car")


def properties(document: Any) -> PropertyEdits:
    return decode.properties_request(json.dumps(document).encode())


def test_replace_and_remove_operations_become_edits_in_order() -> None:
    result = properties(
        [
            {"op": "replace", "path": "/car", "value": "Model 3"},
            {"op": "add", "path": "/seats", "value": 5},
            {"op": "remove", "path": "/tier"},
            {"op": "replace", "path": "/since", "value": None},
        ]
    )
    assert result == PropertyEdits(
        [
            SetProperty("car", "Model 3"),
            SetProperty("seats", 5),
            RemoveProperty("tier"),
            RemoveProperty("since"),
        ]
    )


def test_a_single_operation_is_a_one_operation_array() -> None:
    assert properties({"op": "remove", "path": "/car"}).edits == [RemoveProperty("car")]


@pytest.mark.parametrize(
    ("operation", "found"),
    [
        ({"op": "move", "path": "/car"}, Problem(("0", "op"), "move", Reason.INVALID)),
        ({"op": "replace", "path": "/car"}, Problem(("0", "value"), None, Reason.REQUIRED)),
        ({"op": "remove", "path": "/car/x"}, Problem(("0", "path"), "/car/x", Reason.INVALID)),
        ({"op": "remove", "path": "/"}, Problem(("0", "path"), "/", Reason.INVALID)),
        ({"op": "replace", "path": "/car", "value": True}, Problem(CAR, True, Reason.INVALID)),
        ({"op": "replace", "path": "/car", "value": 1.5}, Problem(CAR, 1.5, Reason.INVALID)),
        ({"op": "replace", "path": "/car", "value": ["x"]}, Problem(CAR, ["x"], Reason.INVALID)),
    ],
)  # fmt: skip
def test_a_bad_operation_is_reported(operation: dict[str, Any], found: Problem) -> None:
    assert properties([operation]) == PropertyEdits([], (found,))


def test_a_body_that_is_neither_array_nor_object_is_malformed() -> None:
    with pytest.raises(Malformed):
        properties("car")


def test_the_problems_of_the_body_come_first_when_applied() -> None:
    edits = properties([{"op": "copy", "path": "/car"}, {"op": "remove", "path": "/boat"}])
    with pytest.raises(Invalid) as error:
        apply_property_edits(CUSTOMER, edits, DEFINITIONS, NOW)
    assert error.value.problems == (
        Problem(("0", "op"), "copy", Reason.INVALID),
        Problem(("properties", "boat"), "boat", Reason.UNKNOWN_ENTRY),
    )
