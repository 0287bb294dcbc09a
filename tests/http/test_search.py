"""S: searching customers with the v1 query language (spec §5, §8.1, §9.6;
docs/list-and-search.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from openscout import keys
from openscout.domain.customers import Customer
from tests.conftest import Account, Clock, Server
from tests.helpers import (
    JSON,
    SEARCH_KEYS,
    assert_error,
    assert_invalid,
    create,
    fetch,
    update,
)

SEARCH = "/v1/search/customers.json"
START = datetime(2017, 3, 1, 12, 0, 0, tzinfo=UTC)


def searched(client: httpx.Client, **params: Any) -> dict[str, Any]:
    response = client.get(SEARCH, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == JSON
    body: dict[str, Any] = response.json()
    assert list(body) == ["page", "pages", "count", "items"]
    for item in body["items"]:
        assert tuple(item) == SEARCH_KEYS
    return body


def found(client: httpx.Client, query: str, **params: Any) -> list[int]:
    """The ids a query finds, in the answer's order; checks that `count` agrees."""
    body = searched(client, query=query, **params)
    assert body["count"] == len(body["items"])
    return [item["id"] for item in body["items"]]


def unreadable(response: httpx.Response, position: int, detail: str) -> None:
    message = f"The search query could not be read at position {position}: {detail}"
    assert_error(response, 400, message)
    assert response.json() == {"code": 400, "error": message}


# --- shape --------------------------------------------------------------------------------------


def test_items_have_the_search_shape_with_emails_as_strings(
    client: httpx.Client, clock: Clock
) -> None:
    clock.freeze(START)
    customer = create(
        client,
        firstName="Test",
        lastName="User",
        organization="Test Company",
        jobTitle="CEO",
        emails=[{"value": "test@example.com"}, {"value": "other@example.com", "location": "home"}],
        phones=[{"value": "555-0100"}],
    )
    assert searched(client, query="(test@example.com)") == {
        "page": 1,
        "pages": 1,
        "count": 1,
        "items": [
            {
                "id": customer,
                "firstName": "Test",
                "lastName": "User",
                "fullName": "Test User",
                "emails": ["test@example.com", "other@example.com"],
                "photoUrl": None,
                "photoType": None,
                "gender": "unknown",
                "age": None,
                "organization": "Test Company",
                "jobTitle": "CEO",
                "location": None,
                "createdAt": "2017-03-01T12:00:00Z",
                "modifiedAt": "2017-03-01T12:00:00Z",
            }
        ],
    }


def test_a_customer_without_emails_has_an_empty_list(client: httpx.Client) -> None:
    create(client)
    assert searched(client)["items"][0]["emails"] == []


def test_each_item_carries_its_own_emails(client: httpx.Client) -> None:
    for number in range(3):
        create(client, emails=[{"value": f"c{number}@example.com"}, {"value": f"d{number}@x.io"}])
    items = searched(client)["items"]
    assert [item["emails"] for item in items] == [
        [f"c{number}@example.com", f"d{number}@x.io"] for number in (2, 1, 0)
    ]


def test_no_query_an_empty_query_and_star_find_everyone_newest_first(
    client: httpx.Client, clock: Clock
) -> None:
    clock.freeze(START)
    older = create(client)
    clock.advance(1)
    newer = create(client)
    assert [item["id"] for item in searched(client)["items"]] == [newer, older]
    for query in ("", "*", "(*)", "  "):
        assert found(client, query) == [newer, older]


def test_only_the_accounts_own_customers_are_found(
    client: httpx.Client, other_client: httpx.Client
) -> None:
    create(other_client, firstName="Zed", emails=[{"value": "zed@example.com"}])
    assert found(client, "zed") == []
    assert found(client, "zed@example.com") == []
    assert found(client, "*") == []


# --- the language, end to end -------------------------------------------------------------------


