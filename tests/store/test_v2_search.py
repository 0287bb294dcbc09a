"""v2's list parameters, read by `contract.v2.query`, answered by the service and the store on
both backends: `email:` containing (wildcards matched as themselves), `emailDomain:`,
`modifiedAt` ranges and `modifiedSince`, and an order that is total across pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from openscout import service
from openscout.contract.v2 import query
from openscout.domain.customers import Customer, Entry
from openscout.domain.search import Contains, Field, Found, Search
from openscout.store.engine import SqlStore
from tests.store.test_sql_store import new_account_id

START = datetime(2020, 1, 1, tzinfo=UTC)

#: Each customer's first name and email addresses.
PEOPLE = {
    "Bear": ("bear@acme.example", "Vernon.Bear@Home.example"),
    "Under": ("a_b@x.example",),
    "Plain": ("axb@x.example",),
    "Percent": ("100%@x.example",),
    "Slash": ("back\\slash@y.example",),
    "Strasse": ("Straße@Bücher.example",),
    "Nobody": (),
}


@pytest.fixture(scope="module")
def people(module_store: SqlStore) -> tuple[int, dict[str, int]]:
    """An account with `PEOPLE`, modified a day apart in that order; their ids by name."""
    account = new_account_id(module_store)
    made = [
        Customer(
            id=None,
            created_at=START,
            modified_at=START + timedelta(days=at),
            first_name=name,
            emails=tuple(Entry(None, value, "work") for value in values),
        )
        for at, (name, values) in enumerate(PEOPLE.items())
    ]
    with module_store.writing() as transaction:
        ids = transaction.add_customers(account, made)
    return account, dict(zip(PEOPLE, ids, strict=True))


def listed(store: SqlStore, account: int, **params: str) -> Found:
    listing = query.list_customers(params)
    return service.list_customers_v2(store, account, listing.search)


def names(found: Found) -> set[str | None]:
    return {customer.first_name for customer in found.customers}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("acme", {"Bear"}),
        ('"ACME.EXAMPLE"', {"Bear"}),
        ("vernon.bear@home", {"Bear"}),
        ("x.example", {"Under", "Plain", "Percent"}),
        ('"a_b"', {"Under"}),
        ('"_"', {"Under"}),
        ('"%"', {"Percent"}),
        ('"\\\\"', {"Slash"}),
        ('"/"', set()),
        ("STRASSE", {"Strasse"}),
        ('"straße@bücher"', {"Strasse"}),
        ("nowhere", set()),
    ],
)
def test_email_finds_customers_with_an_address_containing_the_text(
    module_store: SqlStore, people: tuple[int, dict[str, int]], text: str, expected: set[str]
) -> None:
    account, _ids = people
    found = listed(module_store, account, query=f"email:{text}")
    assert names(found) == expected
    assert found.count == len(expected)


def test_a_found_customer_carries_everything_it_has(
    module_store: SqlStore, people: tuple[int, dict[str, int]]
) -> None:
    account, ids = people
    (bear,) = listed(module_store, account, query="email:acme").customers
    assert bear == service.get_customer(module_store, account, ids["Bear"])
    assert [e.value for e in bear.emails] == list(PEOPLE["Bear"])


def test_email_domain_and_containing_email_combine(
    module_store: SqlStore, people: tuple[int, dict[str, int]]
) -> None:
    account, _ids = people
    assert names(listed(module_store, account, query="emailDomain:x.example")) == {
        "Under",
        "Plain",
        "Percent",
    }
    both = listed(module_store, account, query="emailDomain:x.example AND email:b")
    assert names(both) == {"Under", "Plain"}
    either = listed(module_store, account, query="email:acme OR email:slash")
    assert names(either) == {"Bear", "Slash"}
    assert names(listed(module_store, account, query="NOT email:example")) == {"Nobody"}


def test_modified_at_ranges_and_modified_since_bound_the_list(
    module_store: SqlStore, people: tuple[int, dict[str, int]]
) -> None:
    account, _ids = people
    closed = listed(
        module_store, account, query="modifiedAt:[2020-01-02T00:00:00Z TO 2020-01-04T00:00:00Z]"
    )
    assert names(closed) == {"Under", "Plain", "Percent"}
    half_open = listed(
        module_store, account, query="modifiedAt:{2020-01-02T00:00:00Z TO 2020-01-04T00:00:00Z}"
    )
    assert names(half_open) == {"Plain"}
    since = listed(module_store, account, modifiedSince="2020-01-06T00:00:00Z")
    assert names(since) == {"Strasse", "Nobody"}  # inclusive (spec v2 §8a.11)
    open_ended = listed(module_store, account, query="modifiedAt:[2020-01-07T00:00:00Z TO *]")
    assert names(open_ended) == {"Nobody"}


def test_pages_sorted_by_a_field_with_ties_hold_every_customer_once_in_id_order(
    module_store: SqlStore,
) -> None:
    account = new_account_id(module_store)
    # 120 customers, modified at three moments only: 40 ties each.
    made = [
        Customer(
            id=None,
            created_at=START,
            modified_at=START + timedelta(hours=number % 3),
            first_name="Same",
        )
        for number in range(120)
    ]
    with module_store.writing() as transaction:
        transaction.add_customers(account, made)
    for order, descending in (("asc", False), ("desc", True)):
        seen: list[Customer] = []
        for page in (1, 2, 3):
            found = listed(
                module_store,
                account,
                sortField="modifiedAt",
                sortOrder=order,
                page=str(page),
            )
            assert found.count == 120
            seen.extend(found.customers)
        keys = [(c.modified_at, c.id) for c in seen]
        assert keys == sorted(keys, reverse=descending)
        assert len({c.id for c in seen}) == 120
        by_name = [
            c.id
            for page in (1, 2, 3)
            for c in listed(
                module_store, account, sortField="firstName", sortOrder=order, page=str(page)
            ).customers
        ]
        assert by_name == sorted(by_name, reverse=descending)


@pytest.mark.parametrize(
    ("field", "text", "expected"),
    [
        (Field.FULL_NAME, "ann l", {"Ann Lee"}),
        (Field.FULL_NAME, "n", {"Ann Lee", "Ann", "Lee Nolan"}),
        (Field.FULL_NAME, "ann lee", {"Ann Lee"}),
        (Field.FULL_NAME, "e n", {"Lee Nolan"}),
        (Field.FIRST_NAME, "an", {"Ann Lee", "Ann"}),
        (Field.LAST_NAME, "ee", {"Ann Lee"}),
        (Field.ORGANIZATION, "100%", {"Ann"}),
        (Field.ORGANIZATION, "1", {"Ann"}),
        (Field.JOB_TITLE, "c_o", set()),
        (Field.JOB_TITLE, "ceo", {"Lee Nolan"}),
        (Field.EMAIL_DOMAIN, "nolan", {"Lee Nolan"}),
        (Field.EMAIL, "a\x00", set()),
    ],
)
def test_containing_matches_every_text_field_on_every_backend(
    module_store: SqlStore, field: Field, text: str, expected: set[str]
) -> None:
    account = new_account_id(module_store)
    made = [
        Customer(
            id=None,
            created_at=START,
            modified_at=START,
            first_name="Ann",
            last_name="Lee",
            emails=(Entry(None, "ann@lee.example"),),
        ),
        Customer(
            id=None, created_at=START, modified_at=START, first_name="Ann", organization="100%"
        ),
        Customer(
            id=None,
            created_at=START,
            modified_at=START,
            first_name="Lee",
            last_name="Nolan",
            job_title="CEO",
            emails=(Entry(None, "lee@nolan.example"),),
        ),
    ]
    with module_store.writing() as transaction:
        transaction.add_customers(account, made)
    found = service.list_customers(module_store, account, Search(Contains(field, text)))
    assert {c.full_name for c in found.customers} == expected
