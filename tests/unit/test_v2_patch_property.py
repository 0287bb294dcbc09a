"""v2 PATCH documents, decoded and applied through the domain, against a small reference model
(spec helpscout-v2-customers.md §4 "Update Customer"; docs/decisions/v2-patch-order.md).

The model is written from the spec, on the customer as v2 shows it (wire names, entries as
`{id, value, type}`): operations apply one after another; a field is set or cleared; an entry
is added (or, when the customer has its value already, emails ignoring case, that entry is
updated), overwritten, edited or removed by id, and only while the customer has that id; the
address is edited part by part and must end up complete. A refused value or operation refuses
the whole document, and then nothing changes. The comparison goes through `encode`, so the
model and the code meet on the wire shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from openscout.contract.v2 import decode, encode
from openscout.domain.customers import Address, Collection, Customer, Entry
from openscout.domain.errors import Invalid
from openscout.domain.patch import apply_edits

START = datetime(2017, 1, 1, tzinfo=UTC)
NOW = datetime(2018, 1, 1, tzinfo=UTC)
BASE = "https://openscout.test"

#: The collections the model exercises: one with case-insensitive values, one plain, one
#: without types.
COLLECTIONS = {"emails": Collection.EMAILS, "phones": Collection.PHONES, "websites": None}
EMBEDDED = {"emails": "emails", "phones": "phones", "websites": "websites"}
VALUES = {
    "emails": ["a@x.io", "A@X.io", "b@x.io", "c@x.io"],
    "phones": ["1", "2", "3"],
    "websites": ["http://a.io", "http://b.io"],
}
BAD_VALUES = {"emails": ["nope"], "phones": [""], "websites": [" "]}
TYPES = {"emails": ["home", "work", "other"], "phones": ["home", "mobile", "fax"], "websites": []}
BAD_TYPES = {"emails": ["pager"], "phones": ["aim"], "websites": []}
DEFAULT_TYPES = {"emails": "work", "phones": "work", "websites": None}
FOREIGN_ID = 9001

#: Own fields: good values as sent and as kept, and values refused.
FIELDS: dict[str, tuple[dict[Any, str | None], list[Any]]] = {
    "firstName": ({"Ann": "Ann", "Bo": "Bo", " ": None, None: None}, ["x" * 41, 3]),
    "jobTitle": ({"CTO": "CTO", "": None}, ["j" * 61]),
    "gender": ({"male": "male", "Female": "female", None: "unknown"}, ["robot"]),
    "photoType": ({"instagram": "instagram", "TWITTER": "twitter", None: None}, ["myspace"]),
}
ADDRESS_PARTS = {
    "city": ["Prague", "Brno"],
    "state": ["CZ-10"],
    "postalCode": ["11000", 60200],
    "country": ["CZ"],
    "lines": [["1 Main St"], []],
}
REQUIRED_PARTS = ("city", "state", "postalCode", "country")


class Refused(Exception):
    """The model refuses the document."""


def key(segment: str, value: str) -> str:
    return value.lower() if segment == "emails" else value


@dataclass
class Model:
    fields: dict[str, str | None]
    address: dict[str, Any] | None
    entries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def copy(self) -> Model:
        return Model(
            dict(self.fields),
            None if self.address is None else dict(self.address),
            {name: [dict(entry) for entry in rows] for name, rows in self.entries.items()},
        )

    def apply(self, operations: list[dict[str, Any]]) -> Model:
        """The model after the document; raises `Refused`."""
        result = self.copy()
        address = None if self.address is None else dict(self.address)
        address_touched = False
        for operation in operations:
            op, path, value = operation["op"], operation["path"], operation.get("value")
            parts = path[1:].split("/")
            if parts[0] in FIELDS:
                result.fields[parts[0]] = None if op == "remove" else field_value(parts[0], value)
                if parts[0] == "gender" and result.fields["gender"] is None:
                    result.fields["gender"] = "unknown"
            elif parts == ["address"]:
                address_touched = True
                if op == "remove":
                    if address is None:
                        raise Refused
                    address = None
                else:
                    address = {name: part_value(name, value.get(name)) for name in ADDRESS_PARTS}
            elif parts[0] == "address":
                address_touched = True
                address = address or dict.fromkeys(ADDRESS_PARTS)
                address[parts[1]] = None if op == "remove" else part_value(parts[1], value)
            else:
                result.entry_operation(op, parts, value)
        if address_touched:
            if address is not None:
                address["lines"] = address["lines"] or []
                if not all(address[name] for name in REQUIRED_PARTS):
                    raise Refused
            result.address = address
        return result

    def entry_operation(self, op: str, parts: list[str], value: Any) -> None:
        segment = parts[0]
        rows = self.entries[segment]
        if len(parts) == 1:  # add to the collection
            new_value, new_type = entry_value(segment, value["value"]), entry_type(segment, value)
            twin = next(
                (r for r in rows if key(segment, r["value"]) == key(segment, new_value)), None
            )
            if twin is None:
                rows.append(typed(segment, None, new_value, new_type or DEFAULT_TYPES[segment]))
            else:
                twin["value"] = new_value
                if new_type is not None:
                    twin["type"] = new_type
            return
        entry_id = int(parts[1])
        row = next((r for r in rows if r["id"] == entry_id), None)
        if len(parts) == 2 and op == "remove":
            if row is None:
                raise Refused
            rows.remove(row)
            return
        if len(parts) == 2:  # overwrite the entry
            new_value = entry_value(segment, value["value"])
            new_type = entry_type(segment, value) or DEFAULT_TYPES[segment]
        elif parts[2] == "value":
            new_value, new_type = entry_value(segment, value), None
        else:
            new_value, new_type = None, entry_type(segment, {"type": value})
            new_type = new_type or DEFAULT_TYPES[segment]
        if row is None:
            raise Refused
        if new_value is not None:
            row["value"] = new_value
        if new_type is not None:
            row["type"] = new_type
        keys = [key(segment, r["value"]) for r in rows]
        if len(set(keys)) != len(keys):
            raise Refused


def field_value(name: str, value: Any) -> str | None:
    good, _bad = FIELDS[name]
    if value not in good:
        raise Refused
    return good[value]


def part_value(name: str, value: Any) -> Any:
    if name == "lines":
        return list(value or [])
    return None if value is None else str(value)


def entry_value(segment: str, value: Any) -> str:
    if value not in VALUES[segment]:
        raise Refused
    return str(value)


def entry_type(segment: str, entry: dict[str, Any]) -> str | None:
    if not TYPES[segment]:
        return None  # websites: a type is ignored
    kind = entry.get("type")
    if kind is None:
        return None
    if kind not in TYPES[segment]:
        raise Refused
    return str(kind)


def typed(segment: str, entry_id: int | None, value: str, kind: str | None) -> dict[str, Any]:
    row: dict[str, Any] = {"id": entry_id, "value": value}
    if TYPES[segment]:
        row["type"] = kind
    return row


# -- the customer both start from -------------------------------------------------------------


def to_customer(model: Model) -> Customer:
    address = None
    if model.address is not None:
        address = Address(
            id=70,
            lines=tuple(model.address["lines"]),
            city=model.address["city"],
            state=model.address["state"],
            postal_code=model.address["postalCode"],
            country=model.address["country"],
            created_at=START,
            modified_at=START,
        )
    return Customer(
        id=1,
        created_at=START,
        modified_at=START,
        first_name=model.fields["firstName"],
        job_title=model.fields["jobTitle"],
        gender=model.fields["gender"] or "unknown",
        photo_type=model.fields["photoType"],
        address=address,
        **{  # type: ignore[arg-type]
            COLLECTIONS[segment].value if COLLECTIONS[segment] else "websites": tuple(
                Entry(row["id"], row["value"], row.get("type")) for row in rows
            )
            for segment, rows in model.entries.items()
        },
    )


def shown(customer: Customer) -> Model:
    """The customer as v2 shows it, in the model's terms."""
    body = encode.customer(customer, BASE)
    embedded = body["_embedded"]
    address = embedded.get("address")
    return Model(
        {name: body[name] for name in FIELDS},
        None if address is None else dict(address),
        {segment: embedded[EMBEDDED[segment]] for segment in COLLECTIONS},
    )


