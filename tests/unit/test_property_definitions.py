"""Property definitions as their makers describe them: openscout.domain.properties.
new_definition and definition_problems (docs/decisions/v2-property-definitions.md)."""

from __future__ import annotations

import pytest

from openscout.domain.errors import Invalid, Problem, Reason
from openscout.domain.properties import (
    PropertyDefinition,
    PropertyType,
    definition_problems,
    new_definition,
)


def refused(slug: str, name: str, type: str, options: tuple[str, ...] = ()) -> list[Problem]:
    with pytest.raises(Invalid) as error:
        new_definition(slug, name, type, options)
    return list(error.value.problems)


def test_a_definition_takes_its_parts_trimmed_and_numbers_dropdown_options_from_one() -> None:
    assert new_definition(" car ", " Car ", "text") == PropertyDefinition(
        "car", "Car", PropertyType.TEXT
    )
    assert new_definition("plan", "Plan", "dropdown", (" Free", "Plus ")) == PropertyDefinition(
        "plan", "Plan", PropertyType.DROPDOWN, {1: "Free", 2: "Plus"}
    )


@pytest.mark.parametrize("slug", ["a", "car-make", "plan_2", "x" * 100, "0"])
def test_slugs_are_lowercase_ascii_letters_digits_dashes_and_underscores(slug: str) -> None:
    assert new_definition(slug, "Name", "number").slug == slug


@pytest.mark.parametrize(
    ("slug", "reason"),
    [
        ("", Reason.REQUIRED),
        ("   ", Reason.REQUIRED),
        ("x" * 101, Reason.TOO_LONG),
        ("Car", Reason.INVALID),
        ("car make", Reason.INVALID),
        ("car/make", Reason.INVALID),
        ("café", Reason.INVALID),
        ("car\x00", Reason.INVALID),
    ],
)
def test_other_slugs_are_refused(slug: str, reason: Reason) -> None:
    assert refused(slug, "Name", "text") == [Problem(("slug",), slug.strip(), reason)]


def test_every_problem_is_reported_at_once() -> None:
    assert refused("Bad Slug", " ", "colour", ("x",)) == [
        Problem(("type",), "colour", Reason.INVALID),
        Problem(("slug",), "Bad Slug", Reason.INVALID),
        Problem(("name",), "", Reason.REQUIRED),
    ]


@pytest.mark.parametrize(
    ("name", "reason"),
    [("", Reason.REQUIRED), ("n" * 256, Reason.TOO_LONG), ("a\x00b", Reason.INVALID)],
)
def test_a_name_is_one_to_255_characters_without_nul(name: str, reason: Reason) -> None:
    assert refused("car", name, "text") == [Problem(("name",), name, reason)]


def test_the_type_is_one_of_five_spelled_in_lowercase() -> None:
    for kind in PropertyType:
        assert (
            new_definition("p", "P", kind.value, ("a",) * (kind is PropertyType.DROPDOWN)).type
            is kind
        )
    assert refused("p", "P", "Text") == [Problem(("type",), "Text", Reason.INVALID)]


def test_a_dropdown_needs_options_and_no_other_type_takes_any() -> None:
    assert refused("p", "P", "dropdown") == [Problem(("options",), None, Reason.REQUIRED)]
    assert refused("p", "P", "url", ("a",)) == [Problem(("options",), ["a"], Reason.INVALID)]


def test_option_labels_are_not_blank_nor_long_and_differ_ignoring_case() -> None:
    assert refused("p", "P", "dropdown", ("Gold", " ", "GOLD", "g" * 256)) == [
        Problem(("options", "2"), "", Reason.REQUIRED),
        Problem(("options", "3"), "GOLD", Reason.DUPLICATE_ENTRY),
        Problem(("options", "4"), "g" * 256, Reason.TOO_LONG),
    ]


def test_a_definition_made_by_hand_is_checked_the_same_way() -> None:
    assert definition_problems(PropertyDefinition("car", "Car", PropertyType.TEXT)) == []
    made = PropertyDefinition("plan", "Plan", PropertyType.DROPDOWN, {0: "Free", 9: "free"})
    assert definition_problems(made) == [
        Problem(("options", "0"), 0, Reason.INVALID),
        Problem(("options", "9"), "free", Reason.DUPLICATE_ENTRY),
    ]
