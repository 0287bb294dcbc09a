"""python-helpscout (PyPI, `import helpscout`), unedited, against openscout: its base URL is a
constructor argument.

What the client does, read from its code (`helpscout/client.py`): client credentials as a form
body; every request with `content-type: application/json` and a stray `charset: UTF-8` header,
GET and DELETE included (spec §8a.10); query parameters joined by hand, unencoded (§8a.15);
lists followed through `_links.next.href` until there is none (§8a.5); on a 401 it asks for a
new token and sends the request again (§8a.3); a 201 or 204 gives `None`. It never reads
`Resource-ID`: a create cannot tell its caller the new id, against Help Scout as here, so these
tests find what they created by searching, as the client's users must. Its retry after a 401
or a 429 leaves the query parameters out (`hit_` calls itself without `params`): a filtered
list whose token expired comes back unfiltered, against Help Scout as here, so the tests let a
token expire only before a request without parameters or between two pages (the next link
carries them)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from helpscout import HelpScout
from helpscout.exceptions import HelpScoutAuthenticationException, HelpScoutException

from openscout import apps
from openscout.apps import DEFAULT_TOKEN_LIFETIME
from tests.clients.conftest import App, define_property, load
from tests.conftest import Clock, Server


@pytest.fixture
def hs(server: Server, app: App) -> Iterator[HelpScout]:
    yield HelpScout(app.client_id, app.client_secret, base_url=f"{server.url}/v2/")


def found(hs: HelpScout, query: str) -> list[Any]:
    """The customers a search finds, as the client's objects."""
    result = hs.customers.get(params={"query": query})
    assert isinstance(result, list)
    return result


def the_one(hs: HelpScout, email: str) -> Any:
    (customer,) = found(hs, f'(email:"{email}")')
    return customer


def entries(hs: HelpScout, customer_id: int, collection: str) -> list[dict[str, Any]]:
    """An entry list: no `page`, so the client hands back the whole answer as one object
    (spec §8a.16), its entries under `_embedded`."""
    (answer,) = getattr(hs.customers[customer_id], collection).get()
    listed: list[dict[str, Any]] = answer._embedded[collection.replace("-", "_")]
    return listed


def test_creates_reads_patches_overwrites_and_deletes_a_customer(hs: HelpScout) -> None:
    created = hs.customers.post(
        data={
            "firstName": "Vera",
            "lastName": "Lind",
            "jobTitle": "Pilot",
            "gender": "Female",
            "emails": [{"type": "work", "value": "vera@lind.example"}],
            "phones": [{"type": "mobile", "value": "+420 777 000 111"}],
            "address": {
                "city": "Brno",
                "state": "JM",
                "postalCode": "60200",
                "country": "CZ",
                "lines": ["Kounicova 1"],
            },
        }
    )
    assert created is None  # 201, no body (spec §2)
    customer_id = the_one(hs, "vera@lind.example").id

    customer = hs.customers.get(resource_id=customer_id)
    assert (customer.id, customer.firstName, customer.lastName) == (customer_id, "Vera", "Lind")
    assert customer.gender == "female"
    assert [e["value"] for e in customer._embedded["emails"]] == ["vera@lind.example"]
    assert customer._embedded["address"]["city"] == "Brno"
    assert customer._links["self"]["href"].endswith(f"/v2/customers/{customer_id}")
    assert hs.customers[customer_id].get() == customer  # the same read, by item

    hs.customers.patch(
        resource_id=customer_id,
        data=[
            {"op": "replace", "path": "/firstName", "value": "Verona"},
            {"op": "add", "path": "/emails", "value": {"type": "home", "value": "v@home.example"}},
            {"op": "replace", "path": "/address/city", "value": "Praha"},
            {"op": "remove", "path": "/jobTitle"},
        ],
    )
    patched = hs.customers.get(resource_id=customer_id)
    assert (patched.firstName, patched.jobTitle) == ("Verona", None)
    assert patched._embedded["address"]["city"] == "Praha"
    assert sorted(e["value"] for e in patched._embedded["emails"]) == [
        "v@home.example",
        "vera@lind.example",
    ]

    # An overwrite as a user of this client writes one: the customer read, changed, sent back
    # whole (ids, timestamps, _embedded, _links and all). What PUT does not overwrite is ignored.
    whole = {name: getattr(patched, name) for name in patched._attrs}
    whole.update(firstName="Vee", age="30-35")
    del whole["lastName"]
    hs.customers.put(resource_id=customer_id, data=whole)
    overwritten = hs.customers.get(resource_id=customer_id)
    assert (overwritten.firstName, overwritten.lastName, overwritten.age) == ("Vee", None, "30-35")
    assert overwritten._embedded["emails"] == patched._embedded["emails"]  # entries untouched
    assert overwritten._embedded["address"] == patched._embedded["address"]

    assert hs.customers.delete(resource_id=customer_id) is None
    with pytest.raises(HelpScoutException, match=r"404|not found"):
        hs.customers.get(resource_id=customer_id)
    assert found(hs, '(email:"vera@lind.example")') == []
    # Its address is free again.
    hs.customers.post(data={"emails": [{"type": "work", "value": "vera@lind.example"}]})
    assert the_one(hs, "vera@lind.example").id != customer_id


