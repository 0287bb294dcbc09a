"""Search in SQL: domain criteria and orders as SQLAlchemy Core expressions, and the keys and
terms a customer is found by.

Everything here is dialect-neutral: values are bound parameters, and every criterion becomes a
comparison that one of the indexes of `tables.py` answers (docs/performance.md). The rules of
what matches (case, words) come from `openscout.domain.search`; this module only decides how the
database is asked.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    and_,
    false,
    literal,
    not_,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.sql.elements import UnaryExpression

from openscout.domain.customers import Collection, Customer
from openscout.domain.search import (
    And,
    Contains,
    Criteria,
    Field,
    Match,
    Not,
    Or,
    Range,
    Sort,
    SortKey,
    Word,
    email_domain,
    folded,
    full_name_splits,
    words,
)
from openscout.store.tables import customers, entries, search_terms

#: Under which `search_terms.field` the words of each field are kept.
_WORD_TERMS: dict[Field, tuple[str, ...]] = {
    Field.FIRST_NAME: ("first_name",),
    Field.LAST_NAME: ("last_name",),
    Field.FULL_NAME: ("first_name", "last_name"),
    Field.EMAIL: ("email",),
    Field.ORGANIZATION: ("organization",),
    Field.JOB_TITLE: ("job_title",),
}
#: Under which `search_terms.field` whole values are kept (names have their own columns).
_WHOLE_TERMS: dict[Field, str] = {
    Field.EMAIL_DOMAIN: "email_domain=",
    Field.ORGANIZATION: "organization=",
    Field.JOB_TITLE: "job_title=",
}
#: Under which `search_terms.field` each email address is kept whole and folded, for v2's
#: `email:` (`Contains`): the text is looked for inside it.
CONTAINING_EMAIL = "email~"
_KEY_COLUMNS = {
    Field.FIRST_NAME: customers.c.first_name_key,
    Field.LAST_NAME: customers.c.last_name_key,
}
_MOMENT_COLUMNS = {
    Field.CREATED_AT: customers.c.created_at,
    Field.MODIFIED_AT: customers.c.modified_at,
}
_SORT_COLUMNS = {
    SortKey.CREATED_AT: customers.c.created_at,
    SortKey.MODIFIED_AT: customers.c.modified_at,
    SortKey.FIRST_NAME: customers.c.first_name_key,
    SortKey.LAST_NAME: customers.c.last_name_key,
}


# --- what a customer is found by --------------------------------------------------------------


def name_keys(customer: Customer) -> dict[str, str]:
    """The `customers` columns that name matching and sorting use."""
    return {
        "first_name_key": folded(customer.first_name or ""),
        "last_name_key": folded(customer.last_name or ""),
    }


def customer_terms(customer: Customer) -> set[tuple[str, str]]:
    """The (field, term) rows of `search_terms` for this customer."""
    found: set[tuple[str, str]] = set()
    for field, text in (
        (Field.FIRST_NAME, customer.first_name),
        (Field.LAST_NAME, customer.last_name),
        (Field.ORGANIZATION, customer.organization),
        (Field.JOB_TITLE, customer.job_title),
    ):
        if text:
            name = field.value
            found.update((name, word) for word in words(text))
    for field, text in (
        (Field.ORGANIZATION, customer.organization),
        (Field.JOB_TITLE, customer.job_title),
    ):
        if text and folded(text):
            found.add((_WHOLE_TERMS[field], folded(text)))
    email = Field.EMAIL.value
    for entry in customer.emails:
        found.update((email, word) for word in words(entry.value))
        if whole := folded(entry.value):
            found.add((CONTAINING_EMAIL, whole))
        domain = email_domain(entry.value)
        if domain:
            found.add((_WHOLE_TERMS[Field.EMAIL_DOMAIN], domain))
    return found


def term_rows(
    account_id: int, customer_id: int, terms: Iterable[tuple[str, str]]
) -> list[dict[str, Any]]:
    return [
        {"customer_id": customer_id, "account_id": account_id, "field": field, "term": term}
        for field, term in terms
    ]


# --- criteria → SQL ---------------------------------------------------------------------------


def condition(account_id: int, criteria: Criteria) -> ColumnElement[bool]:
    """A WHERE clause on `customers` for `criteria`, within one account."""
    match criteria:
        case And(parts):
            return and_(true(), *(condition(account_id, part) for part in parts))
        case Or(parts):
            # Alternatives found through lookup tables become one `id IN (… UNION ALL …)`:
            # PostgreSQL answers that with a semi-join, but an OR of separate INs by testing
            # every customer of the account.
            lookups = [found for part in parts if (found := _lookup(account_id, part)) is not None]
            others = [condition(account_id, part) for part in parts if not _is_lookup(part)]
            if len(lookups) > 1:
                others.append(customers.c.id.in_(union_all(*lookups)))
            elif lookups:
                others.append(customers.c.id.in_(lookups[0]))
            return or_(false(), *others)
        case Not(part):
            return not_(condition(account_id, part))
        case Match() | Contains() if _holds_nul(criteria):
            return false()
        case Word() | Match() | Contains() if (found := _lookup(account_id, criteria)) is not None:
            return customers.c.id.in_(found)
        case Match(field, value):
            return _match(account_id, field, value)
        case Contains(field, text):
            return _contains(field, text)
        case Range(field, low, high, include_low, include_high):
            return _range(field, low, high, include_low, include_high)
    raise TypeError(f"not a criterion: {criteria!r}")  # pragma: no cover


def ordering(sort: Sort) -> list[UnaryExpression[Any]]:
    """ORDER BY for `sort`: its column, then the id in the same direction, so that an index
    on (account_id, column, id) hands rows over in order without sorting them."""
    columns = (_SORT_COLUMNS[sort.key], customers.c.id)
    return [column.desc() if sort.descending else column.asc() for column in columns]


def _match(account_id: int, field: Field, value: str | int | datetime) -> ColumnElement[bool]:
    if field is Field.ID:
        assert isinstance(value, int)
        return customers.c.id == _whole(value)
    if isinstance(value, datetime):
        seconds = value.timestamp()
        if seconds != int(seconds):  # stored moments are whole seconds
            return false()
        return _MOMENT_COLUMNS[field] == int(seconds)
    assert isinstance(value, str)
    if field in _KEY_COLUMNS:
        return _KEY_COLUMNS[field] == folded(value)
    if field is Field.FULL_NAME:
        return _full_name(folded(value))
    raise ValueError(f"{field} is matched through a lookup")  # pragma: no cover


def _contains(field: Field, text: str) -> ColumnElement[bool]:
    """`Contains` on the names, which the customers table holds folded (the others are
    lookups). A full name is the two joined by a space; as `text` is folded it neither starts
    nor ends with a space, so the space put after a missing last name (or before a missing
    first name) can never be part of a match."""
    if field is Field.FULL_NAME:
        joined = customers.c.first_name_key + " " + customers.c.last_name_key
        return joined.contains(text, autoescape=True)
    return _KEY_COLUMNS[field].contains(text, autoescape=True)


def _holds_nul(criteria: Criteria) -> bool:
    """Stored text never holds NUL (decode refuses it), and PostgreSQL cannot even be asked
    about one: a value with NUL matches nothing, on every backend."""
    match criteria:
        case Match(value=str(value)) | Contains(text=value):
            return "\x00" in value
    return False


def _is_lookup(criteria: Criteria) -> bool:
    if _holds_nul(criteria):
        return False
    match criteria:
        case Word():
            return True
        case Match(field=field) | Contains(field=field):
            return field is Field.EMAIL or field in _WHOLE_TERMS
    return False


def _lookup(account_id: int, criteria: Criteria) -> Select[tuple[int]] | None:
    """The ids of the customers meeting `criteria`, when a lookup table answers it: the email
    entries, or the search terms. None for criteria on the customers table itself."""
    if _holds_nul(criteria):
        return None
    match criteria:
        case Word(field, word):
            return _terms(account_id, _WORD_TERMS[field], word)
        case Match(Field.EMAIL, value):
            assert isinstance(value, str)
            return select(entries.c.customer_id).where(
                entries.c.account_id == account_id,
                # The partial unique index on emails answers this (SQLite sees the value).
                entries.c.collection == Collection.EMAILS.value,
                entries.c.value_key == Collection.EMAILS.key(value.strip()),
            )
        case Match(field, value) if field in _WHOLE_TERMS:
            assert isinstance(value, str)
            return _terms(account_id, (_WHOLE_TERMS[field],), folded(value))
        case Contains(field, text) if field is Field.EMAIL or field in _WHOLE_TERMS:
            # `autoescape`: `%`, `_` and the escape character in the text are matched as
            # themselves. Both sides are folded (lower case), so SQLite's LIKE ignoring the
            # case of ASCII letters and PostgreSQL's heeding it agree.
            name = CONTAINING_EMAIL if field is Field.EMAIL else _WHOLE_TERMS[field]
            return select(search_terms.c.customer_id).where(
                search_terms.c.account_id == account_id,
                search_terms.c.field == name,
                search_terms.c.term.contains(text, autoescape=True),
            )
    return None


def _full_name(name: str) -> ColumnElement[bool]:
    """`Customer.full_name` is first and last name joined by one space, a missing part left
    out: each way of splitting `name` (`full_name_splits`) is an equality that the name
    indexes answer."""
    first, last = customers.c.first_name_key, customers.c.last_name_key
    return or_(*(and_(first == a, last == b) for a, b in full_name_splits(name)))


def _terms(account_id: int, fields: tuple[str, ...], term: str) -> Select[tuple[int]]:
    field = (
        search_terms.c.field == fields[0] if len(fields) == 1 else search_terms.c.field.in_(fields)
    )
    return select(search_terms.c.customer_id).where(
        search_terms.c.account_id == account_id, field, search_terms.c.term == term
    )


def _range(
    field: Field,
    low: int | datetime | None,
    high: int | datetime | None,
    include_low: bool,
    include_high: bool,
) -> ColumnElement[bool]:
    column = customers.c.id if field is Field.ID else _MOMENT_COLUMNS[field]
    parts: list[ColumnElement[bool]] = []
    if low is not None:
        bound = _seconds(low)
        # A fractional bound: the first whole second after it is the first one inside.
        if include_low or bound != int(bound):
            parts.append(column >= _whole(math.ceil(bound)))
        else:
            parts.append(column > _whole(int(bound)))
    if high is not None:
        bound = _seconds(high)
        if include_high or bound != int(bound):
            parts.append(column <= _whole(math.floor(bound)))
        else:
            parts.append(column < _whole(int(bound)))
    return and_(true(), *parts)


def _whole(number: int) -> ColumnElement[int]:
    """A whole number bound as 64 bits: ids in a query may be far beyond the 32 bits of the id
    column, which PostgreSQL would refuse to compare with a 32-bit parameter."""
    return literal(number, BigInteger)


def _seconds(value: int | datetime) -> float:
    return value.timestamp() if isinstance(value, datetime) else value
