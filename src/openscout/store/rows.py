"""Rows and domain objects, both ways: a customer, its address, its entries and its property
values as the tables hold them, built in one place for every writer (one customer, a bulk
load, a restore) and every reader (one customer, a list page, a snapshot)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from openscout.domain.customers import Address, Collection, Customer, Entry, Property
from openscout.domain.properties import PropertyDefinition, PropertyType
from openscout.store.search import name_keys
from openscout.store.tables import addresses, customers

SCALARS = (
    "first_name",
    "last_name",
    "organization",
    "job_title",
    "background",
    "location",
    "photo_url",
    "photo_type",
    "gender",
    "age",
    # v2's only (domain.customers.Customer)
    "organization_id",
    "conversation_count",
    "draft",
)

#: Where a property value is among a customer's other rows (`customer`, `with_properties`).
PROPERTIES = "properties"

_epoch = datetime.fromtimestamp(0, UTC)

LISTED_COLUMNS = (
    customers.c.id,
    customers.c.created_at,
    customers.c.modified_at,
    *(customers.c[name] for name in SCALARS),
)

ADDRESS_COLUMNS = (
    addresses.c.id.label("address_id"),
    addresses.c.lines.label("address_lines"),
    addresses.c.city.label("address_city"),
    addresses.c.state.label("address_state"),
    addresses.c.postal_code.label("address_postal_code"),
    addresses.c.country.label("address_country"),
    addresses.c.created_at.label("address_created_at"),
    addresses.c.modified_at.label("address_modified_at"),
)


def seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def moment(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def customer_values(customer: Customer) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(customer, name) for name in SCALARS}
    values["created_at"] = seconds(customer.created_at)
    values["modified_at"] = seconds(customer.modified_at)
    values.update(name_keys(customer))
    return values


def address_values(address: Address) -> dict[str, Any]:
    return {
        "lines": json.dumps(list(address.lines)),
        "city": address.city,
        "state": address.state,
        "postal_code": address.postal_code,
        "country": address.country,
        "created_at": seconds(address.created_at or address.modified_at or _epoch),
        "modified_at": None if address.modified_at is None else seconds(address.modified_at),
    }


def entry_rows(
    account_id: int,
    customer_id: int,
    collection: Collection,
    found: Iterable[Entry],
    *,
    with_ids: bool = False,
) -> list[dict[str, Any]]:
    """The `entries` rows of one collection of one customer; `with_ids` for entries whose ids
    are known (a restore, or ids drawn beforehand)."""
    return [
        {
            **({"id": entry.id} if with_ids else {}),
            "account_id": account_id,
            "customer_id": customer_id,
            "collection": collection.value,
            "value": entry.value,
            "value_key": collection.key(entry.value),
            "label": entry.label,
        }
        for entry in found
    ]


def all_entry_rows(
    account_id: int, customer_id: int, customer: Customer, *, with_ids: bool = False
) -> list[dict[str, Any]]:
    """Every collection's rows of one customer."""
    return [
        row
        for collection in Collection
        for row in entry_rows(
            account_id, customer_id, collection, customer.entries(collection), with_ids=with_ids
        )
    ]


def listed(row: Any, emails: Iterable[Entry]) -> Customer:
    """A customer as lists and searches load it: its own fields and, when asked, its emails."""
    return Customer(
        id=row.id,
        created_at=moment(row.created_at),
        modified_at=moment(row.modified_at),
        emails=tuple(emails),
        **scalars(row),
    )


def scalars(row: Any) -> dict[str, Any]:
    """The customer's own fields of a row. Statements run on the driver's cursor
    (store/prepared.py) get SQLite's booleans as the integers it keeps."""
    values: dict[str, Any] = {name: getattr(row, name) for name in SCALARS}
    values["draft"] = bool(values["draft"])
    return values


def address_fields(address: Address) -> dict[str, Any]:
    return {
        "id": address.id,
        "lines": address.lines,
        "city": address.city,
        "state": address.state,
        "postal_code": address.postal_code,
        "country": address.country,
        "created_at": address.created_at,
        "modified_at": address.modified_at,
    }


def customer(
    row: Any,
    entries: Sequence[Any],
    properties: Sequence[Property] = (),
    *,
    address: Address | None,
) -> Customer:
    """A whole customer from its row, its address, its entries' rows and its property values.
    An entry row of the `PROPERTIES` collection is a property value's, with its definition's
    columns (store/customers.py's `_ENTRIES` reads both at once)."""
    grouped: dict[str, list[Any]] = {collection.value: [] for collection in Collection}
    grouped[PROPERTIES] = list(properties)
    for entry in entries:
        if entry.collection == PROPERTIES:
            grouped[PROPERTIES].append(
                property_value(entry.label, entry.name, entry.type, entry.options, entry.value)
            )
        else:
            grouped[entry.collection].append(Entry(entry.id, entry.value, entry.label))
    values = scalars(row)
    values.update((name, tuple(found)) for name, found in grouped.items())
    return Customer(
        id=row.id,
        created_at=moment(row.created_at),
        modified_at=moment(row.modified_at),
        address=address,
        **values,
    )


def joined_address(row: Any) -> Address | None:
    """The address of a row holding `ADDRESS_COLUMNS`; None when its id is null."""
    if row.address_id is None:
        return None
    return Address(
        id=row.address_id,
        lines=tuple(json.loads(row.address_lines)),
        city=row.address_city,
        state=row.address_state,
        postal_code=row.address_postal_code,
        country=row.address_country,
        created_at=moment(row.address_created_at),
        modified_at=None if row.address_modified_at is None else moment(row.address_modified_at),
    )


# -- custom properties


def options_text(options: Mapping[int, str]) -> str:
    """A dropdown's options as `property_definitions.options` keeps them."""
    return json.dumps([[option_id, label] for option_id, label in options.items()])


def definition(slug: str, name: str, type: str, options: str) -> PropertyDefinition:
    """A property definition from the columns of its row."""
    return PropertyDefinition(slug, name, PropertyType(type), _options(type, options))


def property_value(slug: str, name: str, type: str, options: str, value: str) -> Property:
    """A customer's value of a property, with its definition's columns. A dropdown's value is
    an option's id, and reads as that option's label."""
    text = None
    if type == PropertyType.DROPDOWN and value.isdigit():
        text = _options(type, options).get(int(value))
    return Property(slug, name, PropertyType(type), value, text)


def _options(type: str, options: str) -> dict[int, str]:
    if type != PropertyType.DROPDOWN:
        return {}
    return {int(option_id): label for option_id, label in json.loads(options)}


def property_rows(
    account_id: int, customer_id: int, values: Iterable[Property]
) -> list[dict[str, Any]]:
    """The `customer_properties` rows of one customer."""
    return [
        {
            "customer_id": customer_id,
            "account_id": account_id,
            "slug": item.slug,
            "value": item.value,
        }
        for item in values
    ]


def new_email(before: Customer, after: Customer) -> str:
    known = {Collection.EMAILS.key(entry.value) for entry in before.emails}
    fresh = [e.value for e in after.emails if Collection.EMAILS.key(e.value) not in known]
    return fresh[0] if fresh else ""
