"""Every Help Scout v1 name, shape and message in one place: field names, enums, limits,
envelopes, error bodies and paths (spec §2-§8).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

import msgspec

from openscout.contract.v1.fields import Selector, select
from openscout.domain.customers import Collection
from openscout.domain.errors import (
    BodyTooLarge,
    CustomerNotFound,
    DomainError,
    EmailTaken,
    FixtureEmailTaken,
    Invalid,
    MailboxNotFound,
    Malformed,
    Problem,
    RateLimited,
    Reason,
    StoreUnavailable,
    Unauthorized,
    UnreadableQuery,
)
from openscout.domain.search import Field, SortKey

# --- paths (§1) --------------------------------------------------------------------------

# `{name:id}` is a whole number of any length (openscout.http.IdConvertor).
CUSTOMERS_PATH: Final = "/v1/customers.json"
CUSTOMER_PATH: Final = "/v1/customers/{customer_id:id}.json"
MAILBOX_CUSTOMERS_PATH: Final = "/v1/mailboxes/{mailbox_id:id}/customers.json"
SEARCH_CUSTOMERS_PATH: Final = "/v1/search/customers.json"


def customer_location(base_url: str, customer_id: int) -> str:
    """The `Location` of a created customer: plural `customers`, ending in `/{id}.json` (§9.4)."""
    return f"{base_url.rstrip('/')}/v1/customers/{customer_id}.json"


# --- names ------------------------------------------------------------------------------

#: Wire name of each customer field that v1 writes (§10.1), mapped to the domain's name.
WRITABLE_FIELDS: Final[Mapping[str, str]] = {
    "firstName": "first_name",
    "lastName": "last_name",
    "organization": "organization",
    "jobTitle": "job_title",
    "background": "background",
}

#: Present on create, never blank (§8.5; docs/decisions/create-requirements.md).
REQUIRED_FIELDS: Final = frozenset({"first_name", "last_name"})

#: Wire name of each entry collection (§10.3).
COLLECTIONS: Final[Mapping[str, Collection]] = {
    "emails": Collection.EMAILS,
    "phones": Collection.PHONES,
    "chats": Collection.CHATS,
    "socialProfiles": Collection.SOCIAL_PROFILES,
    "websites": Collection.WEBSITES,
}

#: The key that carries an entry's label in each collection (§8.2); websites have none.
LABEL_KEYS: Final[Mapping[Collection, str | None]] = {
    Collection.EMAILS: "location",
    Collection.PHONES: "location",
    Collection.CHATS: "type",
    Collection.SOCIAL_PROFILES: "type",
    Collection.WEBSITES: None,
}

#: The noun used in "The specified <noun> is not valid" for each collection.
ENTRY_NOUNS: Final[Mapping[str, str]] = {
    "emails": "email",
    "phones": "phone",
    "chats": "chat",
    "social_profiles": "social profile",
    "websites": "website",
    "address": "address",
}

#: Wire name of each address field (§8.2); `postcalCode` is accepted on input as an alias (§10.5).
ADDRESS_FIELDS: Final[Mapping[str, str]] = {
    "lines": "lines",
    "city": "city",
    "state": "state",
    "postalCode": "postal_code",
    "country": "country",
}
POSTAL_CODE_ALIAS: Final = "postcalCode"

_WIRE_NAMES: Final[Mapping[str, str]] = {
    **{domain: wire for wire, domain in WRITABLE_FIELDS.items()},
    **{domain: wire for wire, domain in ADDRESS_FIELDS.items()},
    **{c.value: wire for wire, c in COLLECTIONS.items()},
}

# --- enums (§8.3) -------------------------------------------------------------------------

PHOTO_TYPES: Final = frozenset(
    {"unknown", "gravatar", "twitter", "facebook", "googleprofile", "googleplus", "linkedin"}
)
GENDERS: Final = frozenset({"male", "female", "unknown"})
LABELS: Final[Mapping[Collection, frozenset[str]]] = {
    Collection.EMAILS: frozenset({"work", "home", "other"}),
    Collection.PHONES: frozenset({"home", "work", "mobile", "fax", "pager", "other"}),
    Collection.CHATS: frozenset(
        {"aim", "gtalk", "icq", "xmpp", "msn", "skype", "yahoo", "qq", "other"}
    ),
    Collection.SOCIAL_PROFILES: frozenset(
        {
            "twitter",
            "facebook",
            "linkedin",
            "aboutme",
            "google",
            "googleplus",
            "tungleme",
            "quora",
            "foursquare",
            "youtube",
            "flickr",
            "other",
        }
    ),
    Collection.WEBSITES: frozenset(),
}
#: Input spellings taken as another value: the Java client writes `xmmp` for `xmpp` (§8.3).
LABEL_ALIASES: Final[Mapping[str, str]] = {"xmmp": "xmpp"}

# --- limits (§2, §8.5) ------------------------------------------------------------------

MAX_BODY_BYTES: Final = 100 * 1024
MAX_LENGTHS: Final[Mapping[str, int]] = {
    "first_name": 40,
    "last_name": 40,
    "organization": 60,
    "job_title": 60,
    "background": 200,
}
#: Entry values and address fields: v1 documents no limit; see docs/decisions.md.
MAX_ENTRY_LENGTH: Final = 255
PAGE_SIZE: Final = 50
#: Pages past this are refused like a page that is not a number: ids and pages are 32-bit.
MAX_PAGE: Final = 2**31 - 1

# --- list and search parameters (§5, §9.1, §9.6; docs/list-and-search.md) --------------------

PAGE_PARAMETER: Final = "page"
PAGE_SIZE_PARAMETER: Final = "pageSize"
QUERY_PARAMETER: Final = "query"
SORT_FIELD: Final = "sortField"
SORT_ORDER: Final = "sortOrder"
MODIFIED_SINCE: Final = "modifiedSince"

#: The list filters of L1 that compare a whole value (§9.1); `modifiedSince` is a range.
LIST_FILTERS: Final[Mapping[str, Field]] = {
    "firstName": Field.FIRST_NAME,
    "lastName": Field.LAST_NAME,
    "email": Field.EMAIL,
}

#: `sortField` values, case folded (§9.6); `score` means the default order, newest first.
#: `createdAt` is v2's (its docs name it as the default); accepted here too.
SORT_FIELDS: Final[Mapping[str, SortKey | None]] = {
    "score": None,
    "firstname": SortKey.FIRST_NAME,
    "lastname": SortKey.LAST_NAME,
    "modifiedat": SortKey.MODIFIED_AT,
    "createdat": SortKey.CREATED_AT,
}
#: `sortOrder` values, case folded, mapped to "descending?".
SORT_ORDERS: Final[Mapping[str, bool]] = {"asc": False, "desc": True}

#: Field names of the search language, case folded (§9.6); `modifiedSince:` is read apart.
QUERY_FIELDS: Final[Mapping[str, Field]] = {
    "id": Field.ID,
    "firstname": Field.FIRST_NAME,
    "lastname": Field.LAST_NAME,
    "fullname": Field.FULL_NAME,
    "email": Field.EMAIL,
    "emaildomain": Field.EMAIL_DOMAIN,
    "organization": Field.ORGANIZATION,
    "jobtitle": Field.JOB_TITLE,
    "createdat": Field.CREATED_AT,
    "modifiedat": Field.MODIFIED_AT,
}

# What an unreadable query is told (§9.6: a 400 with code and error); `{}` is filled in.
QUERY_UNEXPECTED: Final = 'unexpected "{}"'
QUERY_UNCLOSED_GROUP: Final = 'the query ends before its "(" is closed'
QUERY_UNCLOSED_QUOTE: Final = "this quote is never closed"
QUERY_UNCLOSED_RANGE: Final = 'the query ends inside a range like "[2017-01-01 TO *]"'
QUERY_ENDS_EARLY: Final = "the query ends where a search term was expected"
QUERY_UNKNOWN_FIELD: Final = (
    'unknown field "{}" (known: id, firstName, lastName, fullName, email, emailDomain, '
    "organization, jobTitle, createdAt, modifiedAt, modifiedSince)"
)
QUERY_NO_RANGE: Final = '"{}" does not take a range (id, createdAt and modifiedAt do)'
QUERY_NOT_A_NUMBER: Final = '"{}" is not an id'
QUERY_NOT_A_MOMENT: Final = '"{}" is not a UTC date and time like 2017-01-01T00:00:00Z'
QUERY_NO_WILDCARDS: Final = 'wildcards are not supported (only "*" alone, for everyone)'
QUERY_NOTHING_TO_SEARCH: Final = '"{}" has no letters or digits to search for'
QUERY_TOO_LONG: Final = "the query is longer than {} characters"
QUERY_TOO_DEEP: Final = "the query nests more than {} levels deep"
QUERY_TOO_COMPLEX: Final = (
    "the query has more than {} conditions (a word counts 3, a quoted name 3 and 1 per word)"
)


def unreadable_query(position: int, detail: str) -> str:
    """The `error` of a 400 for a query that cannot be read: where and why."""
    return f"The search query could not be read at position {position}: {detail}"


def parse_timestamp(text: str) -> datetime | None:
    """A moment as v1 writes them (`2013-11-20T13:31:49Z`, §2); also with an offset, with
    fractions of a second, or a date alone (midnight). No zone means UTC. None when unreadable.
    """
    text = text.strip()
    if len(text) < 10 or not text[:4].isdigit():
        return None
    try:
        moment = datetime.fromisoformat(text)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


# --- values ----------------------------------------------------------------------------


def timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC, whole seconds, trailing Z: `2012-07-23T12:34:12Z` (§2)."""
    # As strftime("%Y-%m-%dT%H:%M:%SZ") would, in a third of the time.
    return moment.isoformat(timespec="seconds")[:19] + "Z"


