"""schemathesis against a real server with the documents it serves, v1's and v2's: positive and
negative data for every operation, a bounded number of examples each. No answer may be a server
error, or differ from the document in status, media type, headers or body.

Every answer goes through every check, a create's 201 included: the document lists no media
type for it, as the usual create answers with no body and no `Content-Type` (spec §9.4). What
OpenAPI cannot say, that a create with `reload` answers 201 with `{"item": ...}` instead (one
description per status, whatever the query), is checked here by hand against the document's
`CustomerItem`.

OPENSCOUT_SCHEMATHESIS_EXAMPLES sets how many examples each operation gets (CI: 60), and
OPENSCOUT_SCHEMATHESIS_SEED the seed (CI: a fixed one, so a run can be repeated exactly).
"""

from __future__ import annotations

import base64
import os
from typing import Any
from urllib.parse import urlsplit

import jsonschema_rs
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.datastructures import QueryParams

from openscout.contract.v1 import fields
from openscout.contract.v1.decode import is_true
from openscout.contract.v1.fields import Selector
from openscout.http import openapi
from tests.contract.conftest import Contract
from tests.helpers import JSON

EXAMPLES = int(os.environ.get("OPENSCOUT_SCHEMATHESIS_EXAMPLES", "60"))
SEED = int(os.environ.get("OPENSCOUT_SCHEMATHESIS_SEED", "20261128"))

ALL_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    ignored_auth,
]
#: For an answer trimmed by a field selector: everything but the body's shape, which the document
#: gives untrimmed (OpenAPI cannot make keys depend on a parameter), checked by hand instead.
SELECTED_CHECKS = [c for c in ALL_CHECKS if c is not response_schema_conformance]
#: The body of a create that asked for the customer back (`reload`), the document's words.
CREATED_WITH_RELOAD = jsonschema_rs.validator_for(
    {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": "#/components/schemas/CustomerItem",
        "components": openapi.document()["components"],
    }
)


#: The document the server serves (the same packaged JSON; the route test checks that
#: `/v1/openapi.json` is exactly this). Loaded at import, as schemathesis parametrizes then.
schema = schemathesis.openapi.from_dict(openapi.document())
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=EXAMPLES
)
schema.config.seed = SEED


v2_schema = schemathesis.openapi.from_dict(openapi.document(openapi.V2_OPENAPI_PATH))
v2_schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=EXAMPLES
)
v2_schema.config.seed = SEED


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=False,
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_is_what_the_document_says(case: Any, contract: Contract) -> None:
    key = base64.b64encode(f"{contract.account.key}:X".encode()).decode()
    response = case.call(base_url=contract.server.url, headers={"Authorization": f"Basic {key}"})
    if (selector := _selected(response)) is not None and response.status_code == 200:
        _assert_trimmed(response.json(), selector)
        case.validate_response(response, checks=SELECTED_CHECKS)
    else:
        case.validate_response(response, checks=ALL_CHECKS)
    if case.method.upper() == "POST" and response.status_code == 201:
        _check_created(case, response)


@v2_schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=False,
    suppress_health_check=list(HealthCheck),
)
def test_every_v2_answer_is_what_the_document_says(case: Any, contract: Contract) -> None:
    headers = {"Authorization": f"Bearer {contract.token}"}
    response = case.call(base_url=contract.server.url, headers=headers)
    case.validate_response(response, checks=ALL_CHECKS)
    if case.method.upper() == "POST" and response.status_code == 201:
        # No body: the id is in `Resource-ID` (v2 spec §2, §8a.4).
        assert _header(response, "content-length") == "0"
        assert _header(response, "content-type") is None
        assert int(_header(response, "resource-id") or "0") > 0


def _check_created(case: Any, response: Any) -> None:
    """A create's 201: no body, or the customer when `reload` asked for it."""
    if not _reload_asked(case):
        assert _header(response, "content-length") == "0"
        assert _header(response, "content-type") is None
        assert not response.content
        return
    assert _header(response, "content-type") == JSON
    errors = [error.message for error in CREATED_WITH_RELOAD.iter_errors(response.json())]
    assert errors == [], "a create with reload answers with the customer"


def _selected(response: Any) -> Selector | None:
    """The field selector the request sent (spec §5), if one that can be read: read from the
    URL as sent, as the server reads it (a repeated parameter: the last one)."""
    raw = QueryParams(urlsplit(response.request.url).query).get("fields")
    if raw is None or not raw.strip():
        return None
    try:
        return fields.parse(raw)
    except fields.Unreadable:
        return None


def _assert_trimmed(body: Any, selector: Selector) -> None:
    """An envelope as usual, and items holding only keys the selector names."""
    if "item" in body:
        assert list(body) == ["item"]
        items = [body["item"]]
    else:
        assert list(body) == ["page", "pages", "count", "items"]
        items = body["items"]
    for item in items:
        assert set(item) <= set(selector), (item, selector)


def _header(response: Any, name: str) -> str | None:
    """A header of a schemathesis response (headers map lower-case names to lists)."""
    values = {key.lower(): value for key, value in response.headers.items()}.get(name)
    return values[0] if values else None


def _reload_asked(case: Any) -> bool:
    """Whether the request asked for the customer back (spec §11): in the query or the body,
    beside or inside a `{"customer": ...}` wrapper."""
    query = case.query or {}
    if is_true(query.get("reload")):
        return True
    body = case.body if isinstance(case.body, dict) else {}
    wrapped = body.get("customer")
    inner = wrapped if isinstance(wrapped, dict) else {}
    return is_true(body.get("reload")) or is_true(inner.get("reload"))
