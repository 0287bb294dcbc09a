"""v1 request bodies → domain patches (spec §10, §11), with every problem reported at once.

The body is parsed by msgspec into plain Python values, then read here field by field: v1
clients send extra keys, nulls everywhere and the odd wrong type, and the answer to each of
those is a contract decision, not a framework's default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from openscout.contract.v1 import wire
from openscout.domain import emails
from openscout.domain.changes import (
    AddEntry,
    AddressChange,
    AddressValue,
    CustomerPatch,
    EntryChange,
    RemoveAddress,
    RemoveEntry,
    SetAddress,
    UpdateAddress,
    UpdateEntry,
)
from openscout.domain.customers import Collection
from openscout.domain.errors import Malformed, Problem, Reason

_decoder = msgspec.json.Decoder()


@dataclass(frozen=True, slots=True)
class WriteRequest:
    """A decoded create or update: the patch, and whether the client wants the customer back."""

    patch: CustomerPatch
    reload: bool


def create_request(body: bytes, query_reload: str | None = None) -> WriteRequest:
    """POST /v1/customers.json (§9.4): every entry is new; first and last name are required."""
    return _write_request(body, query_reload, is_create=True)


def update_request(body: bytes, query_reload: str | None = None) -> WriteRequest:
    """PUT /v1/customers/{id}.json (§9.5, §10)."""
    return _write_request(body, query_reload, is_create=False)


def is_true(value: object) -> bool:
    """`reload` and other v1 flags: true, "true" (any case), 1 and "1" mean yes (§11)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value == 1
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1")
    return False


def parse_json(body: bytes) -> Any:
    """Parse a JSON body; anything that is not JSON text raises `Malformed`."""
    try:
        return _decoder.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError, ValueError) as error:
        raise Malformed(str(error)) from None


def _write_request(body: bytes, query_reload: str | None, *, is_create: bool) -> WriteRequest:
    document = parse_json(body)
    if not isinstance(document, dict):
        raise Malformed("the body is not a JSON object")
    reload = is_true(query_reload) or is_true(document.get("reload"))
    wrapped = document.get("customer")
    if isinstance(wrapped, dict):  # the {"customer": {...}} form (§11)
        document = wrapped
        reload = reload or is_true(document.get("reload"))
    return WriteRequest(patch=BodyReader(is_create=is_create).patch(document), reload=reload)