def item(body: Mapping[str, Any], selector: Selector | None = None) -> dict[str, Any]:
    """The single-item envelope (§5); a field selector trims the item, never the envelope."""
    return {"item": body if selector is None else select(body, selector)}


def collection(
    page: int,
    pages: int,
    count: int,
    items: list[dict[str, Any]],
    selector: Selector | None = None,
) -> dict[str, Any]:
    """The collection envelope (§5); a field selector trims each item, never the envelope."""
    if selector is not None:
        items = [select(body, selector) for body in items]
    return {"page": page, "pages": pages, "count": count, "items": items}


# --- errors (§7) -----------------------------------------------------------------------

NOT_FOUND: Final = "The requested resource was not found."
MALFORMED: Final = "The request was not formatted correctly"
INVALID: Final = "Input could not be validated"
UNAUTHORIZED: Final = "Invalid API Key"
EMAIL_TAKEN: Final = "A customer with this email address already exists"
TOO_LARGE: Final = "The request is too large"
BODY_TIMEOUT: Final = "The request body did not arrive in time"
#: v1 reads a body whatever its `Content-Type`: only the control API would send this.
UNSUPPORTED_MEDIA_TYPE: Final = "The request's content type is not supported"
UNAVAILABLE: Final = "The service is temporarily unavailable"
SERVER_ERROR: Final = "An unexpected error occurred"
WWW_AUTHENTICATE: Final = 'Basic realm="Help Scout API"'

