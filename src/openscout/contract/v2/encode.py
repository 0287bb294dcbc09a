"""Domain customers → v2 HAL objects, keys in the order of Help Scout's "Get Customer" (spec
helpscout-v2-customers.md §2, §3). A list item is the same object: list pages embed every
customer's entries, and a connector reads them from there only (§8a.6).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from openscout.contract.v2 import wire
from openscout.domain.customers import Address, Collection, Customer, Entry, Property
from openscout.domain.properties import PropertyDefinition, PropertyType
from openscout.domain.search import Found, Search


def customer(value: Customer, base_url: str) -> dict[str, Any]:
    """`GET /v2/customers/{id}`, and each item of a list page (§3)."""
    assert value.id is not None, "only stored customers are shown"
    embedded: dict[str, Any] = {
        wire.EMBEDDED[collection]: entries(collection, value.entries(collection))
        for collection in Collection
    }
    embedded["properties"] = [_property(item) for item in value.properties]
    if value.address is not None:
        embedded[wire.ADDRESS_SEGMENT] = address(value.address)
    return {
        "id": value.id,
        "firstName": value.first_name,
        "lastName": value.last_name,
        "gender": _gender(value.gender),
        "jobTitle": value.job_title,
        "location": value.location,
        "organization": value.organization,
        "organizationId": value.organization_id,
        "photoType": value.photo_type,
        "photoUrl": value.photo_url,
        "age": value.age,
        "conversationCount": value.conversation_count,
        "createdAt": wire.timestamp(value.created_at),
        "updatedAt": wire.timestamp(value.modified_at),
        "background": value.background,
        "draft": value.draft,
        "_embedded": embedded,
        "_links": wire.customer_links(base_url, value.id),
    }


def customers_page(
    found: Found,
    search: Search,
    base_url: str,
    path: str,
    params: Sequence[tuple[str, str]],
) -> dict[str, Any]:
    """A page of `GET /v2/customers` (§2, §8a.5-7): `params` are the request's query
    parameters, in order, for the links to carry."""
    pages = found.pages(search.page_size)
    return wire.page(
        wire.EMBEDDED_CUSTOMERS,
        [customer(item, base_url) for item in found.customers],
        wire.page_links(base_url, path, params, search.page, pages),
        number=search.page,
        size=search.page_size,
        total=found.count,
    )


def entries(collection: Collection, values: Sequence[Entry]) -> list[dict[str, Any]]:
    """Entries as v2 shows them: `id`, `value`, `type` (websites have none) (§3, §8)."""
    if wire.LABEL_KEYS[collection] is None:
        return [{"id": entry.id, "value": entry.value} for entry in values]
    return [
        {"id": entry.id, "value": entry.value, "type": entry.label or "other"} for entry in values
    ]


def entries_list(value: Customer, collection: Collection, base_url: str) -> dict[str, Any]:
    """`GET /v2/customers/{id}/<segment>`: `_embedded.<name>` and `_links.self` (§8a.16)."""
    assert value.id is not None, "only stored customers are shown"
    return wire.entries(
        wire.EMBEDDED[collection],
        entries(collection, value.entries(collection)),
        f"{wire.customer_url(base_url, value.id)}/{wire.SEGMENTS[collection]}",
    )


def address(value: Address) -> dict[str, Any]:
    """The address: no id, no timestamps in v2 (§3, §8)."""
    return {
        "city": value.city,
        "state": value.state,
        "postalCode": value.postal_code,
        "country": value.country,
        "lines": list(value.lines),
    }


def _property(value: Property) -> dict[str, Any]:
    return {
        "type": value.type,
        "slug": value.slug,
        "name": value.name,
        "value": value.value,
        "text": value.value if value.text is None else value.text,
        "source": {"name": "api"},
    }


def _gender(value: str | None) -> str:
    """Never null; lowercase, as the documented enumeration is (docs/decisions/v2-gender.md)."""
    return (value or "unknown").lower()


def address_resource(value: Customer, base_url: str) -> dict[str, Any] | None:
    """`GET /v2/customers/{id}/address`: the address with `_links.self`; None when the
    customer has none."""
    assert value.id is not None, "only stored customers are shown"
    if value.address is None:
        return None
    url = f"{wire.customer_url(base_url, value.id)}/{wire.ADDRESS_SEGMENT}"
    return {**address(value.address), "_links": {"self": wire.link(url)}}


def property_definitions(values: Iterable[PropertyDefinition], base_url: str) -> dict[str, Any]:
    """`GET /v2/customer-properties` ("List Customer Property Definitions"): each property's
    `type`, `slug` and `name`, and a dropdown's `options` as `id` and `label`; no page."""
    items = [_definition(value) for value in values]
    url = f"{base_url.rstrip('/')}{wire.CUSTOMER_PROPERTIES_PATH}"
    return wire.entries(wire.EMBEDDED_PROPERTY_DEFINITIONS, items, url)


def _definition(value: PropertyDefinition) -> dict[str, Any]:
    shown: dict[str, Any] = {"type": str(value.type), "slug": value.slug, "name": value.name}
    if value.type is PropertyType.DROPDOWN:
        shown["options"] = [{"id": id_, "label": label} for id_, label in value.options.items()]
    return shown