class BodyReader:
    """Reads one customer object, collecting problems instead of stopping at the first.

    Its value readers are shared with v2 (`openscout.contract.v2.decode`), which names an
    entry's kind differently: hence the class attributes below.
    """

    #: The key of an entry's label in each collection, and the labels each accepts.
    label_keys: Mapping[Collection, str | None] = wire.LABEL_KEYS
    labels: Mapping[Collection, frozenset[str]] = wire.LABELS

    def __init__(self, *, is_create: bool) -> None:
        self.is_create = is_create
        self.problems: list[Problem] = []

    def problem(self, path: tuple[str, ...], value: object, reason: Reason) -> None:
        self.problems.append(Problem(path, value, reason))

    def patch(self, document: dict[str, Any]) -> CustomerPatch:
        fields: dict[str, str | None] = {}
        for wire_name, name in wire.WRITABLE_FIELDS.items():
            value = document.get(wire_name)
            # Names are required on create; on update they may be left out (or null), but a
            # blank one is still "missing", not a way to clear it (spec §8.5, §10.2).
            required = name in wire.REQUIRED_FIELDS
            if value is None:
                if required and self.is_create:
                    self.problem((name,), None, Reason.REQUIRED)
                continue
            text = self.text((name,), value, wire.MAX_LENGTHS[name])
            if text is REFUSED:
                continue
            if text is None and required:
                self.problem((name,), value, Reason.REQUIRED)
                continue
            fields[name] = text
        entries: dict[Collection, list[EntryChange]] = {}
        for wire_name, collection in wire.COLLECTIONS.items():
            changes = self.entry_changes(collection, document.get(wire_name))
            if changes:
                entries[collection] = changes
        address = self.address(document.get("address"))
        return CustomerPatch(fields, address, entries, tuple(self.problems))

    # -- values

    def text(self, path: tuple[str, ...], value: object, limit: int) -> Any:
        """A string field: blank clears (None); wrong types and overlong text are problems."""
        if not isinstance(value, str) or "\x00" in value:
            self.problem(path, value, Reason.INVALID)
            return REFUSED
        if not value.strip():
            return None
        if len(value) > limit:
            self.problem(path, value, Reason.TOO_LONG)
            return REFUSED
        return value

    def entry_id(self, path: tuple[str, ...], value: object) -> int | None:
        """0, false, null and a missing id mean "new" (§10.3); only integers are ids."""
        if value is None or value is False or (value == 0 and isinstance(value, int)):
            return 0
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        self.problem(path, value, Reason.INVALID)
        return None

    # -- collections (§10.3)

    def entry_changes(self, collection: Collection, value: object) -> list[EntryChange]:
        name = collection.value
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem((name,), value, Reason.INVALID)
            return []
        changes: list[EntryChange] = []
        for raw in value:
            if not isinstance(raw, dict):
                self.problem((name,), raw, Reason.INVALID)
                continue
            change = self.entry_change(collection, raw)
            if change is not None:
                changes.append(change)
        return changes

    def entry_change(self, collection: Collection, raw: dict[str, Any]) -> EntryChange | None:
        name = collection.value
        if self.is_create:
            # On create every entry is new: an id is ignored, a negative one skips the entry.
            raw_id = raw.get("id")
            is_negative = isinstance(raw_id, int) and not isinstance(raw_id, bool) and raw_id < 0
            entry_id = -1 if is_negative else 0
        else:
            maybe_id = self.entry_id((name, "id"), raw.get("id"))
            if maybe_id is None:
                return None
            entry_id = maybe_id
        if entry_id < 0:
            return None if self.is_create else RemoveEntry(-entry_id)
        value = self.entry_value(collection, raw.get("value"), is_new=entry_id == 0)
        label = self.entry_label(collection, raw)
        if value is REFUSED or label is REFUSED:
            # Still let the rules check that the id is this customer's, so that the answer
            # lists that problem too.
            return None if entry_id == 0 else UpdateEntry(entry_id)
        if entry_id == 0:
            return AddEntry(value, label)
        return UpdateEntry(entry_id, value, label)

    def entry_value(self, collection: Collection, value: object, *, is_new: bool) -> Any:
        path = (collection.value, "value")
        if value is None:
            if is_new:
                self.problem(path, None, Reason.REQUIRED)
                return REFUSED
            return None
        text = self.text(path, value, wire.MAX_ENTRY_LENGTH)
        if text is None:
            self.problem(path, value, Reason.REQUIRED)
            return REFUSED
        if text is not REFUSED and collection is Collection.EMAILS and not emails.is_address(text):
            self.problem(path, value, Reason.NOT_AN_EMAIL)
            return REFUSED
        return text

    def entry_label(self, collection: Collection, raw: dict[str, Any]) -> Any:
        key = self.label_keys[collection]
        if key is None:
            return None
        value = raw.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, str):
            label = value.strip().lower()
            label = wire.LABEL_ALIASES.get(label, label)
            if label in self.labels[collection]:
                return label
        self.problem((collection.value, key), value, Reason.INVALID)
        return REFUSED

    # -- address (§10.5)

    def address(self, value: object) -> AddressChange | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            self.problem(("address",), value, Reason.INVALID)
            return None
        if self.is_create:
            address_id = 0
        else:
            maybe_id = self.entry_id(("address", "id"), value.get("id"))
            if maybe_id is None:
                return None
            address_id = maybe_id
        if address_id < 0:
            return RemoveAddress(-address_id)
        values: dict[str, AddressValue] = {}
        refused = False
        raw_fields = dict(value)
        if raw_fields.get("postalCode") is None and wire.POSTAL_CODE_ALIAS in raw_fields:
            raw_fields["postalCode"] = raw_fields[wire.POSTAL_CODE_ALIAS]
        for wire_name, name in wire.ADDRESS_FIELDS.items():
            raw = raw_fields.get(wire_name)
            if raw is None:
                continue
            parsed = self.address_value(name, raw)
            if parsed is REFUSED:
                refused = True
            else:
                values[name] = parsed
        # A refused field leaves the address as it was; the id is still checked.
        if refused and address_id == 0:
            return None
        if address_id == 0:
            return SetAddress(values)
        return UpdateAddress(address_id, values)

    def address_value(self, name: str, raw: object) -> Any:
        path = ("address", name)
        if name == "lines":
            lines = [raw] if isinstance(raw, str) else raw  # one string is one line (§10.5)
            if not isinstance(lines, list):
                self.problem(path, raw, Reason.INVALID)
                return REFUSED
            result = [self.text(path, line, wire.MAX_ENTRY_LENGTH) for line in lines]
            if any(line is REFUSED for line in result):
                return REFUSED
            return tuple(line for line in result if line is not None)
        if name == "postal_code" and isinstance(raw, int) and not isinstance(raw, bool):
            raw = str(raw)  # a number is taken as text (§10.5)
        return self.text(path, raw, wire.MAX_ENTRY_LENGTH)


class _Refused:
    """Marks a value that was reported as a problem."""


#: What a `BodyReader` value reader returns for a value it reported as a problem.
REFUSED: Any = _Refused()