def test_edits_entries_and_the_address_one_by_one(hs: HelpScout) -> None:
    hs.customers.post(data={"firstName": "Otto", "emails": [{"type": "work", "value": "o@t.to"}]})
    customer_id = the_one(hs, "o@t.to").id
    item = hs.customers[customer_id]

    assert item.emails.post(data={"type": "other", "value": "otto@second.example"}) is None
    assert item.phones.post(data={"type": "work", "value": "555-0100"}) is None
    assert item.chats.post(data={"type": "skype", "value": "otto.s"}) is None
    assert getattr(item, "social-profiles").post(data={"type": "twitter", "value": "@otto"}) is None
    assert item.websites.post(data={"value": "https://otto.example"}) is None
    emails = entries(hs, customer_id, "emails")
    assert [(e["type"], e["value"]) for e in emails] == [
        ("work", "o@t.to"),
        ("other", "otto@second.example"),
    ]
    (phone,) = entries(hs, customer_id, "phones")
    assert (phone["type"], phone["value"]) == ("work", "555-0100")
    assert [c["value"] for c in entries(hs, customer_id, "chats")] == ["otto.s"]
    assert [s["value"] for s in entries(hs, customer_id, "social-profiles")] == ["@otto"]
    assert [w["value"] for w in entries(hs, customer_id, "websites")] == ["https://otto.example"]

    second = emails[1]["id"]
    item.emails[second].put(data={"type": "home", "value": "otto@home.example"})
    item.phones[phone["id"]].put(data={"type": "fax", "value": "555-0199"})
    assert [(e["id"], e["type"], e["value"]) for e in entries(hs, customer_id, "emails")] == [
        (emails[0]["id"], "work", "o@t.to"),
        (second, "home", "otto@home.example"),
    ]
    assert [(p["type"], p["value"]) for p in entries(hs, customer_id, "phones")] == [
        ("fax", "555-0199")
    ]
    item.emails[second].delete()
    item.phones[phone["id"]].delete()
    assert [e["value"] for e in entries(hs, customer_id, "emails")] == ["o@t.to"]
    assert entries(hs, customer_id, "phones") == []

    address = {"city": "Oslo", "state": "OS", "postalCode": "0150", "country": "NO", "lines": []}
    assert item.address.post(data=address) is None
    (shown,) = item.address.get()
    assert (shown.city, shown.country) == ("Oslo", "NO")
    item.address.put(data={**address, "city": "Bergen", "postalCode": "5003"})
    (shown,) = item.address.get()
    assert (shown.city, shown.postalCode) == ("Bergen", "5003")
    item.address.delete()
    assert "address" not in hs.customers.get(resource_id=customer_id)._embedded


def test_sets_customer_properties(server: Server, app: App, hs: HelpScout) -> None:
    define_property(server, app.account, "plan", "dropdown", ("Free", "Plus"))
    define_property(server, app.account, "seats", "number")
    hs.customers.post(data={"emails": [{"type": "work", "value": "p@rops.example"}]})
    customer_id = the_one(hs, "p@rops.example").id
    (definitions,) = getattr(hs, "customer-properties").get()
    assert [d["slug"] for d in definitions._embedded["customer-properties"]] == ["plan", "seats"]

    hs.customers[customer_id].properties.patch(
        data=[
            {"op": "replace", "path": "/plan", "value": "Plus"},
            {"op": "replace", "path": "/seats", "value": 12},
        ]
    )
    values = hs.customers.get(resource_id=customer_id)._embedded["properties"]
    assert {v["slug"]: v["text"] for v in values} == {"plan": "Plus", "seats": "12"}
    # The same document by PUT, as one client sends it (spec §8a.16).
    hs.customers[customer_id].properties.put(data=[{"op": "remove", "path": "/seats"}])
    values = hs.customers.get(resource_id=customer_id)._embedded["properties"]
    assert [v["slug"] for v in values] == ["plan"]