@pytest.fixture
def crew(client: httpx.Client, clock: Clock) -> dict[str, int]:
    """Five customers, created a day apart in this order (so newest first is the reverse)."""
    clock.freeze(START)
    made: dict[str, int] = {}
    for name, fields in (
        (
            "john",
            {
                "firstName": "John",
                "lastName": "Appleseed",
                "organization": "Acme Inc",
                "jobTitle": "Chief Executive Officer",
                "emails": [{"value": "john@appleseed.com"}, {"value": "j.a@Home.example"}],
            },
        ),
        (
            "jean",
            {
                "firstName": "Jean-Luc",
                "lastName": "Picard",
                "organization": "Starfleet",
                "jobTitle": "Captain",
                "emails": [{"value": "jl.picard@starfleet.example"}],
            },
        ),
        (
            "mary",
            {
                "firstName": "Mary Ann",
                "lastName": "Smith",
                "organization": "Acme Inc Europe",
                "emails": [{"value": "MARY@ACME.example"}],
            },
        ),
        (
            "ann",
            {
                "firstName": "Ann",
                "lastName": "Mary",
                "jobTitle": "Engineer",
                "emails": [{"value": "ann.mary@home.example"}],
            },
        ),
        ("nameless", {"firstName": "Smith", "lastName": "John"}),
    ):
        made[name] = create(client, **fields)
        clock.advance(86400)
    return made


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # bare words: any word of the names or the email addresses, any case
        ("john", ["nameless", "john"]),
        ("JOHN", ["nameless", "john"]),
        ("appleseed", ["john"]),
        ("luc", ["jean"]),
        ("Jean-Luc", ["jean"]),
        ("picard", ["jean"]),
        ("starfleet", ["jean"]),
        ("mary", ["ann", "mary"]),
        ("mary smith", ["mary"]),
        ("acme", ["mary"]),  # a word of an address; organizations need organization:
        ("captain", []),
        # bare and quoted email addresses
        ("john@appleseed.com", ["john"]),
        ("(john@appleseed.com)", ["john"]),
        ("JOHN@APPLESEED.COM", ["john"]),
        ('"j.a@home.example"', ["john"]),
        ('("john@appleseed.com" OR "mary@acme.example")', ["mary", "john"]),
        ("nobody@appleseed.com", []),
        # quoted text: a whole first, last or full name
        ('"John"', ["nameless", "john"]),
        ('"john appleseed"', ["john"]),
        ('"Mary Ann"', ["mary"]),
        ('"mary ann smith"', ["mary"]),
        ('"Ann Mary"', ["ann"]),
        ('"Appleseed John"', []),
        ('"smith john"', ["nameless"]),
        # fields
        ('firstName:"Mary Ann"', ["mary"]),
        ('firstName:"mary"', []),
        ("firstName:mary", ["mary"]),
        ("firstName:ann", ["ann", "mary"]),
        ('lastName:"Mary"', ["ann"]),
        ("lastName:smith", ["mary"]),
        ('fullName:"Jean-Luc Picard"', ["jean"]),
        ('fullName:"jean luc picard"', []),
        ("fullName:smith", ["nameless", "mary"]),
        ('email:"JOHN@appleseed.com"', ["john"]),
        ("email:mary@acme.example", ["mary"]),
        ("email:home", ["ann", "john"]),
        ('email:"john"', []),
        ('emailDomain:"home.example"', ["ann", "john"]),
        ("emailDomain:ACME.example", ["mary"]),
        ("emailDomain:example", []),
        ('organization:"acme inc"', ["john"]),
        ("organization:acme", ["mary", "john"]),
        ("organization:europe", ["mary"]),
        ('jobTitle:"chief executive officer"', ["john"]),
        ("jobTitle:officer", ["john"]),
        ("jobtitle:ENGINEER", ["ann"]),
        # AND, OR, NOT, parentheses, precedence
        ("john AND appleseed", ["john"]),
        ("john appleseed", ["john"]),
        ("john OR picard", ["nameless", "jean", "john"]),
        ("john AND NOT appleseed", ["nameless"]),
        ("NOT john", ["ann", "mary", "jean"]),
        ("NOT NOT picard", ["jean"]),
        ("picard OR mary AND smith", ["mary", "jean"]),
        ("(picard OR mary) AND smith", ["mary"]),
        ("NOT (john OR mary)", ["jean"]),
        ("organization:acme AND NOT emailDomain:acme.example", ["john"]),
        ("(firstName:john OR lastName:john) AND NOT email:appleseed", ["nameless"]),
        ("(((picard)))", ["jean"]),
    ],
)
def test_the_query_language(
    client: httpx.Client, crew: dict[str, int], query: str, expected: list[str]
) -> None:
    assert found(client, query) == [crew[name] for name in expected]


