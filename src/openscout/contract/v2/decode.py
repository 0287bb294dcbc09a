"""v2 request bodies → domain patches and edits (spec helpscout-v2-customers.md §3, §4, §8a),
with every problem of a request reported at once.

The value readers (text, entries, the address) are v1's (`contract.v1.decode.BodyReader`):
the rules for a value are the same in both versions; what differs is which keys are read and
what leaving one out means:
- create: like v1's create, names optional, the v2 profile fields and a single `phone` too;
- overwrite (PUT): the own fields only, a field left out becomes null; every other key
  (`id`, entries, `address`, timestamps, …) is ignored, as real clients send them (§8a.9);
- patch: an array of `{op, path, value}` (or one such object), read into ordered edits;
- entry and address sub-resources: one entry, or one address, per body.
"""

from __future__ import annotations

from typing import Any

from openscout.contract.v1.decode import REFUSED, BodyReader, parse_json
from openscout.contract.v2 import wire
from openscout.domain.changes import (
    AddEntry,
    CustomerPatch,
    EntryChange,
    RemoveEntry,
    SetAddress,
    UpdateEntry,
)
from openscout.domain.customers import Collection
from openscout.domain.errors import Malformed, Reason
from openscout.domain.patch import (
    CustomerEdits,
    DropAddress,
    Edit,
    EditEntry,
    SetAddressField,
    SetField,
    overwrite,
)
from openscout.domain.properties import PropertyEdit, PropertyEdits, RemoveProperty, SetProperty

_COLLECTIONS_BY_SEGMENT = {segment: collection for collection, segment in wire.SEGMENTS.items()}
_ADDRESS_BY_SEGMENT = dict(wire.ADDRESS_FIELDS)


def create_request(body: bytes) -> CustomerPatch:
    """POST /v2/customers (§4): own fields, entry arrays, `phone`, `address`; all optional."""
    return _Reader().create(_object(body))


def overwrite_request(body: bytes) -> CustomerPatch:
    """PUT /v2/customers/{id} (§4, §8a.9): every own field; one left out becomes null."""
    reader = _Reader()
    fields = reader.own_fields(_object(body), absent_is_null=True)
    return overwrite(fields, reader.problems)


def patch_request(body: bytes) -> CustomerEdits:
    """PATCH /v2/customers/{id} (§4 "Update Customer", §8a.8): a JSON array of operations,
    or a single operation object taken as a one-operation array."""
    reader = _Reader()
    edits = [
        edit
        for index, raw in enumerate(_operations(body))
        if (edit := reader.operation(index, raw))
    ]
    return CustomerEdits(edits, tuple(reader.problems))


def entry_request(
    collection: Collection, body: bytes, entry_id: int | None = None
) -> CustomerEdits:
    """POST (`entry_id` None) or PUT of one entry sub-resource, `{type, value}` (§4).

    A PUT overwrites: `value` is required and a `type` left out becomes the collection's
    default (docs/decisions/v2-entry-overwrite.md)."""
    reader = _Reader()
    change = reader.entry_object(collection, _object(body), entry_id)
    return _edits([EditEntry(collection, change)] if change else [], reader)


def entry_removal(collection: Collection, entry_id: int) -> CustomerEdits:
    """DELETE of one entry sub-resource (§4)."""
    return CustomerEdits([EditEntry(collection, RemoveEntry(entry_id))])


def address_request(body: bytes) -> CustomerEdits:
    """POST or PUT /v2/customers/{id}/address (§4): the body becomes the whole address."""
    reader = _Reader()
    change = reader.address(_object(body))
    return _edits([change] if isinstance(change, SetAddress) else [], reader)


def address_removal() -> CustomerEdits:
    """DELETE /v2/customers/{id}/address (§4)."""
    return CustomerEdits([DropAddress()])


def properties_request(body: bytes) -> PropertyEdits:
    """PATCH /v2/customers/{id}/properties (§4 "Update Customer Properties"; PUT too, §8a.16):
    an array of `replace` (or `add`) and `remove` operations on `/<slug>`, or a single one.
    Whether the slug is defined and the value fits its type is the domain's to check."""
    reader = _Reader()
    edits = [
        edit
        for index, raw in enumerate(_operations(body))
        if (edit := reader.property_operation(index, raw))
    ]
    return PropertyEdits(edits, tuple(reader.problems))


def _operations(body: bytes) -> list[Any]:
    document = parse_json(body)
    if isinstance(document, dict):
        document = [document]
    if not isinstance(document, list):
        raise Malformed("the body is not an array of patch operations")
    return document


