"""Which customers a list or search asks for: a small tree of plain criteria, an order, a page.

No SQL and no query syntax here: an API version turns its parameters and query language into
these objects (`openscout.contract.v1.query`), the store turns them into its own queries. What a
criterion means is written on its class; the matching rules (case-insensitive, what a word is)
are the functions at the bottom, shared by both sides so that they cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from openscout.domain.customers import Customer


class Field(StrEnum):
    """What a criterion looks at."""

    ID = "id"
    FIRST_NAME = "first_name"
    LAST_NAME = "last_name"
    #: First and last name as `Customer.full_name` joins them.
    FULL_NAME = "full_name"
    #: Any of the customer's email addresses.
    EMAIL = "email"
    #: The part after `@` of any of the customer's email addresses.
    EMAIL_DOMAIN = "email_domain"
    ORGANIZATION = "organization"
    JOB_TITLE = "job_title"
    CREATED_AT = "created_at"
    MODIFIED_AT = "modified_at"


#: Fields holding text: `Match` compares their whole value, `Word` one word of it.
TEXT_FIELDS = frozenset(
    {
        Field.FIRST_NAME,
        Field.LAST_NAME,
        Field.FULL_NAME,
        Field.EMAIL,
        Field.EMAIL_DOMAIN,
        Field.ORGANIZATION,
        Field.JOB_TITLE,
    }
)
#: Text fields whose words can be searched (a domain is matched whole).
WORD_FIELDS = TEXT_FIELDS - {Field.EMAIL_DOMAIN}
#: Fields holding a moment (UTC, whole seconds).
MOMENT_FIELDS = frozenset({Field.CREATED_AT, Field.MODIFIED_AT})
#: Fields that can be compared with a range.
RANGE_FIELDS = MOMENT_FIELDS | {Field.ID}

Value = str | int | datetime


@dataclass(frozen=True, slots=True)
class Match:
    """The field's whole value equals `value`; text ignores case and surrounding or repeated
    spaces (`folded`). An email criterion matches a customer having that address among others."""

    field: Field
    value: Value

    def __post_init__(self) -> None:
        _check_value(self.field, self.value)


@dataclass(frozen=True, slots=True)
class Word:
    """`word` is one of the words (`words`) of the field's text; `word` is a single folded word."""

    field: Field
    word: str

    def __post_init__(self) -> None:
        if self.field not in WORD_FIELDS:
            raise ValueError(f"{self.field} has no words to search")
        if words(self.word) != [self.word]:
            raise ValueError(f"{self.word!r} is not one folded word")


@dataclass(frozen=True, slots=True)
class Contains:
    """`text` appears somewhere in the field's value, both `folded` (Help Scout v2's `email:`
    search, "containing"). An email criterion matches a customer having one such address."""

    field: Field
    text: str

    def __post_init__(self) -> None:
        if self.field not in TEXT_FIELDS:
            raise ValueError(f"{self.field} holds no text")
        if not self.text or folded(self.text) != self.text:
            raise ValueError(f"{self.text!r} is not folded text")


@dataclass(frozen=True, slots=True)
class Range:
    """The field's value lies between `low` and `high`; None leaves that side open."""

    field: Field
    low: int | datetime | None = None
    high: int | datetime | None = None
    include_low: bool = True
    include_high: bool = True

    def __post_init__(self) -> None:
        if self.field not in RANGE_FIELDS:
            raise ValueError(f"{self.field} cannot be compared with a range")
        for bound in (self.low, self.high):
            if bound is not None:
                _check_value(self.field, bound)


@dataclass(frozen=True, slots=True)
class And:
    """Every part matches. With no parts: every customer."""

    parts: tuple[Criteria, ...] = ()


@dataclass(frozen=True, slots=True)
class Or:
    """At least one part matches. With no parts: no customer."""

    parts: tuple[Criteria, ...] = ()


@dataclass(frozen=True, slots=True)
class Not:
    """The part does not match."""

    part: Criteria


Criteria = Match | Word | Contains | Range | And | Or | Not