def test_id_terms_and_ranges(client: httpx.Client, crew: dict[str, int]) -> None:
    john, jean, mary = crew["john"], crew["jean"], crew["mary"]
    assert found(client, f"id:{jean}") == [jean]
    assert found(client, f'(id:"{jean}")') == [jean]
    assert found(client, f"id:{jean} OR id:{john}") == [jean, john]
    assert found(client, f"id:[{john} TO {mary}]") == [mary, jean, john]
    assert found(client, f"id:{{{john} TO {mary}]") == [mary, jean]
    assert found(client, f"id:{{{john} TO {mary}}}") == [jean]
    assert found(client, f"id:[* TO {jean}]") == [jean, john]
    assert found(client, "id:2147483647") == []


def test_modified_at_and_created_at_ranges(client: httpx.Client, crew: dict[str, int]) -> None:
    # created (and modified) 2017-03-01 12:00, 03-02, 03-03, 03-04, 03-05, all at noon
    in_order = ["nameless", "ann", "mary", "jean", "john"]
    everyone = [crew[name] for name in in_order]
    assert found(client, "modifiedAt:[2017-01-01T00:00:00Z TO *]") == everyone
    assert found(client, "modifiedAt:[2017-03-02T12:00:00Z TO 2017-03-04T12:00:00Z]") == [
        crew["ann"],
        crew["mary"],
        crew["jean"],
    ]
    assert found(client, "modifiedAt:{2017-03-02T12:00:00Z TO 2017-03-04T12:00:00Z}") == [
        crew["mary"]
    ]
    assert found(client, "createdAt:[* TO 2017-03-02T12:00:00Z}") == [crew["john"]]
    assert found(client, "createdAt:[2017-03-05 TO 2017-03-06]") == [crew["nameless"]]
    assert found(client, 'createdAt:"2017-03-03T12:00:00Z"') == [crew["mary"]]
    assert found(client, "modifiedAt:[2018-01-01T00:00:00Z TO *]") == []
    assert found(client, '(modifiedSince:"2017-03-04T12:00:00Z")') == [
        crew["nameless"],
        crew["ann"],
    ]
    assert found(client, "modifiedSince:2017-03-04T12:00:01Z") == [crew["nameless"]]


def test_search_follows_updates(client: httpx.Client, clock: Clock) -> None:
    clock.freeze(START)
    customer = create(
        client,
        firstName="Old",
        lastName="Name",
        organization="Old Corp",
        emails=[{"value": "old@old.example"}],
    )
    email = fetch(client, customer)["emails"][0]["id"]
    clock.advance(3600)
    update(
        client,
        customer,
        {
            "firstName": "New",
            "organization": "New Corp",
            "emails": [{"id": -email}, {"value": "new@new.example"}],
        },
    )
    for query in ("old", "firstName:old", "organization:old", "emailDomain:old.example"):
        assert found(client, query) == [], query
    for query in (
        "new",
        "name",
        "firstName:new",
        '"New Name"',
        'organization:"new corp"',
        "emailDomain:new.example",
        "new@new.example",
        "modifiedAt:[2017-03-01T13:00:00Z TO *]",
    ):
        assert found(client, query) == [customer], query
    assert searched(client, query="new")["items"][0]["emails"] == ["new@new.example"]


def test_clearing_a_field_removes_its_words(client: httpx.Client) -> None:
    customer = create(client, jobTitle="Night Manager")
    assert found(client, "jobTitle:night") == [customer]
    update(client, customer, {"jobTitle": ""})
    assert found(client, "jobTitle:night") == []
    assert found(client, 'jobTitle:"night manager"') == []


# --- sort orders ----------------------------------------------------------------------------------


@pytest.fixture
def sortable(client: httpx.Client, clock: Clock) -> dict[str, int]:
    """Created in the order c, a, b (newest last); modified in the order a, c, b."""
    clock.freeze(START)
    made = {
        "c": create(client, firstName="Cleo", lastName="Adams"),
        "a": create(client, firstName="anna", lastName="Young"),
        "b": create(client, firstName="Bert", lastName="miles"),
    }
    for name in ("a", "c", "b"):
        clock.advance(60)
        update(client, made[name], {"jobTitle": f"touched {name}"})
    return made


