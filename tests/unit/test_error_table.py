"""The one error table (http/errors.py): every domain error has a status there, and none
carries one of its own; each API version answers in its own shape, chosen by the path."""

from __future__ import annotations

import inspect
import json

import pytest

from openscout.contract.v2 import wire as v2_wire
from openscout.domain import errors as domain_errors
from openscout.domain.errors import (
    BodyTooLarge,
    CustomerNotFound,
    EmailTaken,
    Invalid,
    MailboxNotFound,
    Malformed,
    Problem,
    RateLimited,
    Reason,
    StoreUnavailable,
    Unauthorized,
    UnreadableQuery,
)
from openscout.http import errors
from openscout.http.errors import status_of

DOMAIN_ERRORS = [
    kind
    for _, kind in inspect.getmembers(domain_errors, inspect.isclass)
    if issubclass(kind, domain_errors.DomainError) and kind is not domain_errors.DomainError
]


@pytest.mark.parametrize("kind", DOMAIN_ERRORS, ids=lambda kind: kind.__name__)
def test_every_domain_error_is_answered_by_the_table_and_carries_no_status(kind: type) -> None:
    error = kind.__new__(kind)
    assert 400 <= status_of(error) < 600 and status_of(error) != 500
    parameters = inspect.signature(kind.__init__).parameters
    assert not {"status", "status_code", "code"} & set(parameters)


HTTP_ERRORS = [
    kind
    for _, kind in inspect.getmembers(errors, inspect.isclass)
    if issubclass(kind, errors.HttpError) and kind is not errors.HttpError
]


@pytest.mark.parametrize("kind", HTTP_ERRORS, ids=lambda kind: kind.__name__)
def test_every_http_error_has_a_status_and_a_message_in_each_version(
    kind: type[errors.HttpError],
) -> None:
    """Errors of the exchange itself (a body past its deadline) are answered by the same table,
    in the body shape of the request's API version."""
    assert 400 <= status_of(kind()) < 500
    for shape in (errors.V1, errors.V2, errors.OAUTH, errors.TRANSITION):
        assert shape.exchange[kind]


def test_a_body_past_its_deadline_is_a_408_in_v1s_shape_and_closes_the_connection() -> None:
    scope = {"type": "http", "method": "PUT", "path": "/v1/customers/1.json", "headers": []}
    response = errors.error_response(errors.BodyTimeout(), scope)
    assert response.status_code == 408
    assert response.body == b'{"code":408,"error":"The request body did not arrive in time"}'
    assert response.headers["connection"] == "close"


# -- v2's shape (spec helpscout-v2-customers.md §5; docs/decisions/v2-errors.md)


def scope_of(path: str) -> dict[str, object]:
    return {"type": "http", "method": "GET", "path": path, "headers": []}


@pytest.mark.parametrize(
    ("path", "shape"),
    [
        ("/v2/customers", errors.V2),
        ("/v2/customers/1/emails", errors.V2),
        ("/v2/anything", errors.V2),
        ("/v3/customers", errors.V2),
        ("/v2/oauth2/token", errors.OAUTH),
        ("/v2/oauth2/anything", errors.OAUTH),
        ("/transition", errors.TRANSITION),
        ("/v1/customers.json", errors.V1),
        ("/v2", errors.V1),
        ("/v2customers", errors.V1),
        ("/_openscout/state", errors.V1),
        ("/healthz", errors.V1),
    ],
)
def test_the_shape_is_chosen_by_the_path(path: str, shape: errors.ErrorShape) -> None:
    assert errors.shape_of(scope_of(path)) is shape


#: One error of each kind a v2 request can meet, its status, message and extra headers.
V2_ANSWERS = [
    (Invalid([Problem(("gender",), "x", Reason.INVALID)]), 400, v2_wire.BAD_REQUEST, {}),
    (Malformed("no"), 400, v2_wire.MALFORMED, {}),
    (UnreadableQuery(3, "why"), 400, v2_wire.BAD_REQUEST, {}),
    (Unauthorized(), 401, v2_wire.UNAUTHORIZED, {"www-authenticate": v2_wire.WWW_AUTHENTICATE}),
    (CustomerNotFound(5), 404, v2_wire.NOT_FOUND, {}),
    (MailboxNotFound(5), 404, v2_wire.NOT_FOUND, {}),
    (EmailTaken("a@b.co"), 409, v2_wire.EMAIL_TAKEN, {}),
    (BodyTooLarge(10), 413, v2_wire.TOO_LARGE, {"connection": "close"}),
    (errors.BodyTimeout(), 408, v2_wire.BODY_TIMEOUT, {"connection": "close"}),
    (errors.UnsupportedMediaType(), 415, v2_wire.UNSUPPORTED_MEDIA_TYPE, {}),
    (
        RateLimited(7),
        429,
        v2_wire.RATE_LIMITED,
        {"retry-after": "7", "x-ratelimit-retry-after": "7"},
    ),
    (StoreUnavailable("down"), 503, v2_wire.UNAVAILABLE, {"retry-after": "5"}),
    (RuntimeError("boom"), 500, v2_wire.SERVER_ERROR, {}),
]


@pytest.mark.parametrize(
    ("error", "status", "message", "headers"), V2_ANSWERS, ids=lambda value: repr(value)[:30]
)
def test_every_error_on_a_v2_path_is_a_vnd_error(
    error: Exception, status: int, message: str, headers: dict[str, str]
) -> None:
    response = errors.error_response(error, scope_of("/v2/customers/1"))
    assert response.status_code == status
    assert response.headers["content-type"] == "application/vnd.error+json"
    body = json.loads(bytes(response.body))
    assert body["message"] == message
    assert body["_links"] == {"about": {"href": v2_wire.ERRORS_URL}}
    assert isinstance(body["logRef"], str) and body["logRef"]
    for name, value in headers.items():
        assert response.headers[name] == value, name
    if status == 400:  # each problem, or none when the body could not be read at all
        assert isinstance(body["_embedded"]["errors"], list), body


def test_a_v1_error_keeps_v1s_shape_and_headers() -> None:
    response = errors.error_response(RateLimited(7), scope_of("/v1/customers.json"))
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert "x-ratelimit-retry-after" not in response.headers
    assert json.loads(bytes(response.body))["code"] == 429