def _object(body: bytes) -> dict[str, Any]:
    document = parse_json(body)
    if not isinstance(document, dict):
        raise Malformed("the body is not a JSON object")
    return document


def _edits(edits: list[Edit], reader: _Reader) -> CustomerEdits:
    return CustomerEdits(edits, tuple(reader.problems))


class _Reader(BodyReader):
    """v1's value readers with v2's names. Every entry and address a v2 body carries is new
    (v2 bodies name no entry ids; paths do): hence `is_create`."""

    label_keys = wire.LABEL_KEYS
    labels = wire.LABELS

    def __init__(self) -> None:
        super().__init__(is_create=True)

    # -- customers

    def create(self, document: dict[str, Any]) -> CustomerPatch:
        # Null, absent and blank all leave a new customer's field at its default.
        fields = {
            name: value
            for name, value in self.own_fields(document, absent_is_null=False).items()
            if value is not None
        }
        entries: dict[Collection, list[EntryChange]] = {}
        for wire_name, collection in wire.BODY_COLLECTIONS.items():
            changes = self.entry_changes(collection, document.get(wire_name))
            if changes:
                entries[collection] = changes
        phone = document.get(wire.CREATE_PHONE)
        if phone is not None:
            value = self.entry_value(Collection.PHONES, phone, is_new=True)
            if value is not REFUSED:
                entries.setdefault(Collection.PHONES, []).append(AddEntry(value))
        address = self.address(document.get(wire.ADDRESS_SEGMENT))
        return CustomerPatch(fields, address, entries, tuple(self.problems))

    def own_fields(self, document: dict[str, Any], *, absent_is_null: bool) -> dict[str, Any]:
        """The own fields the document sets (refused ones left out); with `absent_is_null`,
        every own field, null when absent."""
        fields: dict[str, Any] = {}
        for wire_name, name in wire.OWN_FIELDS.items():
            raw = document.get(wire_name)
            if raw is None:
                if absent_is_null:
                    fields[name] = None
                continue
            value = self.own_value(name, raw)
            if value is not REFUSED:
                fields[name] = value
        return fields

    def own_value(self, name: str, raw: object) -> Any:
        """One own field's value: None for blank, REFUSED when reported as a problem."""
        choices = wire.ENUMS.get(name)
        if choices is None:
            return self.text((name,), raw, wire.MAX_LENGTHS[name])
        if isinstance(raw, str) and not raw.strip():
            return None
        if isinstance(raw, str) and raw.strip().lower() in choices:
            return raw.strip().lower()  # any case in, lowercase kept (§3)
        self.problem((name,), raw, Reason.INVALID)
        return REFUSED

    # -- entries

    def entry_change(self, collection: Collection, raw: dict[str, Any]) -> EntryChange | None:
        """An entry of a create's array: new, whatever `id` it carries. v1's rule that a
        negative id skips the entry is an instruction of v1's update language, which v2 has
        not (docs/decisions/v2-written-fields.md: any id ignored)."""
        return self.entry_object(collection, raw, None)

    def entry_object(
        self, collection: Collection, raw: object, entry_id: int | None
    ) -> EntryChange | None:
        """`{type, value}`: a new entry, or (with `entry_id`) that entry overwritten."""
        if isinstance(raw, dict):
            value = self.entry_value(collection, raw.get(wire.ENTRY_VALUE), is_new=True)
            label = self.entry_label(collection, raw)
        else:
            self.problem((collection.value,), raw, Reason.INVALID)
            value = label = REFUSED
        if value is REFUSED or label is REFUSED:
            # The id is still checked, so that the answer lists that problem too.
            return None if entry_id is None else UpdateEntry(entry_id)
        if entry_id is None:
            return AddEntry(value, label)
        return UpdateEntry(entry_id, value, label or collection.default_label)

    # -- patch operations

    def operation(self, index: int, raw: object) -> Edit | None:
        """One `{op, path, value}` of a PATCH document; its problems name it by `index`."""
        read = self.operation_parts(index, raw)
        if read is None:
            return None
        op, path, segments, value = read
        edit = self.edit(op, segments, value)
        if edit is _UNKNOWN_PATH:
            self.problem((str(index), wire.PATH), path, Reason.INVALID)
            return None
        result: Edit | None = edit
        return result

    def operation_parts(self, index: int, raw: object) -> tuple[str, str, list[str], Any] | None:
        """The op, path, path segments and value of one operation; None when it is malformed
        (reported, naming the operation by `index`)."""
        at = str(index)
        if not isinstance(raw, dict):
            self.problem((at,), raw, Reason.INVALID)
            return None
        op, path = raw.get(wire.OP), raw.get(wire.PATH)
        is_known_op = isinstance(op, str) and op in wire.OPERATIONS
        if not is_known_op:
            self.problem((at, wire.OP), op, Reason.INVALID if op is not None else Reason.REQUIRED)
        if not isinstance(path, str) or not path.startswith("/"):
            self.problem(
                (at, wire.PATH), path, Reason.INVALID if path is not None else Reason.REQUIRED
            )
            return None
        if not is_known_op:
            return None
        if op != "remove" and wire.VALUE not in raw:
            self.problem((at, wire.VALUE), None, Reason.REQUIRED)
            return None
        segments = [_unescape(segment) for segment in path[1:].split("/")]
        return str(op), path, segments, raw.get(wire.VALUE)

    def property_operation(self, index: int, raw: object) -> PropertyEdit | None:
        """One operation on `/<slug>`: `remove`, or a value (null removes too)."""
        read = self.operation_parts(index, raw)
        if read is None:
            return None
        op, path, segments, value = read
        if len(segments) != 1 or not segments[0]:
            self.problem((str(index), wire.PATH), path, Reason.INVALID)
            return None
        slug = segments[0]
        if op == "remove" or value is None:
            return RemoveProperty(slug)
        if isinstance(value, bool) or not isinstance(value, str | int):
            self.problem((wire.PROPERTIES_SEGMENT, slug), value, Reason.INVALID)
            return None
        return SetProperty(slug, value)

    def edit(self, op: str, segments: list[str], value: object) -> Any:
        """The edit that `op` on the path `segments` asks for: None when its value was
        refused (and reported), `_UNKNOWN_PATH` when the path names nothing `op` can change."""
        is_removal = op == "remove"
        match segments:
            case [name] if name in wire.OWN_FIELDS:
                field = wire.OWN_FIELDS[name]
                found = None if is_removal or value is None else self.own_value(field, value)
                return None if found is REFUSED else SetField(field, found)
            case [wire.ADDRESS_SEGMENT]:
                if is_removal:
                    return DropAddress()
                change = self.address(value)
                return change if isinstance(change, SetAddress) else None
            case [wire.ADDRESS_SEGMENT, part] if part in _ADDRESS_BY_SEGMENT:
                name = _ADDRESS_BY_SEGMENT[part]
                found = None if is_removal or value is None else self.address_value(name, value)
                return None if found is REFUSED else SetAddressField(name, found)
            case [segment] if segment in _COLLECTIONS_BY_SEGMENT and op == "add":
                collection = _COLLECTIONS_BY_SEGMENT[segment]
                added = self.entry_object(collection, value, None)
                return None if added is None else EditEntry(collection, added)
            case [segment, raw_id, *rest] if segment in _COLLECTIONS_BY_SEGMENT:
                collection = _COLLECTIONS_BY_SEGMENT[segment]
                entry_id = _entry_id(raw_id)
                if entry_id is None:
                    return _UNKNOWN_PATH
                edited = self.entry_edit(collection, entry_id, rest, value, is_removal=is_removal)
                if edited is _UNKNOWN_PATH or edited is None:
                    return edited
                return EditEntry(collection, edited)
        return _UNKNOWN_PATH

    def entry_edit(
        self,
        collection: Collection,
        entry_id: int,
        rest: list[str],
        value: object,
        *,
        is_removal: bool,
    ) -> Any:
        """An edit of entry `entry_id`: the whole entry, its `value` or its `type`. Removing a
        value is refused (an entry has one); removing a type restores the default."""
        label_key = wire.LABEL_KEYS[collection]
        match rest:
            case []:
                if is_removal:
                    return RemoveEntry(entry_id)
                return self.entry_object(collection, value, entry_id)
            case [wire.ENTRY_VALUE] if not is_removal:
                found = self.entry_value(collection, value, is_new=True)
                return None if found is REFUSED else UpdateEntry(entry_id, value=found)
            case [key] if key == label_key and label_key is not None:
                raw = {} if is_removal else {key: value}
                label = self.entry_label(collection, raw)
                if label is REFUSED:
                    return None
                return UpdateEntry(entry_id, label=label or collection.default_label)
        return _UNKNOWN_PATH


_UNKNOWN_PATH: Any = object()


def _unescape(segment: str) -> str:
    """A JSON Pointer segment (RFC 6901): `~1` is `/`, `~0` is `~`."""
    return segment.replace("~1", "/").replace("~0", "~")


def _entry_id(segment: str) -> int | None:
    """An entry id in a path: a positive 32-bit whole number in ASCII digits."""
    if not (segment.isascii() and segment.isdigit()) or len(segment) > 10:
        return None
    number = int(segment)
    return number if 0 < number <= wire.MAX_ID else None