@pytest.mark.parametrize(
    ("field", "order", "expected"),
    [
        ("firstName", "asc", "abc"),
        ("firstName", "desc", "cba"),
        ("lastName", "asc", "cba"),
        ("lastName", "desc", "abc"),
        ("modifiedAt", "asc", "acb"),
        ("modifiedAt", "desc", "bca"),
        ("createdAt", "asc", "cab"),
        ("createdAt", "desc", "bac"),
        ("score", "desc", "bac"),
        ("score", "asc", "bac"),
        ("FIRSTNAME", "ASC", "abc"),
    ],
)
def test_sort_orders(
    client: httpx.Client, sortable: dict[str, int], field: str, order: str, expected: str
) -> None:
    ids = found(client, "*", sortField=field, sortOrder=order)
    assert ids == [sortable[name] for name in expected]


def test_the_default_order_is_newest_first(client: httpx.Client, sortable: dict[str, int]) -> None:
    assert found(client, "*") == [sortable[name] for name in "bac"]
    assert found(client, "*", sortOrder="asc") == [sortable[name] for name in "bac"]
    assert found(client, "*", sortField="firstName") == [sortable[name] for name in "cba"]


def test_customers_without_a_name_sort_first_ascending(
    client: httpx.Client, server: Server, account: Account
) -> None:
    named = create(client, firstName="Ann", lastName="Lee")
    # v1 cannot blank a name; customers without one come from elsewhere (a fixture, v2).
    with server.store.writing() as transaction:
        account_id = transaction.account_for_key(keys.hash_key(account.key))
        assert account_id is not None
        now = datetime.now(UTC).replace(microsecond=0)
        nameless = transaction.add_customer(
            account_id, Customer(id=None, created_at=now, modified_at=now, last_name="Lee")
        ).id
    assert found(client, "lee", sortField="firstName", sortOrder="asc") == [nameless, named]
    assert found(client, "lee", sortField="firstName", sortOrder="desc") == [named, nameless]


def test_equal_names_are_ordered_by_id_in_the_same_direction(client: httpx.Client) -> None:
    made = [create(client, firstName="Same", lastName="Name") for _ in range(3)]
    assert found(client, "*", sortField="lastName", sortOrder="asc") == made
    assert found(client, "*", sortField="lastName", sortOrder="desc") == made[::-1]


# --- paging ---------------------------------------------------------------------------------


def test_page_size_and_pages(client: httpx.Client, clock: Clock) -> None:
    clock.freeze(START)
    made = []
    for number in range(7):
        made.append(create(client, firstName=f"P{number}", lastName="Paged"))
        clock.advance(1)
    newest_first = made[::-1]
    for page, expected in ((1, newest_first[:3]), (2, newest_first[3:6]), (3, newest_first[6:])):
        body = searched(client, query="paged", pageSize=3, page=page)
        assert (body["page"], body["pages"], body["count"]) == (page, 3, 7)
        assert [item["id"] for item in body["items"]] == expected
    assert searched(client, query="paged", pageSize=3, page=4) == {
        "page": 4,
        "pages": 3,
        "count": 7,
        "items": [],
    }
    one = searched(client, query="paged", pageSize=1, page=7)
    assert (one["pages"], [item["id"] for item in one["items"]]) == (7, [made[0]])


