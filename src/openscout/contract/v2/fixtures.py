"""Fixtures in v2's shape, beside v1's (`contract.v1.fixtures`): what the control API and
`openscout db seed --from` load.

A v2 fixture holds customers as `GET /v2/customers/{id}` answers them (entries and the address
under `_embedded`, `type` as every entry's kind, `updatedAt`), as a create body (entries at the
top), a list of them, or a list answer (`{"_embedded": {"customers": [...]}}`). The writable
part is read by `contract.v2.decode.create_request`, as a v2 create is; `createdAt` and
`updatedAt` set the timestamps. `id`, `_links` and what v2 clients can only read
(`conversationCount`, `draft`, `organizationId`, properties) are ignored.

A document is read as v2 when it is a list answer, or when a customer in it carries `_embedded`
or `updatedAt`, which v1 never sends; otherwise as v1 (docs/testing.md).
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from openscout.contract.v1 import decode as v1_decode
from openscout.contract.v1 import fixtures as v1
from openscout.contract.v1.fixtures import Fixture
from openscout.contract.v2 import decode, wire
from openscout.domain.changes import CustomerPatch
from openscout.domain.errors import Malformed, Problem, Reason

CREATED_AT: Final = "createdAt"
UPDATED_AT: Final = "updatedAt"
#: What a v2 customer carries that a v1 one never does.
_V2_MARKS: Final = ("_embedded", UPDATED_AT)
#: `_embedded` keys of a customer → where a create body has them.
_EMBEDDED_TO_BODY: Final = {
    **{wire.EMBEDDED[collection]: name for name, collection in wire.BODY_COLLECTIONS.items()},
    wire.ADDRESS_SEGMENT: wire.ADDRESS_SEGMENT,
}


def read_fixtures(body: bytes) -> list[Fixture]:
    """The customers of a fixture document of either version, in order. Raises `Malformed` when
    the document is not JSON or not one of the shapes of either version."""
    document = v1_decode.parse_json(body)
    customers = _v2_customers(document)
    if customers is None:
        return v1.read_fixtures(body)
    return [_fixture(item) for item in customers]


def _v2_customers(document: Any) -> list[Any] | None:
    """The customers of a v2 document, or None when the document is not v2's."""
    if isinstance(document, dict):
        embedded = document.get("_embedded")
        if isinstance(embedded, dict) and wire.EMBEDDED_CUSTOMERS in embedded:
            customers = embedded[wire.EMBEDDED_CUSTOMERS]
            if not isinstance(customers, list):
                raise Malformed("a fixture document is a list of customers")
            return customers
        return [document] if _is_v2(document) else None
    if isinstance(document, list) and any(_is_v2(item) for item in document):
        return document
    return None


def _is_v2(item: Any) -> bool:
    return isinstance(item, dict) and any(mark in item for mark in _V2_MARKS)


def _fixture(item: Any) -> Fixture:
    if not isinstance(item, dict):
        return Fixture(CustomerPatch(problems=(Problem((), item, Reason.INVALID),)), None, None, {})
    flat = {key: value for key, value in item.items() if key != "_embedded"}
    embedded = item.get("_embedded")
    if isinstance(embedded, dict):
        for name, key in _EMBEDDED_TO_BODY.items():
            if name in embedded and key not in flat:
                flat[key] = embedded[name]
    patch = decode.create_request(msgspec.json.encode(flat))
    problems = list(patch.problems)
    created_at = v1.moment_of(flat, CREATED_AT, problems)
    modified_at = v1.moment_of(flat, UPDATED_AT, problems)
    if created_at and modified_at and modified_at < created_at:
        problems.append(Problem((UPDATED_AT,), flat[UPDATED_AT], Reason.INVALID))
    return Fixture(
        CustomerPatch(patch.fields, patch.address, patch.entries, tuple(problems)),
        created_at,
        modified_at,
        {},
    )
