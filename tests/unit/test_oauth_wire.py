"""The OAuth wire of contract/v2/oauth.py: reading token requests from every place a client puts
them, and the bodies of answers and errors (v2 spec §1, §8a.1-2; RFC 6749)."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openscout import apps
from openscout.config import Settings
from openscout.contract.v2 import oauth
from openscout.domain.errors import (
    BodyTooLarge,
    DomainError,
    Invalid,
    InvalidGrant,
    KeyRefused,
    Malformed,
    StoreUnavailable,
    UnknownApp,
    UnknownClient,
    UnsupportedGrant,
)

FORM = "application/x-www-form-urlencoded"
ID, SECRET = "a" * 32, "b" * 32


def read(
    query: bytes = b"", content_type: str | None = None, body: bytes = b"", auth: str | None = None
) -> oauth.TokenRequest:
    return oauth.token_request(query, content_type, body, auth)


def test_parameters_come_from_the_query_string_the_body_and_a_basic_header_together() -> None:
    basic = "Basic " + base64.b64encode(f"{ID}:{SECRET}".encode()).decode()
    asked = read(b"grant_type=refresh_token", FORM, b"refresh_token=r1", basic)
    assert asked == oauth.TokenRequest("refresh_token", ID, SECRET, refresh_token="r1")


def test_a_basic_header_is_form_encoded_inside_as_rfc_6749_has_it() -> None:
    pair = base64.b64encode(b"my%20id:p%3Ass+word").decode()
    assert oauth.basic_client(f"Basic {pair}") == [
        ("client_id", "my id"),
        ("client_secret", "p:ss word"),
    ]
    for header in (None, "", "Bearer abc", "Basic !!!", "Basic " + base64.b64encode(b"x").decode()):
        assert oauth.basic_client(header) == []


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b'{"grant_type": "client_credentials", "client_id": 12}'),
        (
            "application/json; charset=UTF-8",
            b'{"grant_type": "client_credentials", "client_id": "12"}',
        ),
        ("application/vnd.api+json", b'{"grant_type": "client_credentials", "client_id": "12"}'),
        (None, b'  {"grant_type": "client_credentials", "client_id": "12"}'),
        ("text/plain;charset=UTF-8", b'{"grant_type": "client_credentials", "client_id": "12"}'),
        (FORM, b"grant_type=client_credentials&client_id=12&scope=ignored"),
        (None, b"grant_type=client_credentials&client_id=12"),
        (FORM + "; charset=utf-8", b"grant_type=client_credentials&client_id=12&client_id=12"),
    ],
)
def test_a_body_is_read_as_json_or_form(content_type: str | None, body: bytes) -> None:
    assert read(content_type=content_type, body=body) == oauth.TokenRequest(
        "client_credentials", "12", ""
    )


def test_blank_and_null_values_are_absent_and_unknown_parameters_are_ignored() -> None:
    body = (
        b'{"grant_type": "client_credentials", "client_id": "", "client_secret": null, '
        b'"scope": [1]}'
    )
    assert read(content_type="application/json", body=body) == oauth.TokenRequest(
        "client_credentials", "", ""
    )


@pytest.mark.parametrize(
    ("query", "content_type", "body", "error", "description"),
    [
        (b"", None, b"", Invalid, "grant_type is required"),
        (
            b"grant_type=password",
            None,
            b"",
            UnsupportedGrant,
            "grant_type 'password' is not supported",
        ),
        (b"grant_type=authorization_code", None, b"", Invalid, "code is required"),
        (b"grant_type=refresh_token", None, b"", Invalid, "refresh_token is required"),
        (
            b"grant_type=a",
            FORM,
            b"grant_type=b",
            Invalid,
            "grant_type is given more than once, with different values",
        ),
        (b"", "application/json", b'{"grant_type": false}', Invalid, "grant_type must be a string"),
        (b"", "application/json", b"[]", Malformed, "The body must be a JSON object"),
        (b"", "application/json", b"{", Malformed, "The body is not valid JSON"),
        (
            b"",
            "application/xml",
            b"<a/>",
            Malformed,
            "A body of type 'application/xml' is not read: send a form or JSON",
        ),
        (b"&" * 200, None, b"", Malformed, "More than 100 parameters"),
    ],
)
def test_what_cannot_be_read_is_said_in_words(
    query: bytes, content_type: str | None, body: bytes, error: type[DomainError], description: str
) -> None:
    with pytest.raises(error) as raised:
        read(query, content_type, body)
    assert oauth.describe(raised.value) == description


@given(
    query=st.binary(max_size=200),
    content_type=st.sampled_from([None, "application/json", FORM, "text/plain", "x/y"]),
    body=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)),
    auth=st.one_of(st.none(), st.text(max_size=50)),
)
def test_any_request_is_read_or_refused_with_a_domain_error(
    query: bytes, content_type: str | None, body: bytes, auth: str | None
) -> None:
    try:
        asked = read(query, content_type, body, auth)
    except DomainError as error:
        assert oauth.error_body(error, 400)["error_description"]
        return
    assert asked.grant_type in oauth.GRANT_TYPES


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (UnknownClient(), "invalid_client"),
        (InvalidGrant("The refresh token is unknown"), "invalid_grant"),
        (UnsupportedGrant("password"), "unsupported_grant_type"),
        (Invalid([]), "invalid_request"),
        (Malformed("x"), "invalid_request"),
        (BodyTooLarge(16), "invalid_request"),
        (StoreUnavailable("down"), "temporarily_unavailable"),
    ],
)
def test_each_error_has_its_rfc_6749_code(error: DomainError, code: str) -> None:
    body = oauth.error_body(error, 400)
    assert list(body) == ["error", "error_description"] and body["error"] == code
    assert "down" not in body["error_description"]  # a driver's words never leak


def test_the_token_answer_has_a_refresh_token_only_when_one_was_issued() -> None:
    assert oauth.token_body("t", 60, None) == {
        "access_token": "t",
        "token_type": "bearer",
        "expires_in": 60,
    }
    assert oauth.token_body("t", 60, "r")["refresh_token"] == "r"


@pytest.mark.parametrize(
    ("redirect_uri", "expected"),
    [
        ("https://a.example/cb", "https://a.example/cb?code=c+1&state=s%26t"),
        ("https://a.example/cb?x=1", "https://a.example/cb?x=1&code=c+1&state=s%26t"),
        ("http://localhost:8000/", "http://localhost:8000/?code=c+1&state=s%26t"),
    ],
)
def test_the_answer_is_added_to_the_redirect_uris_query(redirect_uri: str, expected: str) -> None:
    assert oauth.redirect_location(redirect_uri, "s&t", code="c 1") == expected


def test_the_transition_service_names_the_input_that_is_not_valid() -> None:
    assert oauth.transition_error(KeyRefused("k" * 500), 400) == {
        "status": 400,
        "message": f"{'k' * 100} is not a valid API Key",
    }
    assert oauth.transition_error(UnknownApp("c1"), 400)["message"] == (
        "c1 is not a valid OAuth Application ID"
    )
    assert oauth.transition_request(b'{"apiKey": "k", "clientId": "c", "x": 1}') == (
        oauth.TransitionRequest("k", "c")
    )


def test_the_default_token_lifetime_is_help_scouts() -> None:
    assert Settings().token_lifetime == apps.DEFAULT_TOKEN_LIFETIME == 172_800
