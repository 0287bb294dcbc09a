"""v1 customer documents as fixtures: what `openscout db seed --from` and the control API load.

A fixture file holds customers in the full shape that a GET answers, or in the shape of a create
body; a list of them, or the envelopes `{"customers": [...]}`, `{"items": [...]}` (a list or
search answer) and `{"item": {...}}` (a GET answer). The writable part of each customer is read
by `decode.create_request`, so that a fixture is validated exactly as a create request is; on
top of that a fixture may set what v1 clients can only read: `createdAt`, `modifiedAt`,
`gender`, `age`, `location`, `photoUrl` and `photoType` (docs/testing.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import msgspec

from openscout.contract.v1 import decode, wire
from openscout.domain.changes import CustomerPatch
from openscout.domain.errors import Malformed, Problem, Reason

#: The read-only text fields a fixture may set: wire name → domain name, and allowed values
#: (None: any text up to `wire.MAX_ENTRY_LENGTH`).
PROFILE_FIELDS: Final[Mapping[str, tuple[str, frozenset[str] | None]]] = {
    "gender": ("gender", wire.GENDERS),
    "age": ("age", None),
    "location": ("location", None),
    "photoUrl": ("photo_url", None),
    "photoType": ("photo_type", wire.PHOTO_TYPES),
}
CREATED_AT: Final = "createdAt"
MODIFIED_AT: Final = "modifiedAt"


@dataclass(frozen=True, slots=True)
class Fixture:
    """One customer of a fixture file: a create patch, plus the read-only values it sets.

    `patch.problems` holds every problem found in the document, those of the read-only values
    included; they are raised (as `Invalid`) when the patch is applied."""

    patch: CustomerPatch
    created_at: datetime | None
    modified_at: datetime | None
    profile: Mapping[str, str]


def read_fixtures(body: bytes) -> list[Fixture]:
    """The customers of a fixture document, in order. Raises `Malformed` when the document is
    not JSON or not one of the shapes above."""
    document = decode.parse_json(body)
    if isinstance(document, dict):
        if isinstance(document.get("item"), dict):
            document = [document["item"]]
        else:
            document = document.get("customers", document.get("items"))
    if not isinstance(document, list):
        raise Malformed("a fixture document is a list of customers")
    return [_fixture(item) for item in document]


def item_path(index: int, path: tuple[str, ...]) -> tuple[str, ...]:
    """A problem's path within a fixture document: `customers[2]:emails:value` on the wire."""
    return (f"customers[{index}]", *path)


def _fixture(item: Any) -> Fixture:
    if not isinstance(item, dict):
        problem = Problem((), item, Reason.INVALID)
        return Fixture(CustomerPatch(problems=(problem,)), None, None, {})
    inner = item["customer"] if isinstance(item.get("customer"), dict) else item
    patch = decode.create_request(msgspec.json.encode(inner)).patch
    problems = list(patch.problems)
    created_at = moment_of(inner, CREATED_AT, problems)
    modified_at = moment_of(inner, MODIFIED_AT, problems)
    if created_at and modified_at and modified_at < created_at:
        problems.append(Problem((MODIFIED_AT,), inner[MODIFIED_AT], Reason.INVALID))
    profile: dict[str, str] = {}
    for wire_name, (name, allowed) in PROFILE_FIELDS.items():
        value = inner.get(wire_name)
        if value is None:
            continue
        text = value.strip() if isinstance(value, str) else None
        is_known = allowed is None or not text or text.lower() in allowed
        if text is None or len(text) > wire.MAX_ENTRY_LENGTH or not is_known:
            problems.append(Problem((wire_name,), value, Reason.INVALID))
        elif text:  # blank: as if missing
            profile[name] = text.lower() if allowed is not None else text
    return Fixture(
        CustomerPatch(patch.fields, patch.address, patch.entries, tuple(problems)),
        created_at,
        modified_at,
        profile,
    )


def moment_of(item: dict[str, Any], name: str, problems: list[Problem]) -> datetime | None:
    """The timestamp `item[name]` in whole seconds, None when absent; a problem when unreadable."""
    value = item.get(name)
    if value is None:
        return None
    moment = wire.parse_timestamp(value) if isinstance(value, str) else None
    if moment is None:
        problems.append(Problem((name,), value, Reason.INVALID))
        return None
    return moment.replace(microsecond=0)
