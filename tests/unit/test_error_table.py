"""The one error table (http/errors.py): every domain error has a status there, and none
carries one of its own."""

from __future__ import annotations

import inspect

import pytest

from openscout.domain import errors as domain_errors
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
def test_every_http_error_has_a_status_and_a_v1_message(kind: type[errors.HttpError]) -> None:
    """Errors of the exchange itself (a body past its deadline) are answered by the same table,
    in v1's body shape."""
    assert 400 <= status_of(kind()) < 500
    assert errors.V1.exchange[kind]


def test_a_body_past_its_deadline_is_a_408_in_v1s_shape_and_closes_the_connection() -> None:
    scope = {"type": "http", "method": "PUT", "path": "/v1/customers/1.json", "headers": []}
    response = errors.error_response(errors.BodyTimeout(), scope)
    assert response.status_code == 408
    assert response.body == b'{"code":408,"error":"The request body did not arrive in time"}'
    assert response.headers["connection"] == "close"