# -- strategies --------------------------------------------------------------------------------


@st.composite
def models(draw: st.DrawFn) -> Model:
    fields = {
        name: draw(st.sampled_from(list(good.values()))) for name, (good, _) in FIELDS.items()
    }
    fields["gender"] = fields["gender"] or "unknown"
    address = None
    if draw(st.integers(0, 3)):
        address = {
            "lines": ["1 Main St"],
            "city": "Boston",
            "state": "MA",
            "postalCode": "02110",
            "country": "US",
        }
    ids = iter(range(10, 100))
    entries = {}
    for segment in COLLECTIONS:
        values = draw(
            st.lists(
                st.sampled_from(VALUES[segment]),
                unique_by=lambda v, s=segment: key(s, v),  # type: ignore[misc]
                max_size=3,
            )
        )
        entries[segment] = [
            typed(segment, next(ids), value, draw(st.sampled_from(TYPES[segment] or [None])))
            for value in values
        ]
    return Model(fields, address, entries)


def mostly(good: list[Any], bad: list[Any]) -> st.SearchStrategy[Any]:
    """One of `good` nine times in ten, else one of `bad`: most documents should apply."""
    if not bad:
        return st.sampled_from(good)
    return st.one_of(*[st.sampled_from(good)] * 9, st.sampled_from(bad))


