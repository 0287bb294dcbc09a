"""The one error table (http/errors.py): every domain error has a status there, and none
carries one of its own."""

from __future__ import annotations

import inspect

import pytest

from openscout.domain import errors as domain_errors
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
