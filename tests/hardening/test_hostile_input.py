"""Hostile input over HTTP: each request gets a precise 4xx in v1's shape and leaves the data as
it was, or is stored and returned byte-for-byte. (Bodies over 100 kB, malformed JSON, wrong
types and lengths, and the 32-bit ids of tests/http are not repeated here.)"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import Account, Server
from tests.helpers import (
    MALFORMED,
    NOT_FOUND,
    assert_empty,
    assert_error,
    assert_invalid,
    create,
    customer_count,
    customer_id,
    fetch,
    ids,
    raw,
)

COLLECTIONS = {
    "emails": ("email", "a@example.com"),
    "phones": ("phone", "555"),
    "chats": ("chat", "chat"),
    "socialProfiles": ("social profile", "https://example.com/p"),
    "websites": ("website", "https://example.com"),
}
HUGE = [2**31, 2**63 - 1, 2**63, 2**64, 2**70, 10**30]


def rich(client: httpx.Client) -> int:
    return create(
        client,
        **{name: [{"value": value}] for name, (_, value) in COLLECTIONS.items()},
        address={"city": "Boston", "state": "MA", "postalCode": "02110", "country": "US"},
    )


# -- ids out of every range


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_path_ids_of_any_length_are_not_found(client: httpx.Client, method: str) -> None:
    """Digits past what Python will read as a number (4,300) were a 500."""
    rich(client)
    for digits in ("9" * 19, "1" + "0" * 30, "9" * 4301, "9" * 20_000):
        path = f"/v1/customers/{digits}.json"
        assert_error(client.request(method, path, json={"firstName": "X"}), 404, NOT_FOUND)
    response = client.get(f"/v1/mailboxes/{'9' * 5000}/customers.json")
    assert_error(response, 404, NOT_FOUND)


def test_leading_zeros_do_not_make_an_id_too_long(client: httpx.Client) -> None:
    customer = create(client)
    assert fetch(client, customer) == fetch(client, int(f"{'0' * 40}{customer}"))


@pytest.mark.parametrize("sign", [1, -1])
def test_huge_entry_and_address_ids_are_refused_and_change_nothing(
    client: httpx.Client, sign: int
) -> None:
    customer = rich(client)
    before = raw(client, customer)
    for huge in HUGE:
        sent = sign * huge
        body: dict[str, Any] = {
            name: [{"id": sent, "value": value}] for name, (_, value) in COLLECTIONS.items()
        }
        body["address"] = {"id": sent, "city": "Cambridge"}
        assert_invalid(
            client.put(f"/v1/customers/{customer}.json", json=body),
            *(
                (f"{name}:id", str(sent), f"The specified {noun} is not valid")
                for name, (noun, _) in COLLECTIONS.items()
            ),
            ("address:id", str(sent), "The specified address is not valid"),
        )
    assert raw(client, customer) == before


def test_huge_ids_on_create_are_ignored_or_skip_the_entry(client: httpx.Client) -> None:
    """On create every entry is new: an id is ignored, a negative one skips the entry (§9.4)."""
    response = client.post(
        "/v1/customers.json?reload=true",
        json={
            "firstName": "Ann",
            "lastName": "Lee",
            "phones": [{"id": 2**70, "value": "1"}, {"id": -(2**70), "value": "2"}],
            "address": {
                "id": 2**70,
                "city": "B",
                "state": "MA",
                "postalCode": "1",
                "country": "US",
            },
        },
    )
    assert response.status_code == 201
    item = response.json()["item"]
    assert [phone["value"] for phone in item["phones"]] == ["1"]
    assert 0 < item["phones"][0]["id"] < 2**31 and 0 < item["address"]["id"] < 2**31


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        (1e300, "1e+300"),
        (-0.0, "-0.0"),
        (1.0, "1.0"),
        (2.5e-300, "2.5e-300"),
        ("1e3", "1e3"),
        ("0x10", "0x10"),
        (" 1", " 1"),
        ([], "[]"),
        ({}, "{}"),
    ],
)
def test_ids_that_are_not_whole_numbers_are_refused(
    client: httpx.Client, sent: Any, shown: str
) -> None:
    customer = rich(client)
    before = raw(client, customer)
    response = client.put(f"/v1/customers/{customer}.json", json={"phones": [{"id": sent}]})
    assert_invalid(response, ("phones:id", shown, "Value is not valid"))
    assert raw(client, customer) == before


# -- numbers, nesting and escapes JSON allows but nothing can store


@pytest.mark.parametrize(
    "body",
    [
        b'{"firstName": "Ann", "lastName": "Lee", "x": ' + b"9" * 5000 + b"}",
        b'{"firstName": "Ann", "lastName": "Lee", "x": 1e400}',
        b'{"firstName": "Ann", "lastName": "Lee", "x": -1e400}',
        b'{"firstName": "Ann", "lastName": "Lee", "x": NaN}',
        b'{"firstName": "Ann", "lastName": "Lee", "x": Infinity}',
        b'{"firstName": "Ann", "lastName": "Lee", "x": '
        + b'{"a":' * 5000
        + b"1"
        + b"}" * 5000
        + b"}",
        b'{"firstName": "\\ud800", "lastName": "Lee"}',
        b'{"firstName": "Ann", "lastName": "Lee", "ignored \\udfff": 1}',
        b'{"firstName": "Ann", "lastName": "Lee", "emails": [{"value": "\\ud83d@x.io"}]}',
        b'{"firstName": "A\x00nn", "lastName": "Lee"}',
        b'{"firstName": "A\x1fnn", "lastName": "Lee"}',
    ],
    ids=[
        "5000-digit number",
        "1e400",
        "-1e400",
        "NaN",
        "Infinity",
        "5000 nested objects",
        "lone high surrogate",
        "lone low surrogate in an unknown key",
        "half an emoji",
        "raw NUL",
        "raw control character",
    ],
)
def test_json_that_no_store_can_hold_is_not_formatted_correctly(
    client: httpx.Client, server: Server, account: Account, body: bytes
) -> None:
    customer = create(client)
    before = raw(client, customer)
    for method, path in (("POST", "/v1/customers.json"), ("PUT", f"/v1/customers/{customer}.json")):
        response = client.request(method, path, content=body)
        assert_error(response, 400, MALFORMED["error"])
        assert response.json() == MALFORMED
    assert raw(client, customer) == before
    assert customer_count(server.store, account.key) == 1


def test_escaped_nul_is_refused_in_every_text_a_body_carries(client: httpx.Client) -> None:
    customer = rich(client)
    before = raw(client, customer)
    nul = "a\x00b"
    body = {
        "firstName": nul,
        "organization": nul,
        "phones": [{"value": nul}],
        "chats": [{"value": "x", "type": nul}],
        "address": {"lines": [nul], "city": nul, "state": "MA", "postalCode": "1", "country": "US"},
    }
    assert_invalid(
        client.put(f"/v1/customers/{customer}.json", json=body),
        ("firstName", nul, "Value is not valid"),
        ("organization", nul, "Value is not valid"),
        ("phones:value", nul, "Value is not valid"),
        ("chats:type", nul, "Value is not valid"),
        ("address:lines", nul, "Value is not valid"),
        ("address:city", nul, "Value is not valid"),
    )
    assert raw(client, customer) == before


def test_a_very_long_string_is_refused_whole_and_echoed_as_sent(
    client: httpx.Client, server: Server, account: Account
) -> None:
    long = "é" * 45_000  # 90,000 bytes: under the body limit, far over the name limit
    response = client.post("/v1/customers.json", json={"firstName": long, "lastName": "Lee"})
    assert_invalid(response, ("firstName", long, "Value is too long"))
    assert customer_count(server.store, account.key) == 0


# -- many entries


def test_thousands_of_entries_are_stored_and_returned_in_order(client: httpx.Client) -> None:
    phones = [{"value": f"555{n:04d}", "location": "mobile"} for n in range(2000)]
    emails = [{"value": f"person{n}@example.com"} for n in range(1000)]
    response = client.post(
        "/v1/customers.json", json={"firstName": "Ann", "lastName": "Lee", "phones": phones}
    )
    assert_empty(response, 201)
    customer = customer_id(response)
    assert_empty(client.put(f"/v1/customers/{customer}.json", json={"emails": emails}), 200)
    item = fetch(client, customer)
    assert [(p["value"], p["location"]) for p in item["phones"]] == [
        (p["value"], "mobile") for p in phones
    ]
    assert [e["value"] for e in item["emails"]] == [e["value"] for e in emails]
    every = ids(item["phones"]) + ids(item["emails"])
    assert len(set(every)) == 3000 and every == sorted(every)
    found = client.get("/v1/search/customers.json", params={"query": "person999@example.com"})
    assert [i["id"] for i in found.json()["items"]] == [customer]


def test_thousands_of_copies_of_one_value_are_one_entry(client: httpx.Client) -> None:
    """Adding a value the customer has updates that entry (spec §10.3), copies included."""
    body = {"firstName": "Ann", "lastName": "Lee", "phones": [{"value": "555"}] * 3000}
    customer = customer_id(client.post("/v1/customers.json", json=body))
    assert [p["value"] for p in fetch(client, customer)["phones"]] == ["555"]


def test_thousands_of_entries_with_one_bad_one_write_nothing(client: httpx.Client) -> None:
    customer = create(client)
    before = raw(client, customer)
    emails = [{"value": f"p{n}@example.com"} for n in range(2000)]
    emails.insert(1234, {"value": "not-an-address"})
    assert_invalid(
        client.put(f"/v1/customers/{customer}.json", json={"emails": emails}),
        ("emails:value", "not-an-address", "Value is not a valid email address"),
    )
    assert raw(client, customer) == before


# -- odd Unicode, byte for byte

ODD = {
    "combining marks (NFD, never normalized)": "Jose\u0301 Zoe\u0308",
    "precomposed (NFC)": "José Zoë",
    "right to left": "שלום עליכם",
    "right-to-left override": "\u202egnp.exe\u202c",
    "emoji with joiners": "👩\u200d👩\u200d👧\u200d👦 🏳️\u200d🌈",
    "astral plane": "\U0001d518\U0001d52b\U0001d526 \U0002070e",
    "zero width and BOM inside": "A\u200bn\ufeffn",
    "Arabic with marks": "مُحَمَّد",
    "Devanagari": "देवनागरी",
}


@pytest.mark.parametrize("text", list(ODD.values()), ids=list(ODD))
def test_odd_unicode_is_stored_and_returned_byte_for_byte(client: httpx.Client, text: str) -> None:
    body = {
        "firstName": text[:40],
        "lastName": text[-40:],
        "organization": text,
        "background": text,
        "chats": [{"value": text}],
        "address": {
            "lines": [text],
            "city": text,
            "state": text,
            "postalCode": "1",
            "country": "US",
        },
    }
    response = client.post("/v1/customers.json?reload=true", json=body)
    assert response.status_code == 201, response.text
    customer = response.json()["item"]["id"]
    got = client.get(f"/v1/customers/{customer}.json")
    item = got.json()["item"]
    assert (item["firstName"], item["lastName"]) == (text[:40], text[-40:])
    assert item["organization"] == item["background"] == text
    assert item["chats"][0]["value"] == text
    assert item["address"]["lines"] == [text] and item["address"]["city"] == text
    # The very bytes: UTF-8 as sent, not escaped, not normalized.
    assert json.dumps(text, ensure_ascii=False).encode() in got.content
    # Sent escaped, the same text.
    escaped = json.dumps({"organization": text + "!"}, ensure_ascii=True).encode()
    assert_empty(client.put(f"/v1/customers/{customer}.json", content=escaped), 200)
    assert fetch(client, customer)["organization"] == text + "!"


def test_limits_count_characters_not_bytes_or_utf16_units(client: httpx.Client) -> None:
    customer = create(client)
    for name in ("😀" * 40, "e\u0301" * 20, "中" * 40):
        assert_empty(client.put(f"/v1/customers/{customer}.json", json={"firstName": name}), 200)
        assert fetch(client, customer)["firstName"] == name
    before = raw(client, customer)
    too_long = "😀" * 41
    assert_invalid(
        client.put(f"/v1/customers/{customer}.json", json={"firstName": too_long}),
        ("firstName", too_long, "Value is too long"),
    )
    assert raw(client, customer) == before


def test_unicode_email_addresses_are_kept_as_written_and_found(client: httpx.Client) -> None:
    address = "Jose\u0301@Bücher.example"
    customer = create(client, emails=[{"value": address}])
    assert fetch(client, customer)["emails"][0]["value"] == address
    for params in ({"email": address}, {"email": address.lower()}):
        listed = client.get("/v1/customers.json", params=params).json()
        assert [i["id"] for i in listed["items"]] == [customer], params
    # Another normalization form is another address: never merged behind the client's back.
    other = create(client, firstName="Bo", emails=[{"value": "José@bücher.example"}])
    assert other != customer


@pytest.mark.parametrize(
    "blank", ["\u3000", "\u2003\u00a0", "\t\n"], ids=["ideographic", "em+nbsp", "tab+newline"]
)
def test_unicode_white_space_is_blank(client: httpx.Client, blank: str) -> None:
    assert_invalid(
        client.post("/v1/customers.json", json={"firstName": blank, "lastName": "Lee"}),
        ("firstName", None, "Value is required"),
    )


# -- query strings


def test_query_strings_with_nul_or_out_of_range_ids_find_nothing(client: httpx.Client) -> None:
    """PostgreSQL refuses NUL in text and ids past 32 bits: both were a 500 there."""
    create(client, firstName="Ann")
    for params in (
        {"firstName": "Ann\x00"},
        {"email": "\x00@x.io"},
    ):
        body = client.get("/v1/customers.json", params=params).json()
        assert body == {"page": 1, "pages": 0, "count": 0, "items": []}, params
    for query in (
        '"Ann\x00"',
        'firstName:"\x00"',
        "email:a\x00@x.io",
        'emailDomain:"x\x00.io"',
        'organization:"\x00"',
        f"id:{2**40}",
        "id:999999999999999999",
        "id:-999999999999999999",
        f"id:[{2**40} TO *]",
    ):
        response = client.get("/v1/search/customers.json", params={"query": query})
        assert response.status_code == 200, (query, response.text)
        assert response.json()["count"] == 0, query
    wide = client.get("/v1/search/customers.json", params={"query": f"id:[-{2**40} TO {2**40}]"})
    assert wide.json()["count"] == 1