@pytest.mark.parametrize(("size", "per_page"), [("0", 50), ("50", 50), ("", 50), ("1", 1)])
def test_page_size_zero_or_absent_means_fifty(
    client: httpx.Client, clock: Clock, size: str, per_page: int
) -> None:
    clock.freeze(START)
    for _ in range(51):
        create(client)
        clock.advance(1)
    body = searched(client, pageSize=size)
    assert (body["count"], body["pages"], len(body["items"])) == (51, -(-51 // per_page), per_page)


def test_a_nul_inside_a_word_matches_nothing(client: httpx.Client) -> None:
    """NUL does not split a word into two (docs/hardening.md): no customer's text holds one."""
    customer = create(client, firstName="Ann", lastName="Lee", organization="Acme Corp")
    for query in ("ann\x00lee", "firstName:ann\x00lee", "organization:acme\x00corp", "\x00"):
        assert found(client, query) == [], repr(query)
    assert found(client, "NOT ann\x00lee") == [customer]
    assert found(client, "ann lee") == [customer]


# --- bad requests -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "position", "detail"),
    [
        ("(john", 6, 'the query ends before its "(" is closed'),
        ("john)", 5, 'unexpected ")"'),
        ("john AND", 9, "the query ends where a search term was expected"),
        ('"john', 1, "this quote is never closed"),
        (
            "phone:555",
            1,
            'unknown field "phone" (known: id, firstName, lastName, fullName, email, '
            "emailDomain, organization, jobTitle, createdAt, modifiedAt, modifiedSince)",
        ),
        ("id:abc", 4, '"abc" is not an id'),
        (
            "modifiedAt:[soon TO *]",
            13,
            '"soon" is not a UTC date and time like 2017-01-01T00:00:00Z',
        ),
        (
            "firstName:[a TO b]",
            1,
            '"firstName" does not take a range (id, createdAt and modifiedAt do)',
        ),
        ("jo*", 1, 'wildcards are not supported (only "*" alone, for everyone)'),
    ],
)
def test_an_unreadable_query_is_400_saying_where(
    client: httpx.Client, query: str, position: int, detail: str
) -> None:
    unreadable(client.get(SEARCH, params={"query": query}), position, detail)


TOO_COMPLEX = (
    "the query has more than 200 conditions (a word counts 3, a quoted name 3 and 1 per word)"
)


@pytest.mark.parametrize(
    "query",
    [
        '"' + " ".join(["a"] * 999) + '"',  # 1,999 characters; 1,000 ways to split it
        'fullName:"' + " ".join(["a"] * 200) + '"',
        '"' + " ".join(["a"] * 198) + '"',
        " ".join(['"a b"'] * 41),
    ],
    ids=["a phrase of 999 words", "a full name of 200", "a phrase of 198", "41 short phrases"],
)
def test_a_quoted_phrase_counts_a_condition_per_word(client: httpx.Client, query: str) -> None:
    """Each way to split a quoted name into first and last name is one comparison of the one
    SQL statement; past 200 the query is refused, not a 500 ("Expression tree is too large")."""
    unreadable(client.get(SEARCH, params={"query": query}), 1, TOO_COMPLEX)


def test_a_quoted_phrase_within_the_limit_is_searched(client: httpx.Client) -> None:
    first, last = " ".join("abcdefghijklmnopqrst"), " ".join("uvwxyzabcdefghijklmn")
    customer = create(client, firstName=first, lastName=last)  # 39 characters each
    create(client, firstName=last, lastName=first)
    assert found(client, f'"{first} {last}"') == [customer]  # 43 of 200 conditions
    assert found(client, f'fullName:"{first.upper()} {last}"') == [customer]
    assert found(client, '"' + " ".join(["a"] * 197) + '"') == []  # 200 of 200
    assert found(client, 'fullName:"' + " ".join(["a"] * 199) + '"') == []


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"page": "0"}, ("page", "0")),
        ({"page": "x"}, ("page", "x")),
        ({"pageSize": "51"}, ("pageSize", "51")),
        ({"pageSize": "-1"}, ("pageSize", "-1")),
        ({"sortField": "email"}, ("sortField", "email")),
        ({"sortOrder": "sideways"}, ("sortOrder", "sideways")),
    ],
)
def test_bad_parameters_are_400(
    client: httpx.Client, params: dict[str, str], problem: tuple[str, str]
) -> None:
    assert_invalid(client.get(SEARCH, params=params), (*problem, "Value is not valid"))


def test_bad_parameters_come_before_an_unreadable_query(client: httpx.Client) -> None:
    response = client.get(SEARCH, params={"query": "((", "page": "0", "sortOrder": "up"})
    assert_invalid(
        response, ("page", "0", "Value is not valid"), ("sortOrder", "up", "Value is not valid")
    )


def test_the_key_is_checked_before_the_query(anonymous: httpx.Client) -> None:
    assert_error(anonymous.get(SEARCH, params={"query": "(("}), 401, "Invalid API Key")
    assert_error(anonymous.get(SEARCH, params={"page": "0"}), 401, "Invalid API Key")
    assert_error(anonymous.get(SEARCH), 401, "Invalid API Key")