#: The criteria that every customer meets.
EVERYTHING: Criteria = And()
#: The criteria that no customer meets.
NOTHING: Criteria = Or()


def all_of(parts: list[Criteria]) -> Criteria:
    """`And` of the parts, without the wrapper when there is only one."""
    return parts[0] if len(parts) == 1 else And(tuple(parts))


def any_of(parts: list[Criteria]) -> Criteria:
    """`Or` of the parts, without the wrapper when there is only one."""
    return parts[0] if len(parts) == 1 else Or(tuple(parts))


class SortKey(StrEnum):
    """What results can be ordered by. Ties are broken by id, in the same direction."""

    CREATED_AT = "created_at"
    FIRST_NAME = "first_name"
    LAST_NAME = "last_name"
    MODIFIED_AT = "modified_at"


@dataclass(frozen=True, slots=True)
class Sort:
    key: SortKey = SortKey.CREATED_AT
    descending: bool = True


#: Newest first: the order of every list (spec §9.1, §9.2).
NEWEST_FIRST = Sort(SortKey.CREATED_AT, descending=True)


@dataclass(frozen=True, slots=True)
class Search:
    """One page of the customers meeting `criteria`, in `sort` order. Pages count from 1."""

    criteria: Criteria = EVERYTHING
    sort: Sort = NEWEST_FIRST
    page: int = 1
    page_size: int = 50

    def __post_init__(self) -> None:
        if self.page < 1 or self.page_size < 1:
            raise ValueError("pages and page sizes are positive")

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


@dataclass(frozen=True, slots=True)
class Found:
    """What a search found: how many customers match in all, and those of the page asked for.

    The customers carry their own fields, and what else the caller asked for: their emails
    (v1's search shape), or everything they have (v2's list items embed it); v1's list shape
    shows neither.
    """

    count: int
    customers: list[Customer] = field(default_factory=list)

    def pages(self, page_size: int) -> int:
        """How many pages of `page_size` the matches fill; 0 when nothing matches."""
        return -(-self.count // page_size)


# --- matching rules -------------------------------------------------------------------------

_WORD = re.compile(r"\w+")


def folded(text: str) -> str:
    """Text as `Match` compares it: case folded, surrounding spaces dropped, inner runs of
    whitespace made one space (so "  Ann  Lee" matches "ann lee")."""
    return " ".join(text.casefold().split())


def words(text: str) -> list[str]:
    """The words `Word` looks for: runs of letters, digits and underscores, case folded.
    "Jean-Luc" has the words "jean" and "luc"; "ann.lee@example.com" has "ann", "lee",
    "example" and "com"."""
    return _WORD.findall(text.casefold())


def full_name_splits(name: str) -> list[tuple[str, str]]:
    """Every (first name, last name) whose `Customer.full_name` is `name`, a folded text: the
    name alone as first or as last name, or split at any of its spaces. "ann van lee" has four.
    """
    ways = [(name, ""), ("", name)]
    ways += [(name[:at], name[at + 1 :]) for at, char in enumerate(name) if char == " "]
    return ways


def comparisons(criterion: Match | Word | Contains | Range) -> int:
    """How many comparisons one criterion asks of a store: one, but a whole full name one per
    way of splitting it (`full_name_splits`). Limits on a search count these (a quoted name of
    a thousand words is a thousand comparisons in one statement)."""
    if isinstance(criterion, Match) and criterion.field is Field.FULL_NAME:
        assert isinstance(criterion.value, str)
        return len(full_name_splits(folded(criterion.value)))
    return 1


def email_domain(address: str) -> str | None:
    """The part of an email address after its last `@`, folded; None when there is none."""
    _local, at, domain = address.rpartition("@")
    return folded(domain) if at and domain.strip() else None


def _check_value(field: Field, value: Value) -> None:
    if field is Field.ID:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif field in MOMENT_FIELDS:
        ok = isinstance(value, datetime) and value.tzinfo is not None
    else:
        ok = isinstance(value, str)
    if not ok:
        raise ValueError(f"{value!r} is not a value of {field}")
