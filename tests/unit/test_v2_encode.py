"""contract.v2.encode and the HAL envelopes of contract.v2.wire: customers with embedded entries
and links, list pages with their links on every kind of page, and a customer written back as it
was read (spec helpscout-v2-customers.md §2, §3, §8a.5-9, §8a.16; docs/decisions/v2-empty-page.md,
v2-page-links.md)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from openscout.contract.v1 import encode as v1_encode
from openscout.contract.v2 import decode, encode, wire
from openscout.domain.changes import apply_patch
from openscout.domain.customers import Address, Collection, Customer, Entry, Property
from openscout.domain.patch import apply_edits
from openscout.domain.search import Found, Search

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "v2"
BASE = "https://openscout.test"
NOW = datetime(2018, 1, 1, tzinfo=UTC)

RICH = Customer(
    id=500,
    created_at=datetime(2012, 7, 23, 12, 34, 12, tzinfo=UTC),
    modified_at=datetime(2012, 7, 24, 20, 18, 33, tzinfo=UTC),
    first_name="Vernon",
    last_name="Bear",
    organization="Acme, Inc",
    job_title="CEO and Co-Founder",
    background="This is my background",
    location="Greater Dallas/FortWorth Area",
    photo_url="https://photos.example.com/bear.png",
    photo_type="twitter",
    gender="male",
    age="30-35",
    address=Address(
        id=9,
        lines=("Karlova 1", "Staré Město"),
        city="Prague",
        state="Prague",
        postal_code="11000",
        country="CZ",
        created_at=datetime(2012, 7, 23, 12, 34, 12, tzinfo=UTC),
    ),
    emails=(Entry(1, "bear@acme.com", "home"),),
    phones=(Entry(2, "123-123-123", "home"),),
    chats=(Entry(5, "54831172", "aim"),),
    social_profiles=(Entry(4, "@me", "twitter"),),
    websites=(Entry(3, "http://home.com"),),
    organization_id=35,
    conversation_count=10,
    properties=(Property("car", "Car", "text", "Tesla"),),
)
BARE = Customer(id=7, created_at=RICH.created_at, modified_at=RICH.created_at)


def golden(name: str) -> Any:
    return json.loads((GOLDEN / name).read_text("utf-8"))


def same_with_order(one: Any, other: Any) -> bool:
    """Equal, keys in the same order at every level."""
    return json.dumps(one) == json.dumps(other)


# -- one customer --------------------------------------------------------------------------


def test_a_rich_customer_is_the_golden_object_keys_in_order() -> None:
    assert same_with_order(encode.customer(RICH, BASE), golden("customer.json"))


def test_a_bare_customer_has_empty_collections_and_no_address() -> None:
    body = encode.customer(BARE, BASE)
    assert body["_embedded"] == {
        "emails": [],
        "phones": [],
        "chats": [],
        "social_profiles": [],
        "websites": [],
        "properties": [],
    }
    assert (body["firstName"], body["gender"], body["organizationId"], body["draft"]) == (
        None,
        "unknown",
        None,
        False,
    )


def test_links_are_absolute_even_with_a_trailing_slash_on_the_base() -> None:
    links = encode.customer(BARE, BASE + "/")["_links"]
    assert links["self"] == {"href": f"{BASE}/v2/customers/7"}
    assert links["social-profiles"] == {"href": f"{BASE}/v2/customers/7/social-profiles"}


@pytest.mark.parametrize(("stored", "shown"), [("Male", "male"), ("FEMALE", "female")])
def test_gender_is_shown_lowercase(stored: str, shown: str) -> None:
    assert encode.customer(replace(BARE, gender=stored), BASE)["gender"] == shown


def test_photo_type_instagram_is_shown_as_stored() -> None:
    assert encode.customer(replace(BARE, photo_type="instagram"), BASE)["photoType"] == "instagram"


def test_an_entry_without_a_label_shows_type_other() -> None:
    shown = encode.customer(replace(BARE, chats=(Entry(1, "x"),)), BASE)["_embedded"]["chats"]
    assert shown == [{"id": 1, "value": "x", "type": "other"}]


def test_a_property_with_its_own_text_shows_it() -> None:
    customer = replace(BARE, properties=(Property("tier", "Tier", "dropdown", "17", "Gold"),))
    assert encode.customer(customer, BASE)["_embedded"]["properties"][0]["text"] == "Gold"


# -- entry and address sub-resources (§8a.16) ----------------------------------------------------


def test_an_entry_list_has_its_embedded_name_and_self_link_and_no_page() -> None:
    assert encode.entries_list(RICH, Collection.SOCIAL_PROFILES, BASE) == {
        "_embedded": {"social_profiles": [{"id": 4, "value": "@me", "type": "twitter"}]},
        "_links": {"self": {"href": f"{BASE}/v2/customers/500/social-profiles"}},
    }


def test_the_address_resource_has_a_self_link_and_none_when_absent() -> None:
    assert encode.address_resource(RICH, BASE) == {
        **golden("customer.json")["_embedded"]["address"],
        "_links": {"self": {"href": f"{BASE}/v2/customers/500/address"}},
    }
    assert encode.address_resource(BARE, BASE) is None


# -- list pages (§2, §8a.5-7) ----------------------------------------------------------------------

PATH = wire.CUSTOMERS_PATH


def page_of(count: int, page: int, params: list[tuple[str, str]]) -> dict[str, Any]:
    search = Search(page=page, page_size=50)
    on_page = max(0, min(50, count - search.offset))
    found = Found(count, [replace(BARE, id=i + 1) for i in range(on_page)])
    return encode.customers_page(found, search, BASE, PATH, params)


def href(query: str) -> dict[str, str]:
    return {"href": f"{BASE}/v2/customers?{query}"}


TEMPLATE = {"href": f"{BASE}/v2/customers{{?page}}", "templated": True}


def test_a_middle_page_links_every_way_and_carries_the_filters() -> None:
    body = page_of(511, 2, [("query", '(email:"a@b.io")'), ("page", "2"), ("sortOrder", "asc")])
    filters = "query=%28email%3A%22a%40b.io%22%29&sortOrder=asc"
    assert list(body) == ["_embedded", "_links", "page"]
    assert body["_links"] == {
        "self": href(f"{filters}&page=2"),
        "first": href(f"{filters}&page=1"),
        "last": href(f"{filters}&page=11"),
        "next": href(f"{filters}&page=3"),
        "previous": href(f"{filters}&page=1"),
        "page": TEMPLATE,
    }
    assert body["page"] == {"size": 50, "totalElements": 511, "totalPages": 11, "number": 2}
    assert len(body["_embedded"]["customers"]) == 50
    assert body["_embedded"]["customers"][0]["_embedded"]["emails"] == []


def test_the_first_page_has_no_previous() -> None:
    links = page_of(120, 1, [])["_links"]
    assert set(links) == {"self", "first", "last", "next", "page"}
    assert links["next"] == href("page=2")


def test_the_last_page_has_no_next() -> None:
    body = page_of(120, 3, [("page", "3")])
    assert set(body["_links"]) == {"self", "first", "last", "previous", "page"}
    assert body["_links"]["previous"] == href("page=2")
    assert (body["page"]["number"], len(body["_embedded"]["customers"])) == (3, 20)


def test_a_single_page_has_neither_next_nor_previous() -> None:
    assert set(page_of(50, 1, [])["_links"]) == {"self", "first", "last", "page"}


def test_an_empty_result_still_embeds_an_empty_customers_list() -> None:
    body = page_of(0, 1, [("firstName", "Nobody")])
    assert body["_embedded"] == {"customers": []}
    assert body["page"] == {"size": 50, "totalElements": 0, "totalPages": 0, "number": 1}
    assert body["_links"] == {"self": href("firstName=Nobody&page=1"), "page": TEMPLATE}


def test_a_page_beyond_the_last_is_empty_and_leads_back_to_the_last() -> None:
    body = page_of(120, 9, [("page", "9")])
    assert (body["_embedded"], body["page"]["number"]) == ({"customers": []}, 9)
    assert body["_links"]["previous"] == href("page=3")
    assert "next" not in body["_links"]


# -- v1 never shows what only v2 knows (spec v2 §8) ----------------------------------------------


def test_v1_shows_none_of_the_v2_only_data() -> None:
    v2_only = replace(RICH, photo_type="instagram", gender="Male", draft=True)
    plain = replace(
        RICH, organization_id=None, conversation_count=0, properties=(), photo_type="unknown"
    )
    shown = v1_encode.full(v2_only)
    assert shown == v1_encode.full(replace(plain, gender="male"))
    assert (shown["photoType"], shown["gender"]) == ("unknown", "male")


# -- paths (§4) ------------------------------------------------------------------------------------


def test_entry_paths_use_hyphens_and_embedded_names_underscores() -> None:
    assert wire.entries_path(Collection.SOCIAL_PROFILES) == (
        "/v2/customers/{customer_id:id}/social-profiles"
    )
    assert (
        wire.entry_path(Collection.EMAILS) == "/v2/customers/{customer_id:id}/emails/{entry_id:id}"
    )
    assert wire.EMBEDDED[Collection.SOCIAL_PROFILES] == "social_profiles"
    assert wire.ADDRESS_PATH == "/v2/customers/{customer_id:id}/address"


# -- what a client reads, it can write back (§8a.9) --------------------------------------------


def test_putting_back_the_customer_as_read_changes_nothing() -> None:
    """The PHP SDK PUTs the whole customer it holds: entries, links and all."""
    read = json.dumps(encode.customer(RICH, BASE)).encode()
    assert apply_patch(RICH, decode.overwrite_request(read), NOW) is RICH


def test_patching_every_field_to_what_was_read_changes_nothing() -> None:
    read = encode.customer(RICH, BASE)
    operations = [
        {"op": "replace", "path": f"/{name}", "value": read[name]} for name in wire.OWN_FIELDS
    ]
    address = read["_embedded"]["address"]
    operations.append({"op": "replace", "path": "/address", "value": address})
    operations.extend(
        {"op": "replace", "path": f"/emails/{entry['id']}", "value": entry}
        for entry in read["_embedded"]["emails"]
    )
    edits = decode.patch_request(json.dumps(operations).encode())
    assert apply_edits(RICH, edits, NOW) is RICH