def entry_body(segment: str) -> st.SearchStrategy[dict[str, Any]]:
    values = mostly(VALUES[segment], BAD_VALUES[segment])
    types = mostly(TYPES[segment] or ["ignored"], BAD_TYPES[segment])
    return st.fixed_dictionaries({"value": values}, optional={"type": types})


@st.composite
def operations(draw: st.DrawFn, ids: dict[str, list[int]]) -> dict[str, Any]:
    """One operation; entry ids are mostly the collection's own, sometimes another's."""
    kind = draw(st.sampled_from(["field", "address", "part", "add", "entry", "value", "type"]))
    if kind == "field":
        name = draw(st.sampled_from(list(FIELDS)))
        good, bad = FIELDS[name]
        op = draw(st.sampled_from(["add", "replace", "remove"]))
        return {"op": op, "path": f"/{name}", "value": draw(mostly(list(good), bad))}
    if kind == "address":
        if draw(st.integers(0, 3)) == 0:
            return {"op": "remove", "path": "/address"}
        parts = draw(mostly([list(ADDRESS_PARTS)], [["city", "lines"], []]))
        value = {name: draw(mostly(ADDRESS_PARTS[name], [None])) for name in parts}
        return {"op": draw(st.sampled_from(["add", "replace"])), "path": "/address", "value": value}
    if kind == "part":
        name = draw(st.sampled_from(list(ADDRESS_PARTS)))
        op = draw(mostly(["add", "replace"], ["remove"]))
        return {
            "op": op,
            "path": f"/address/{name}",
            "value": draw(mostly(ADDRESS_PARTS[name], [None])),
        }
    segment = draw(st.sampled_from(list(COLLECTIONS)))
    if kind == "add":
        return {"op": "add", "path": f"/{segment}", "value": draw(entry_body(segment))}
    others = [i for name, owned in ids.items() if name != segment for i in owned]
    entry_id = draw(
        mostly(ids[segment], [*others, FOREIGN_ID]) if ids[segment] else st.just(FOREIGN_ID)
    )
    if kind == "entry":
        if draw(st.booleans()):
            return {"op": "remove", "path": f"/{segment}/{entry_id}"}
        return {
            "op": "replace",
            "path": f"/{segment}/{entry_id}",
            "value": draw(entry_body(segment)),
        }
    if kind == "value" or not TYPES[segment]:
        value = draw(mostly(VALUES[segment], BAD_VALUES[segment]))
        return {"op": "replace", "path": f"/{segment}/{entry_id}/value", "value": value}
    kinds = mostly([*TYPES[segment], None], BAD_TYPES[segment])
    return {"op": "replace", "path": f"/{segment}/{entry_id}/type", "value": draw(kinds)}


# -- the property ------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_patch_documents_agree_with_the_model(data: st.DataObject) -> None:
    model = data.draw(models(), label="customer")
    customer = to_customer(model)
    assert shown(customer) == model  # the model reads the customer as encode shows it
    ids = {name: [row["id"] for row in rows] for name, rows in model.entries.items()}
    document = data.draw(st.lists(operations(ids), min_size=1, max_size=6), label="document")
    try:
        expected: Model | None = model.apply(document)
    except Refused:
        expected = None

    edits = decode.patch_request(json.dumps(document).encode())
    try:
        result = apply_edits(customer, edits, NOW)
    except Invalid as invalid:
        assert expected is None, f"refused with {invalid.problems}, the model took it"
        event("refused")
        return
    assert expected is not None, "applied, the model refused it"
    assert shown(result) == expected
    event("unchanged" if expected == model else "changed")
    if expected == model:
        assert result is customer
    else:
        assert result.modified_at == NOW
