"""Domain customers → v1 JSON shapes, keys in the order Help Scout sent them (spec §8.1)."""

from __future__ import annotations

from typing import Any

from openscout.contract.v1 import wire
from openscout.domain.customers import Address, Collection, Customer, Entry


def full(customer: Customer) -> dict[str, Any]:
    """The full shape of G and of a reload (§8.1), with its empty-collection quirk:
    `emails` and `phones` are `[]` when empty, the other three collections `null`."""
    body = _head(customer)
    body["background"] = customer.background
    body["address"] = _address(customer.address)
    body["socialProfiles"] = _entries(Collection.SOCIAL_PROFILES, customer.social_profiles) or None
    body["emails"] = _entries(Collection.EMAILS, customer.emails)
    body["phones"] = _entries(Collection.PHONES, customer.phones)
    body["chats"] = _entries(Collection.CHATS, customer.chats) or None
    body["websites"] = _entries(Collection.WEBSITES, customer.websites) or None
    return body


def list_item(customer: Customer) -> dict[str, Any]:
    """The shape of list items (L1, L2): the full shape up to `modifiedAt` (§8.1)."""
    return _head(customer)


def search_item(customer: Customer) -> dict[str, Any]:
    """The shape of search results (S): emails as plain strings after `fullName` (§8.1)."""
    head = _head(customer)
    body = {key: head.pop(key) for key in ("id", "firstName", "lastName", "fullName")}
    body["emails"] = [entry.value for entry in customer.emails]
    body.update(head)
    return body


def _head(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.id,
        "firstName": customer.first_name,
        "lastName": customer.last_name,
        "fullName": customer.full_name,
        "photoUrl": customer.photo_url,
        "photoType": _photo_type(customer.photo_type),
        "gender": _gender(customer.gender),
        "age": customer.age,
        "organization": customer.organization,
        "jobTitle": customer.job_title,
        "location": customer.location,
        "createdAt": wire.timestamp(customer.created_at),
        "modifiedAt": wire.timestamp(customer.modified_at),
    }


def _photo_type(value: str | None) -> str | None:
    """v1 knows seven photo types; data written otherwise shows as `unknown` (§8.3)."""
    if value is None:
        return None
    value = value.lower()
    return value if value in wire.PHOTO_TYPES else "unknown"


def _gender(value: str | None) -> str:
    """Never null, always lowercase, always one of v1's three values (§8.1, §8.3)."""
    value = (value or "unknown").lower()
    return value if value in wire.GENDERS else "unknown"


def _entries(collection: Collection, entries: tuple[Entry, ...]) -> list[dict[str, Any]]:
    key = wire.LABEL_KEYS[collection]
    if key is None:
        return [{"id": entry.id, "value": entry.value} for entry in entries]
    known = wire.LABELS[collection]
    return [
        {"id": entry.id, "value": entry.value, key: _label(entry.label, known)} for entry in entries
    ]


def _label(value: str | None, known: frozenset[str]) -> str:
    """Entry labels outside v1's lists show as `other` (§8.3)."""
    value = (value or "other").lower()
    return value if value in known else "other"


def _address(address: Address | None) -> dict[str, Any] | None:
    if address is None:
        return None
    return {
        "id": address.id,
        "lines": list(address.lines),
        "city": address.city,
        "state": address.state,
        "postalCode": address.postal_code,
        "country": address.country,
        "createdAt": wire.timestamp(address.created_at) if address.created_at else None,
        "modifiedAt": wire.timestamp(address.modified_at) if address.modified_at else None,
    }
