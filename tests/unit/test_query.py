"""v1 query strings → domain searches: list filters, search parameters and the search language
(spec §5, §9.1, §9.6; docs/list-and-search.md)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from openscout.contract.v1 import query, wire
from openscout.domain.errors import Invalid, UnreadableQuery
from openscout.domain.search import (
    EVERYTHING,
    NEWEST_FIRST,
    NOTHING,
    And,
    Criteria,
    Field,
    Match,
    Not,
    Or,
    Range,
    Search,
    Sort,
    SortKey,
    Word,
    comparisons,
    full_name_splits,
)

FIRST, LAST, FULL, EMAIL = Field.FIRST_NAME, Field.LAST_NAME, Field.FULL_NAME, Field.EMAIL
JAN_2017 = datetime(2017, 1, 1, tzinfo=UTC)


def anywhere(word: str) -> Criteria:
    """What a bare word means: a word of the first name, the last name or an email."""
    return Or((Word(FIRST, word), Word(LAST, word), Word(EMAIL, word)))


def problems(error: pytest.ExceptionInfo[Invalid]) -> list[tuple[tuple[str, ...], object]]:
    return [(problem.path, problem.value) for problem in error.value.problems]


# --- list filters (§9.1) ---------------------------------------------------------------------


def test_a_list_without_parameters_is_everyone_newest_first_fifty_a_page() -> None:
    assert query.list_search({}) == Search(EVERYTHING, NEWEST_FIRST, 1, 50)


@pytest.mark.parametrize(
    ("name", "field"), [("firstName", FIRST), ("lastName", LAST), ("email", EMAIL)]
)
def test_each_text_filter_compares_a_whole_value(name: str, field: Field) -> None:
    assert query.list_search({name: " Ann "}).criteria == And((Match(field, "Ann"),))


def test_modified_since_is_an_inclusive_lower_bound() -> None:
    search = query.list_search({"modifiedSince": "2017-01-01T00:00:00Z"})
    assert search.criteria == And((Range(Field.MODIFIED_AT, low=JAN_2017),))


def test_every_filter_given_must_match() -> None:
    search = query.list_search(
        {
            "firstName": "Ann",
            "lastName": "Lee",
            "email": "ann@example.com",
            "modifiedSince": "2017-01-01T00:00:00Z",
            "page": "3",
        }
    )
    assert search == Search(
        And(
            (
                Match(FIRST, "Ann"),
                Match(LAST, "Lee"),
                Match(EMAIL, "ann@example.com"),
                Range(Field.MODIFIED_AT, low=JAN_2017),
            )
        ),
        NEWEST_FIRST,
        3,
        50,
    )


def test_blank_and_unknown_parameters_are_ignored() -> None:
    params = {"firstName": "", "lastName": "  ", "email": "", "page": "", "fields": "id", "x": "1"}
    assert query.list_search(params) == Search(EVERYTHING, NEWEST_FIRST, 1, 50)


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "1e3", "٣", "2147483648", "9" * 30])
def test_a_page_that_is_not_a_positive_32_bit_integer_is_refused(page: str) -> None:
    with pytest.raises(Invalid) as error:
        query.list_search({"page": page})
    assert problems(error) == [(("page",), page)]


@pytest.mark.parametrize(
    ("page", "number"), [("1", 1), ("+2", 2), (" 7 ", 7), ("2147483647", 2**31 - 1)]
)
def test_a_positive_page_is_read(page: str, number: int) -> None:
    assert query.list_search({"page": page}).page == number


@pytest.mark.parametrize(
    "since", ["yesterday", "2017-13-01T00:00:00Z", "2017", "20170101", "T00:00:00Z"]
)
def test_an_unreadable_modified_since_is_refused(since: str) -> None:
    with pytest.raises(Invalid) as error:
        query.list_search({"modifiedSince": since})
    assert problems(error) == [(("modifiedSince",), since)]


@pytest.mark.parametrize(
    ("since", "moment"),
    [
        ("2017-01-01T00:00:00Z", JAN_2017),
        ("2017-01-01", JAN_2017),
        ("2017-01-01T00:00:00", JAN_2017),
        ("2017-01-01T01:00:00+01:00", JAN_2017),
        ("2017-01-01T00:00:00.5Z", datetime(2017, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)),
    ],
)
def test_modified_since_reads_v1_timestamps_and_iso_variants(since: str, moment: datetime) -> None:
    search = query.list_search({"modifiedSince": since})
    assert search.criteria == And((Range(Field.MODIFIED_AT, low=moment),))


def test_every_bad_parameter_is_reported_at_once() -> None:
    with pytest.raises(Invalid) as error:
        query.list_search({"page": "0", "modifiedSince": "soon"})
    assert problems(error) == [(("page",), "0"), (("modifiedSince",), "soon")]


def test_the_mailbox_list_reads_only_the_page() -> None:
    assert query.mailbox_page({"page": "4", "email": "x@example.com"}) == 4
    with pytest.raises(Invalid):
        query.mailbox_page({"page": "0"})


# --- search parameters (§9.6) ----------------------------------------------------------------


def test_search_defaults_are_everyone_by_score_fifty_a_page() -> None:
    assert query.search({}) == Search(EVERYTHING, NEWEST_FIRST, 1, 50)


@pytest.mark.parametrize(
    ("size", "expected"), [("1", 1), ("25", 25), ("50", 50), ("0", 50), (" 10 ", 10)]
)
def test_page_size_is_one_to_fifty_and_zero_means_fifty(size: str, expected: int) -> None:
    assert query.search({"pageSize": size}).page_size == expected


@pytest.mark.parametrize("size", ["51", "-1", "ten", "2.5", "100000"])
def test_a_page_size_outside_one_to_fifty_is_refused(size: str) -> None:
    with pytest.raises(Invalid) as error:
        query.search({"pageSize": size})
    assert problems(error) == [(("pageSize",), size)]


@pytest.mark.parametrize(
    ("field", "order", "sort"),
    [
        ("firstName", "asc", Sort(SortKey.FIRST_NAME, descending=False)),
        ("firstName", "desc", Sort(SortKey.FIRST_NAME, descending=True)),
        ("lastName", "asc", Sort(SortKey.LAST_NAME, descending=False)),
        ("modifiedAt", "desc", Sort(SortKey.MODIFIED_AT, descending=True)),
        ("LASTNAME", "ASC", Sort(SortKey.LAST_NAME, descending=False)),
        ("createdAt", "asc", Sort(SortKey.CREATED_AT, descending=False)),
        ("score", "asc", NEWEST_FIRST),
        ("score", "desc", NEWEST_FIRST),
    ],
)
def test_sort_field_and_order(field: str, order: str, sort: Sort) -> None:
    assert query.search({"sortField": field, "sortOrder": order}).sort == sort


def test_sort_order_alone_leaves_the_default_order_and_defaults_to_descending() -> None:
    assert query.search({"sortOrder": "asc"}).sort == NEWEST_FIRST
    assert query.search({"sortField": "firstName"}).sort == Sort(SortKey.FIRST_NAME, True)


def test_bad_sort_parameters_are_refused_together_with_a_bad_page() -> None:
    with pytest.raises(Invalid) as error:
        query.search({"sortField": "email", "sortOrder": "up", "page": "x", "pageSize": "99"})
    assert problems(error) == [
        (("page",), "x"),
        (("pageSize",), "99"),
        (("sortField",), "email"),
        (("sortOrder",), "up"),
    ]


def test_bad_parameters_are_reported_before_the_query_is_read() -> None:
    with pytest.raises(Invalid):
        query.search({"page": "0", "query": "(("})


# --- the query language (§9.6): every construct -----------------------------------------------


@pytest.mark.parametrize(
    ("text", "criteria"),
    [
        ("", EVERYTHING),
        ("   ", EVERYTHING),
        ("*", EVERYTHING),
        ("(*)", EVERYTHING),
        ("john", anywhere("john")),
        ("JOHN", anywhere("john")),
        ("Jean-Luc", And((anywhere("jean"), anywhere("luc")))),
        ("john@appleseed.com", Match(EMAIL, "john@appleseed.com")),
        ("(john@appleseed.com)", Match(EMAIL, "john@appleseed.com")),
        ('"john@appleseed.com"', Match(EMAIL, "john@appleseed.com")),
        (
            '("a@x.com" OR "b@y.com")',
            Or((Match(EMAIL, "a@x.com"), Match(EMAIL, "b@y.com"))),
        ),
        (
            '"John Smith"',
            Or((Match(FIRST, "John Smith"), Match(LAST, "John Smith"), Match(FULL, "John Smith"))),
        ),
        ('firstName:"John"', Match(FIRST, "John")),
        ("firstName:john", Word(FIRST, "john")),
        ('lastName:"van Dijk"', Match(LAST, "van Dijk")),
        ("lastName:van-dijk", And((Word(LAST, "van"), Word(LAST, "dijk")))),
        ('fullName:"John Smith"', Match(FULL, "John Smith")),
        ("fullName:smith", Word(FULL, "smith")),
        ('email:"A@X.com"', Match(EMAIL, "A@X.com")),
        ("email:a@x.com", Match(EMAIL, "a@x.com")),
        ("email:appleseed", Word(EMAIL, "appleseed")),
        ('emailDomain:"example.com"', Match(Field.EMAIL_DOMAIN, "example.com")),
        ("emailDomain:@example.com", Match(Field.EMAIL_DOMAIN, "example.com")),
        ('organization:"Acme Inc"', Match(Field.ORGANIZATION, "Acme Inc")),
        ("organization:acme", Word(Field.ORGANIZATION, "acme")),
        ('jobTitle:"CEO"', Match(Field.JOB_TITLE, "CEO")),
        ("jobTitle:engineer", Word(Field.JOB_TITLE, "engineer")),
        ("id:144228647", Match(Field.ID, 144228647)),
        ('id:"42"', Match(Field.ID, 42)),
        ("(id:7)", Match(Field.ID, 7)),
        ('createdAt:"2017-01-01T00:00:00Z"', Match(Field.CREATED_AT, JAN_2017)),
        ("modifiedAt:2017-01-01T00:00:00Z", Match(Field.MODIFIED_AT, JAN_2017)),
        (
            '(modifiedSince:"2017-01-01T00:00:00Z")',
            Range(Field.MODIFIED_AT, low=JAN_2017),
        ),
        ("modifiedAt:[2017-01-01T00:00:00Z TO *]", Range(Field.MODIFIED_AT, low=JAN_2017)),
        ("createdAt:[* TO 2017-01-01T00:00:00Z]", Range(Field.CREATED_AT, high=JAN_2017)),
        (
            "createdAt:{2017-01-01T00:00:00Z TO 2018-01-01}",
            Range(
                Field.CREATED_AT,
                JAN_2017,
                datetime(2018, 1, 1, tzinfo=UTC),
                include_low=False,
                include_high=False,
            ),
        ),
        (
            'modifiedAt:["2017-01-01T00:00:00Z" TO 2017-01-01T00:00:00Z}',
            Range(Field.MODIFIED_AT, JAN_2017, JAN_2017, include_high=False),
        ),
        ("id:[10 TO 20]", Range(Field.ID, 10, 20)),
        ("id:{10 TO *]", Range(Field.ID, 10, None, include_low=False)),
        ("FIRSTNAME:Ann", Word(FIRST, "ann")),
        ("firstname:Ann", Word(FIRST, "ann")),
        ('firstName:"say \\"hi\\""', Match(FIRST, 'say "hi"')),
        ("firstName:a\\:b", And((Word(FIRST, "a"), Word(FIRST, "b")))),
        ('firstName:"a*"', Match(FIRST, "a*")),
        ("true", anywhere("true")),
        ("ANDROID", anywhere("android")),
        ("TO", anywhere("to")),
    ],
)
def test_each_construct(text: str, criteria: Criteria) -> None:
    assert query.parse(text) == criteria


def test_and_or_and_not() -> None:
    a, b = Word(FIRST, "a"), Word(FIRST, "b")
    assert query.parse("firstName:a AND firstName:b") == And((a, b))
    assert query.parse("firstName:a firstName:b") == And((a, b))
    assert query.parse("firstName:a OR firstName:b") == Or((a, b))
    assert query.parse("NOT firstName:a") == Not(a)
    assert query.parse("NOT NOT firstName:a") == Not(Not(a))


def test_not_binds_tighter_than_and_which_binds_tighter_than_or() -> None:
    a, b, c, d = (Word(FIRST, name) for name in "abcd")
    assert query.parse("firstName:a OR firstName:b AND firstName:c") == Or((a, And((b, c))))
    assert query.parse("firstName:a AND firstName:b OR firstName:c") == Or((And((a, b)), c))
    assert query.parse("NOT firstName:a AND firstName:b") == And((Not(a), b))
    assert query.parse("firstName:a firstName:b OR firstName:c firstName:d") == Or(
        (And((a, b)), And((c, d)))
    )


def test_parentheses_override_precedence() -> None:
    a, b, c = (Word(FIRST, name) for name in "abc")
    assert query.parse("firstName:a AND (firstName:b OR firstName:c)") == And((a, Or((b, c))))
    assert query.parse("NOT (firstName:a OR firstName:b)") == Not(Or((a, b)))
    assert query.parse("((firstName:a))") == a


def test_chains_stay_flat() -> None:
    words = [f"w{n}" for n in range(30)]
    assert query.parse(" OR ".join(f"firstName:{w}" for w in words)) == Or(
        tuple(Word(FIRST, w) for w in words)
    )


# --- the query language: errors say where ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "detail"),
    [
        ("a AND", 6, wire.QUERY_ENDS_EARLY),
        ("a OR", 5, wire.QUERY_ENDS_EARLY),
        ("NOT", 4, wire.QUERY_ENDS_EARLY),
        ("firstName:", 11, wire.QUERY_ENDS_EARLY),
        ("(a", 3, wire.QUERY_UNCLOSED_GROUP),
        ("((a)", 5, wire.QUERY_UNCLOSED_GROUP),
        ("a)", 2, 'unexpected ")"'),
        ("x ) y", 3, 'unexpected ")"'),
        ("(a b ]", 6, 'unexpected "]"'),
        ('"abc', 1, wire.QUERY_UNCLOSED_QUOTE),
        ('firstName:"abc', 11, wire.QUERY_UNCLOSED_QUOTE),
        ("a OR OR b", 6, 'unexpected "OR"'),
        ("AND a", 1, 'unexpected "AND"'),
        ("a AND AND b", 7, 'unexpected "AND"'),
        ("[a TO b]", 1, 'unexpected "["'),
        ("modifiedAt:[2017-01-01 TO", 26, wire.QUERY_UNCLOSED_RANGE),
        ("modifiedAt:[2017-01-01 2018-01-01]", 24, 'unexpected "2018-01-01"'),
        ("foo:bar", 1, wire.QUERY_UNKNOWN_FIELD.format("foo")),
        ("a AND phone:5", 7, wire.QUERY_UNKNOWN_FIELD.format("phone")),
        ("firstName:[a TO b]", 1, wire.QUERY_NO_RANGE.format("firstName")),
        ("modifiedSince:[* TO *]", 1, wire.QUERY_NO_RANGE.format("modifiedSince")),
        ("id:x", 4, wire.QUERY_NOT_A_NUMBER.format("x")),
        ("id:[1 TO x]", 10, wire.QUERY_NOT_A_NUMBER.format("x")),
        ("createdAt:yesterday", 11, wire.QUERY_NOT_A_MOMENT.format("yesterday")),
        ("modifiedSince:soon", 15, wire.QUERY_NOT_A_MOMENT.format("soon")),
        ("createdAt:[2017 TO *]", 12, wire.QUERY_NOT_A_MOMENT.format("2017")),
        ("jo*", 1, wire.QUERY_NO_WILDCARDS),
        ("firstName:jo*", 11, wire.QUERY_NO_WILDCARDS),
        ("firstName:-", 11, wire.QUERY_NOTHING_TO_SEARCH.format("-")),
        ("a ...", 3, wire.QUERY_NOTHING_TO_SEARCH.format("...")),
        ("a" * 2001, 2001, wire.QUERY_TOO_LONG.format(2000)),
        ("(" * 40 + "a" + ")" * 40, 34, wire.QUERY_TOO_DEEP.format(32)),
        (" ".join(["word"] * 67), 1, wire.QUERY_TOO_COMPLEX.format(200)),
        ('"' + " ".join(["a"] * 198) + '"', 1, wire.QUERY_TOO_COMPLEX.format(200)),
        ('fullName:"' + " ".join(["a"] * 200) + '"', 1, wire.QUERY_TOO_COMPLEX.format(200)),
        ('"a  b" ' * 40 + '"a"', 1, wire.QUERY_TOO_COMPLEX.format(200)),
    ],
)
def test_an_unreadable_query_says_where_and_why(text: str, position: int, detail: str) -> None:
    with pytest.raises(UnreadableQuery) as error:
        query.parse(text)
    assert (error.value.position, error.value.detail) == (position, detail)


def test_the_error_message_names_the_position() -> None:
    assert wire.unreadable_query(7, 'unexpected ")"') == (
        'The search query could not be read at position 7: unexpected ")"'
    )


def test_an_unreadable_query_in_search_parameters_raises() -> None:
    with pytest.raises(UnreadableQuery):
        query.search({"query": "firstName:(a"})


@pytest.mark.parametrize(
    "text",
    [
        " ".join(["word"] * 66),  # 3 each: 198
        '"' + " ".join(["a"] * 197) + '"',  # first, last, 198 ways to split the full name
        'fullName:"' + " ".join(["a"] * 199) + '"',
        '"a  b" ' * 40,  # 5 each: runs of spaces are one
    ],
)
def test_a_query_of_200_conditions_or_fewer_is_read(text: str) -> None:
    query.parse(text)


def test_a_full_name_is_compared_once_per_way_to_split_it() -> None:
    assert full_name_splits("ann van lee") == [
        ("ann van lee", ""),
        ("", "ann van lee"),
        ("ann", "van lee"),
        ("ann van", "lee"),
    ]
    assert comparisons(Match(Field.FULL_NAME, "  Ann   VAN lee ")) == 4
    assert comparisons(Match(Field.FIRST_NAME, "ann van lee")) == 1
    assert comparisons(Word(Field.FULL_NAME, "ann")) == 1


@pytest.mark.parametrize(
    ("text", "criteria"),
    [
        ("ann\x00lee", NOTHING),
        ("\x00", NOTHING),
        ("firstName:ann\x00lee", NOTHING),
        ("organization:\x00acme", NOTHING),
        ("NOT ann\x00lee", Not(NOTHING)),
        ("bo ann\x00lee", And((anywhere("bo"), NOTHING))),
    ],
)
def test_a_word_holding_nul_matches_nothing(text: str, criteria: Criteria) -> None:
    """NUL does not split a word: no stored text holds one, so nothing matches it
    (docs/hardening.md)."""
    assert query.parse(text) == criteria
