"""contract.v2.query: the list parameters of `GET /v2/customers` and v2's additions to the
search language (spec helpscout-v2-customers.md §4, §8a.11-12;
docs/decisions/v2-list-parameters.md)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from openscout.contract.v1 import query as v1_query
from openscout.contract.v2 import query
from openscout.domain.errors import Invalid, Problem, Reason, UnreadableQuery
from openscout.domain.search import (
    EVERYTHING,
    NEWEST_FIRST,
    And,
    Contains,
    Field,
    Match,
    Or,
    Range,
    Search,
    Sort,
    SortKey,
    Word,
)

NOV_20 = datetime(2013, 11, 20, tzinfo=UTC)


def listing(**params: str) -> query.Listing:
    return query.list_customers(params)


def refused(**params: str) -> list[Problem]:
    with pytest.raises(Invalid) as error:
        listing(**params)
    return list(error.value.problems)


def test_no_parameters_ask_for_everyone_newest_first_fifty_a_page() -> None:
    assert listing() == query.Listing(Search(EVERYTHING, NEWEST_FIRST, 1, 50), None)


def test_names_match_a_whole_value_and_all_filters_must_match() -> None:
    found = listing(firstName="Vernon", lastName="Bear", page="3").search
    assert found.criteria == And(
        (Match(Field.FIRST_NAME, "Vernon"), Match(Field.LAST_NAME, "Bear"))
    )
    assert found.page == 3


def test_modified_since_includes_its_own_moment() -> None:
    criteria = listing(modifiedSince="2013-11-20T00:00:00Z").search.criteria
    assert criteria == Range(Field.MODIFIED_AT, low=NOV_20, include_low=True)


def test_a_blank_parameter_counts_as_absent() -> None:
    assert listing(firstName=" ", query="", mailbox="").search.criteria == EVERYTHING


@pytest.mark.parametrize(
    ("field", "order", "sort"),
    [
        ("modifiedAt", "asc", Sort(SortKey.MODIFIED_AT, descending=False)),
        ("firstName", "desc", Sort(SortKey.FIRST_NAME, descending=True)),
        ("lastName", "ASC", Sort(SortKey.LAST_NAME, descending=False)),
        ("createdAt", "asc", Sort(SortKey.CREATED_AT, descending=False)),
        ("score", "asc", NEWEST_FIRST),
    ],
)
def test_sort_field_and_order(field: str, order: str, sort: Sort) -> None:
    assert listing(sortField=field, sortOrder=order).search.sort == sort


def test_a_mailbox_is_read_for_the_service_to_check() -> None:
    assert listing(mailbox="12").mailbox_id == 12


def test_every_bad_parameter_is_reported_at_once() -> None:
    assert refused(
        page="0", mailbox="x", modifiedSince="yesterday", sortField="age", sortOrder="up"
    ) == [
        Problem(("page",), "0", Reason.INVALID),
        Problem(("sortField",), "age", Reason.INVALID),
        Problem(("sortOrder",), "up", Reason.INVALID),
        Problem(("mailbox",), "x", Reason.INVALID),
        Problem(("modifiedSince",), "yesterday", Reason.MALFORMED),
    ]


@pytest.mark.parametrize("mailbox", ["0", "-1", "2147483648", "1.5"])
def test_a_mailbox_is_a_positive_32_bit_id(mailbox: str) -> None:
    assert refused(mailbox=mailbox) == [Problem(("mailbox",), mailbox, Reason.INVALID)]


# -- the query language: v1's, with v2's email: ---------------------------------------------------


def criteria(text: str) -> object:
    return listing(query=text).search.criteria


def test_email_matches_addresses_containing_the_text() -> None:
    assert criteria('(email:"Bear@")') == Contains(Field.EMAIL, "bear@")
    assert criteria("email:acme") == Contains(Field.EMAIL, "acme")


def test_v1_still_matches_email_terms_as_whole_addresses_and_words() -> None:
    assert v1_query.parse('email:"bear@acme.com"') == Match(Field.EMAIL, "bear@acme.com")
    assert v1_query.parse("email:acme") == Word(Field.EMAIL, "acme")


def test_email_domain_and_modified_at_ranges() -> None:
    assert criteria('emailDomain:"acme.com" AND modifiedAt:[2013-11-20T00:00:00Z TO *]') == And(
        (Match(Field.EMAIL_DOMAIN, "acme.com"), Range(Field.MODIFIED_AT, low=NOV_20)),
    )


def test_the_rest_of_the_language_is_v1s() -> None:
    assert criteria('firstName:"Vernon" OR id:500') == Or(
        (Match(Field.FIRST_NAME, "Vernon"), Match(Field.ID, 500))
    )


def test_the_query_joins_the_other_filters() -> None:
    assert criteria("email:acme") == Contains(Field.EMAIL, "acme")
    assert listing(lastName="Bear", query="email:acme").search.criteria == And(
        (Match(Field.LAST_NAME, "Bear"), Contains(Field.EMAIL, "acme"))
    )


@pytest.mark.parametrize("text", ['email:""', "email:acme*", "email:"])
def test_an_email_term_with_nothing_to_contain_is_unreadable(text: str) -> None:
    with pytest.raises(UnreadableQuery):
        listing(query=text)


def test_bad_parameters_are_reported_before_the_query_is_read() -> None:
    assert refused(page="x", query="(") == [Problem(("page",), "x", Reason.INVALID)]


@pytest.mark.parametrize(
    ("field", "text"), [(Field.CREATED_AT, "x"), (Field.EMAIL, "Bear"), (Field.EMAIL, "")]
)
def test_contains_takes_folded_text_of_a_text_field(field: Field, text: str) -> None:
    with pytest.raises(ValueError):
        Contains(field, text)
