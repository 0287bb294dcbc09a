"""The v2 error bodies of contract.v2.wire: vnd.error with `logRef`, `message` and one
`_embedded.errors` entry per problem (spec helpscout-v2-customers.md §5;
docs/decisions/v2-errors.md)."""

from __future__ import annotations

from typing import Any

import pytest

from openscout.contract.v2 import wire
from openscout.domain.errors import Problem, Reason

ABOUT = {"about": {"href": "http://developer.helpscout.net/mailbox-api/overview/errors"}}


def one_error(problem: Problem, source: str = wire.SOURCE_BODY) -> dict[str, Any]:
    body = wire.validation_body("log-1", [problem], source)
    errors: list[dict[str, Any]] = body["_embedded"]["errors"]
    assert len(errors) == 1
    return errors[0]


def test_a_validation_body_has_the_vnd_error_shape() -> None:
    body = wire.validation_body(
        "64bb72b4-0a92-11e8-ba89-0ed5f89f718b",
        [Problem(("gender",), "Robot", Reason.INVALID)],
    )
    assert body == {
        "logRef": "64bb72b4-0a92-11e8-ba89-0ed5f89f718b",
        "message": "Bad request",
        "_embedded": {
            "errors": [
                {
                    "path": "gender",
                    "message": "Expected one of these: female, male, unknown",
                    "rejectedValue": "Robot",
                    "source": "JSON",
                }
            ]
        },
        "_links": ABOUT,
    }


def test_rejected_value_is_left_out_when_nothing_was_sent() -> None:
    error = one_error(Problem(("emails", "value"), None, Reason.REQUIRED))
    assert error == {"path": "emails.value", "message": "may not be null", "source": "JSON"}


def test_a_blank_value_is_empty_not_null() -> None:
    assert one_error(Problem(("phones", "value"), " ", Reason.REQUIRED))["message"] == (
        "may not be empty"
    )


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        (("first_name",), "firstName"),
        (("photo_url",), "photoUrl"),
        (("address", "postal_code"), "address.postalCode"),
        (("social_profiles", "type"), "socialProfiles.type"),
        (("2", "op"), "[2].op"),
        (("0",), "[0]"),
        (("page",), "page"),
    ],
)
def test_an_error_path_uses_wire_names(path: tuple[str, ...], shown: str) -> None:
    assert wire.error_path(path) == shown


MESSAGES = [
    (("first_name",), "x" * 41, Reason.TOO_LONG, "size must be between 1 and 40"),
    (("background",), "x" * 201, Reason.TOO_LONG, "size must be between 1 and 200"),
    (("emails", "value"), "x" * 256, Reason.TOO_LONG, "size must be between 1 and 255"),
    (("emails", "value"), "nope", Reason.NOT_AN_EMAIL, "not a well-formed email address"),
    (
        ("photo_type",),
        "myspace",
        Reason.INVALID,
        "Expected one of these: facebook, googleplus, googleprofile, gravatar, instagram, "
        "linkedin, twitter, unknown",
    ),
    (
        ("chats", "type"),
        "icqq",
        Reason.INVALID,
        "Expected one of these: aim, gtalk, icq, msn, other, qq, skype, xmpp, yahoo",
    ),
    (("1", "op"), "move", Reason.INVALID, "Expected one of these: add, remove, replace"),
    (("1", "path"), "/x", Reason.INVALID, wire.PATH_UNKNOWN),
    (("address", "city"), 3, Reason.INVALID, "is not valid"),
    (("emails", "value"), "a@b.io", Reason.DUPLICATE_ENTRY, "is already an entry of this customer"),
    (("modifiedSince",), "yesterday", Reason.MALFORMED, "is malformed"),
]


@pytest.mark.parametrize(("path", "value", "reason", "message"), MESSAGES)
def test_each_reason_has_its_message(
    path: tuple[str, ...], value: object, reason: Reason, message: str
) -> None:
    assert one_error(Problem(path, value, reason))["message"] == message


def test_an_unknown_entry_is_named_by_the_id_the_client_used() -> None:
    # The domain reports a removal's id negated, as v1 clients write it; v2 names it in a path.
    error = one_error(Problem(("social_profiles", "id"), -4, Reason.UNKNOWN_ENTRY))
    assert error == {
        "path": "socialProfiles.id",
        "message": "The specified social profile was not found",
        "rejectedValue": 4,
        "source": "JSON",
    }


def test_an_address_that_is_not_there_is_reported_without_a_value() -> None:
    error = one_error(Problem(("address",), None, Reason.UNKNOWN_ENTRY))
    assert error == {
        "path": "address",
        "message": "The specified address was not found",
        "source": "JSON",
    }


def test_problems_of_query_parameters_name_their_source() -> None:
    error = one_error(Problem(("page",), "0", Reason.INVALID), wire.SOURCE_QUERY)
    assert error == {
        "path": "page",
        "message": "is not valid",
        "rejectedValue": "0",
        "source": "PARAMETER",
    }


def test_an_error_without_problems_has_no_embedded_errors() -> None:
    assert wire.error_body("log-2", wire.NOT_FOUND) == {
        "logRef": "log-2",
        "message": "Resource not found",
        "_links": ABOUT,
    }


def test_a_property_named_like_a_field_is_not_offered_the_fields_choices() -> None:
    assert one_error(Problem(("properties", "gender"), "x", Reason.INVALID))["message"] == (
        "is not valid"
    )