_MESSAGES: Final[Mapping[Reason, str]] = {
    Reason.REQUIRED: "Value is required",
    Reason.INVALID: "Value is not valid",
    Reason.TOO_LONG: "Value is too long",
    Reason.NOT_AN_EMAIL: "Value is not a valid email address",
    Reason.DUPLICATE_ENTRY: "Value is already an entry of this customer",
    Reason.MALFORMED: "Value is not valid",
}


def route_not_found(path: str) -> str:
    """The message for an unknown path or an unsupported method (§7, §9.7)."""
    return f"The specified resource was not found: '{path}'"


def error_body(code: int, message: str) -> dict[str, Any]:
    """`{"code", "error"}`: what every client reads (§7)."""
    return {"code": code, "error": message}


def error_document(error: DomainError, code: int) -> dict[str, Any]:
    """v1's body for a domain error answered with `code` (§7). Errors Help Scout had no message
    for (the control API's limits, say) are told in their own words, in the same shape."""
    match error:
        case Invalid(problems=problems):
            return validation_body(problems)
        case UnreadableQuery(position=position, detail=detail):
            return error_body(code, unreadable_query(position, detail))
        case Malformed():
            return error_body(code, MALFORMED)
        case Unauthorized():
            return error_body(code, UNAUTHORIZED)
        case CustomerNotFound() | MailboxNotFound():
            return error_body(code, NOT_FOUND)
        case FixtureEmailTaken(index=index, email=email):
            # Where in a fixture document (docs/testing.md): `customers[0]:emails`.
            body = error_body(code, EMAIL_TAKEN)
            body["property"] = property_name((f"customers[{index}]", "emails"))
            body["value"] = email
            return body
        case EmailTaken():
            return error_body(code, EMAIL_TAKEN)
        case BodyTooLarge():
            return error_body(code, TOO_LARGE)
        case StoreUnavailable():
            return error_body(code, UNAVAILABLE)
        case RateLimited():
            return rate_limited_body()
    return error_body(code, str(error))