def test_lists_every_page_of_a_filtered_list_and_searches(server: Server, app: App) -> None:
    hs = HelpScout(app.client_id, app.client_secret, base_url=f"{server.url}/v2/")
    paged = load(
        server,
        app.account,
        [
            {
                "firstName": "Page",
                "lastName": f"P{n:02}",
                "emails": [{"type": "work", "value": f"p{n}@pg.example"}],
            }
            for n in range(57)
        ],
    )
    others = load(
        server, app.account, [{"firstName": "Other", "lastName": f"O{n}"} for n in range(4)]
    )

    everyone = hs.customers.get()
    assert sorted(c.id for c in everyone) == sorted(paged + others)  # two pages, no repeats
    # The next link carries the filter (§8a.5): page 2 holds only matches too.
    named = hs.customers.get(
        params={"firstName": "Page", "sortField": "lastName", "sortOrder": "asc"}
    )
    assert [c.id for c in named] == paged
    assert all(c._embedded["emails"] for c in named)  # list items embed their entries (§8a.6)

    # Queries the client sends unencoded: quotes, parentheses, colons, brackets (§8a.15).
    by_domain = found(hs, '(emailDomain:"pg.example")')
    assert sorted(c.id for c in by_domain) == sorted(paged)
    either = found(hs, '(lastName:"P07" OR lastName:"O2")')
    assert sorted(c.id for c in either) == sorted([paged[7], others[2]])
    assert [c.id for c in found(hs, 'email:"p3@pg.example"')] == [paged[3]]
    assert sorted(c.id for c in found(hs, "modifiedAt:[2000-01-01T00:00:00Z TO *]")) == sorted(
        paged + others
    )
    assert found(hs, '(email:"nobody@pg.example")') == []  # an empty page: no bogus object


def test_gets_a_new_token_when_its_token_expires(hs: HelpScout, clock: Clock) -> None:
    hs.customers.post(data={"firstName": "Tess", "emails": [{"type": "work", "value": "t@ok.en"}]})
    customer_id = the_one(hs, "t@ok.en").id
    first = hs.access_token

    clock.advance(DEFAULT_TOKEN_LIFETIME + 1)  # its token is expired: 401, never 403 (§8a.3)
    assert hs.customers.get(resource_id=customer_id).firstName == "Tess"
    assert hs.access_token not in (None, first)
    hs.customers.patch(
        resource_id=customer_id, data=[{"op": "replace", "path": "/firstName", "value": "Tessa"}]
    )
    assert hs.customers.get(resource_id=customer_id).firstName == "Tessa"


def test_gets_a_new_token_between_two_pages_of_a_list(
    server: Server, app: App, hs: HelpScout, clock: Clock
) -> None:
    made = load(server, app.account, [{"firstName": f"Lee{n}"} for n in range(53)])
    pages = hs.hit_("customers", "get")  # the client's own generator: a page at a time
    first = next(pages)
    assert first is not None and len(first["customers"]) == 50
    token = hs.access_token

    clock.advance(DEFAULT_TOKEN_LIFETIME + 1)  # the next page's request meets a 401
    rest = list(pages)
    assert [len(page["customers"]) for page in rest if page is not None] == [3]
    assert hs.access_token != token
    listed = [c["id"] for page in [first, *rest] if page is not None for c in page["customers"]]
    assert sorted(listed) == sorted(made)


def test_a_revoked_app_is_told_so_once(server: Server, app: App, hs: HelpScout) -> None:
    hs.customers.post(data={"firstName": "Rex"})
    assert apps.revoke_app(server.store, app.client_id, server.clock())
    # 401 on the request, then the token endpoint refuses the app: one error, no loop.
    with pytest.raises(HelpScoutAuthenticationException, match="invalid_client"):
        hs.customers.get()
