"""v2 list parameters → a domain search (spec helpscout-v2-customers.md §4 "List Customers",
§8a.11-12). The query language is v1's (`contract.v1.query.parse`), with `email:` matching
addresses that contain the text, as v2's docs describe it; page and sort are read as v1 reads
them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from openscout.contract.v1 import decode as v1_decode
from openscout.contract.v1 import query as v1
from openscout.contract.v2 import wire
from openscout.domain.errors import Problem, Reason
from openscout.domain.search import EVERYTHING, Criteria, Field, Match, Range, Search, all_of


@dataclass(frozen=True, slots=True)
class Listing:
    """What a list request asks for: the search, and the mailbox it is limited to, if any."""

    search: Search
    mailbox_id: int | None = None


def list_customers(params: Mapping[str, str]) -> Listing:
    """The parameters of `GET /v2/customers`: `firstName` and `lastName` match a whole value
    (ignoring case), `modifiedSince` is inclusive (§8a.11), `query` is the search language
    with v2's `email:`; all must match. `sortField`, `sortOrder`, `page` as v1's search reads
    them; 50 a page. A blank parameter counts as absent.

    Raises `ParameterProblems` (an `Invalid`) listing every bad parameter value, then
    `UnreadableQuery` for a query that cannot be read.
    """
    problems: list[Problem] = []
    page = v1.read_page(params, problems)
    sort = v1.read_sort(params, problems)
    mailbox_id = None
    raw_mailbox = v1.given(params, wire.MAILBOX_PARAMETER)
    if raw_mailbox is not None:
        mailbox_id = v1.whole_number(raw_mailbox)
        if mailbox_id is None or not 0 < mailbox_id <= wire.MAX_ID:
            problems.append(Problem((wire.MAILBOX_PARAMETER,), raw_mailbox, Reason.INVALID))
    criteria: list[Criteria] = [
        Match(field, value)
        for name, field in wire.LIST_FILTERS.items()
        if (value := v1.given(params, name)) is not None
    ]
    since = v1.given(params, wire.MODIFIED_SINCE)
    if since is not None:
        moment = wire.parse_timestamp(since)
        if moment is None:
            problems.append(Problem((wire.MODIFIED_SINCE,), since, Reason.MALFORMED))
        else:
            criteria.append(Range(Field.MODIFIED_AT, low=moment))
    if problems:
        raise wire.ParameterProblems(problems)
    query = params.get(wire.QUERY_PARAMETER) or ""
    if query.strip():
        criteria.append(v1.parse(query, containing=wire.CONTAINING_FIELDS))
    search = Search(all_of(criteria) if criteria else EVERYTHING, sort, page, wire.PAGE_SIZE)
    return Listing(search, mailbox_id)


def list_page(params: Mapping[str, str]) -> int:
    """`page` of a list without filters (`GET /v2/webhooks`): as `list_customers` reads it."""
    problems: list[Problem] = []
    page = v1.read_page(params, problems)
    if problems:
        raise wire.ParameterProblems(problems)
    return page


def deletes_later(params: Mapping[str, str]) -> bool:
    """`DELETE /v2/customers/{id}?async=true`: the delete is accepted (202) rather than done
    (204) (§4). `true` in any case, or `1`, as v1 reads its flags."""
    return v1_decode.is_true(params.get(wire.ASYNC_PARAMETER))