def rate_limited_body() -> dict[str, Any]:
    """The 429 body: a superset that every known client parses (§4)."""
    message = "API rate limit exceeded"
    return {"code": 429, "error": message, "message": message}


# --- rate limits (§4) and other headers (§2) ------------------------------------------------

#: Seconds per window of each rate limit: requests per minute, and the write burst (§4).
MINUTE_SECONDS: Final = 60
BURST_SECONDS: Final = 5
#: The methods the burst limit counts (§4): GET is exempt.
WRITE_METHODS: Final = frozenset({"POST", "PUT", "DELETE"})
#: The request id of every response (§2, "also seen").
CORRELATION_ID: Final = "Correlation-Id"


def rate_limit_headers(
    minute_limit: int | None, minute_used: int, burst_limit: int | None, burst_used: int
) -> dict[str, str]:
    """`X-RateLimit-*` as Help Scout sent them on every response (§4), for the limits that are
    on: the minute's, the burst's, or both (Help Scout had both)."""
    headers = {}
    if minute_limit:
        headers["X-RateLimit-Interval-Minute"] = str(MINUTE_SECONDS)
        headers["X-RateLimit-Limit-Minute"] = str(minute_limit)
        headers["X-RateLimit-Remaining-Minute"] = str(max(minute_limit - minute_used, 0))
    if burst_limit:
        headers["X-RateLimit-Interval-Burst"] = str(BURST_SECONDS)
        headers["X-RateLimit-Limit-Burst"] = str(burst_limit)
        headers["X-RateLimit-Remaining-Burst"] = str(max(burst_limit - burst_used, 0))
    return headers


def validation_body(problems: Iterable[Problem]) -> dict[str, Any]:
    """A 400 listing every problem of the request (§7)."""
    return {
        "code": 400,
        "error": INVALID,
        "validationErrors": [
            {
                "property": property_name(problem.path),
                "value": render_value(problem.value),
                "message": message(problem),
            }
            for problem in problems
        ],
    }


def property_name(path: tuple[str, ...]) -> str:
    """Domain path to v1 property: ("address", "postal_code") → `address:postalCode` (§7)."""
    return ":".join(_WIRE_NAMES.get(part, part) for part in path)


def message(problem: Problem) -> str:
    if problem.reason is Reason.UNKNOWN_ENTRY:
        return f"The specified {ENTRY_NOUNS.get(problem.path[0], problem.path[0])} is not valid"
    return _MESSAGES[problem.reason]


def render_value(value: object) -> str | None:
    """The offending input as a string; null when missing or blank (§7)."""
    match value:
        case None:
            return None
        case str():
            return value if value.strip() else None
        case bool():
            return "true" if value else "false"
        case int() | float():
            return str(value)
        case _:
            return msgspec.json.encode(value).decode()
