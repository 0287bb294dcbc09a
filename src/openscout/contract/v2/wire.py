"""Every Help Scout v2 name and shape of the customers API in one place: paths, field and entry
names, enums, limits, HAL envelopes and links, the vnd.error body (spec
helpscout-v2-customers.md §2-§5, §8, §8a). What v2 shares with v1 is taken from v1's wire.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final
from urllib.parse import quote, urlencode

from openscout.contract.v1 import wire as v1
from openscout.contract.v2.oauth import is_oauth_path
from openscout.domain.customers import Collection
from openscout.domain.errors import (
    BodyTooLarge,
    CustomerNotFound,
    DomainError,
    EmailTaken,
    Invalid,
    MailboxNotFound,
    Malformed,
    Problem,
    RateLimited,
    Reason,
    StoreUnavailable,
    Unauthorized,
    UnreadableQuery,
    WebhookNotFound,
)
from openscout.domain.search import Field
from openscout.domain.webhooks import MAX_LABEL_LENGTH, MAX_SECRET_LENGTH, MAX_URL_LENGTH

# --- paths (§4) --------------------------------------------------------------------------

# `{name:id}` is a whole number of any length (openscout.http.IdConvertor).
CUSTOMERS_PATH: Final = "/v2/customers"
CUSTOMER_PATH: Final = "/v2/customers/{customer_id:id}"
#: The account's property definitions ("List Customer Property Definitions").
CUSTOMER_PROPERTIES_PATH: Final = "/v2/customer-properties"
#: The path prefixes of the API whose answers are v2's (v3's list shares v2's shapes, §4).
API_PREFIXES: Final = ("/v2/", "/v3/")


def is_v2_path(path: str) -> bool:
    """Whether a request path is v2's (served or not): its errors are vnd.error bodies, its
    requests act for an account and are counted as v2's. OAuth's endpoints, under /v2/ too,
    answer in their own JSON (RFC 6749) and read their own credentials."""
    return path.startswith(API_PREFIXES) and not is_oauth_path(path)


#: The path segment of each entry collection: `social-profiles` with a hyphen (§8).
SEGMENTS: Final[Mapping[Collection, str]] = {
    Collection.EMAILS: "emails",
    Collection.PHONES: "phones",
    Collection.CHATS: "chats",
    Collection.SOCIAL_PROFILES: "social-profiles",
    Collection.WEBSITES: "websites",
}
ADDRESS_SEGMENT: Final = "address"
PROPERTIES_SEGMENT: Final = "properties"
ADDRESS_PATH: Final = f"{CUSTOMER_PATH}/{ADDRESS_SEGMENT}"
PROPERTIES_PATH: Final = f"{CUSTOMER_PATH}/{PROPERTIES_SEGMENT}"


def entries_path(collection: Collection) -> str:
    """`/v2/customers/{customer_id}/<segment>`: list and create entries (§4)."""
    return f"{CUSTOMER_PATH}/{SEGMENTS[collection]}"


def entry_path(collection: Collection) -> str:
    """`/v2/customers/{customer_id}/<segment>/{entry_id}`: update and delete one entry (§4)."""
    return f"{entries_path(collection)}/{{entry_id:id}}"


def customer_url(base_url: str, customer_id: int) -> str:
    """The absolute URL of a customer: its `_links.self` and the `Location` of a create."""
    return f"{base_url.rstrip('/')}{CUSTOMERS_PATH}/{customer_id}"


def entry_url(base_url: str, customer_id: int, collection: Collection, entry_id: int) -> str:
    """The absolute URL of one entry: the `Location` of an entry's create."""
    return f"{customer_url(base_url, customer_id)}/{SEGMENTS[collection]}/{entry_id}"


def address_url(base_url: str, customer_id: int) -> str:
    """The absolute URL of a customer's address: the `Location` of an address's create."""
    return f"{customer_url(base_url, customer_id)}/{ADDRESS_SEGMENT}"


# --- headers and media types (§2, §5, §8a) ---------------------------------------------------

HAL_JSON: Final = "application/hal+json"
VND_ERROR: Final = "application/vnd.error+json"
#: PATCH bodies come as `application/json` (every client read) or this (hscli) (§8a.8).
JSON_PATCH: Final = "application/json-patch+json"
#: The id of a created customer or entry: the only place clients read it from (§8a.4).
RESOURCE_ID: Final = "Resource-ID"
#: The media types a write's body may come as (§8a.8); a parameter (`charset`) is allowed, and
#: a body without `Content-Type` is read as JSON (docs/decisions/v2-status-codes.md).
BODY_MEDIA_TYPES: Final = frozenset({"application/json", JSON_PATCH})
#: The longest body a write takes, as v1's (Help Scout's 100 kB; §2 of the v1 spec).
MAX_BODY_BYTES: Final = v1.MAX_BODY_BYTES
#: `DELETE /v2/customers/{id}?async=true` answers 202 instead of 204 (§4).
ASYNC_PARAMETER: Final = "async"

# --- names (§3, §8) ------------------------------------------------------------------------

#: Wire name of each own field that v2 writes (create, overwrite, patch), mapped to the
#: domain's name (docs/decisions/v2-written-fields.md).
OWN_FIELDS: Final[Mapping[str, str]] = {
    "firstName": "first_name",
    "lastName": "last_name",
    "gender": "gender",
    "jobTitle": "job_title",
    "location": "location",
    "organization": "organization",
    "photoType": "photo_type",
    "photoUrl": "photo_url",
    "age": "age",
    "background": "background",
}

#: Entry collections of a create body (camelCase there, §4).
BODY_COLLECTIONS: Final[Mapping[str, Collection]] = {
    "emails": Collection.EMAILS,
    "phones": Collection.PHONES,
    "chats": Collection.CHATS,
    "socialProfiles": Collection.SOCIAL_PROFILES,
    "websites": Collection.WEBSITES,
}
#: The single phone number a create body may carry (§3).
CREATE_PHONE: Final = "phone"

#: The `_embedded` name of each collection: `social_profiles` with an underscore (§3, §8).
EMBEDDED: Final[Mapping[Collection, str]] = {
    Collection.EMAILS: "emails",
    Collection.PHONES: "phones",
    Collection.CHATS: "chats",
    Collection.SOCIAL_PROFILES: "social_profiles",
    Collection.WEBSITES: "websites",
}
EMBEDDED_CUSTOMERS: Final = "customers"

#: v2 names an entry's kind `type` in every collection (§8); websites have none.
LABEL_KEYS: Final[Mapping[Collection, str | None]] = {
    collection: None if collection is Collection.WEBSITES else "type" for collection in Collection
}

#: Address fields: the same names as v1's, without id or timestamps (§3, §8).
ADDRESS_FIELDS: Final[Mapping[str, str]] = v1.ADDRESS_FIELDS

# --- enums and limits (§3) ---------------------------------------------------------------

PHOTO_TYPES: Final = v1.PHOTO_TYPES | {"instagram"}
GENDERS: Final = v1.GENDERS
LABELS: Final = v1.LABELS
LABEL_ALIASES: Final = v1.LABEL_ALIASES
#: The enumerated own fields and what each accepts (input in any case, kept lowercase).
ENUMS: Final[Mapping[str, frozenset[str]]] = {"gender": GENDERS, "photo_type": PHOTO_TYPES}

#: Documented limits of create and overwrite (§3); `age` is a free string, bounded like any
#: other text openscout keeps (docs/decisions/v2-written-fields.md).
MAX_LENGTHS: Final[Mapping[str, int]] = {
    "first_name": 40,
    "last_name": 40,
    "photo_url": 200,
    "job_title": 60,
    "location": 60,
    "organization": 60,
    "background": 200,
    "age": v1.MAX_ENTRY_LENGTH,
}
MAX_ENTRY_LENGTH: Final = v1.MAX_ENTRY_LENGTH
#: A webhook's limits (§7; docs/webhooks.md).
WEBHOOK_MAX_LENGTHS: Final[Mapping[str, int]] = {
    "url": MAX_URL_LENGTH,
    "secret": MAX_SECRET_LENGTH,
    "label": MAX_LABEL_LENGTH,
}
PAGE_SIZE: Final = 50
#: Ids (customers, entries, mailboxes) are 32-bit, as in v1.
MAX_ID: Final = v1.MAX_PAGE

# --- PATCH documents (§4 "Update Customer") ------------------------------------------------

OPERATIONS: Final = ("add", "remove", "replace")
OP: Final = "op"
PATH: Final = "path"
VALUE: Final = "value"
ENTRY_VALUE: Final = "value"
ENTRY_TYPE: Final = "type"
#: A patch path that names nothing its operation can change (docs/decisions/v2-patch-documents.md).
PATH_UNKNOWN: Final = "is not a path this operation can change"

# --- list parameters (§4, §8a.11-12) --------------------------------------------------------

PAGE_PARAMETER: Final = v1.PAGE_PARAMETER
QUERY_PARAMETER: Final = v1.QUERY_PARAMETER
MAILBOX_PARAMETER: Final = "mailbox"
MODIFIED_SINCE: Final = v1.MODIFIED_SINCE
SORT_FIELD: Final = v1.SORT_FIELD
SORT_ORDER: Final = v1.SORT_ORDER
#: The list filters that compare a whole value, ignoring case.
LIST_FILTERS: Final[Mapping[str, Field]] = {
    "firstName": Field.FIRST_NAME,
    "lastName": Field.LAST_NAME,
}
#: Fields of the search language that v2 matches by containment: `email:"…"` (§4).
CONTAINING_FIELDS: Final = frozenset({Field.EMAIL})

# --- values --------------------------------------------------------------------------------

timestamp = v1.timestamp
parse_timestamp = v1.parse_timestamp

# --- HAL (§2, §8a.5-7, §8a.16) --------------------------------------------------------------


def link(href: str) -> dict[str, Any]:
    return {"href": href}


def customer_links(base_url: str, customer_id: int) -> dict[str, Any]:
    """The `_links` of a customer: each entry kind's sub-resource, then `self` (§3)."""
    url = customer_url(base_url, customer_id)
    return {
        "address": link(f"{url}/{ADDRESS_SEGMENT}"),
        "chats": link(f"{url}/{SEGMENTS[Collection.CHATS]}"),
        "emails": link(f"{url}/{SEGMENTS[Collection.EMAILS]}"),
        "phones": link(f"{url}/{SEGMENTS[Collection.PHONES]}"),
        "social-profiles": link(f"{url}/{SEGMENTS[Collection.SOCIAL_PROFILES]}"),
        "websites": link(f"{url}/{SEGMENTS[Collection.WEBSITES]}"),
        "self": link(url),
    }


def page_links(
    base_url: str, path: str, params: Sequence[tuple[str, str]], number: int, pages: int
) -> dict[str, Any]:
    """The `_links` of page `number` (1-based) of `pages` (docs/decisions/v2-page-links.md).

    Every href is absolute and carries the request's parameters with `page` set; `first`
    and `last` only when there is a page, `next` only before the last page, `previous` only
    after the first (from beyond the last page it leads to the last); `page` is the
    template that clients expand (§8a.5).
    """
    url = f"{base_url.rstrip('/')}{path}"
    kept = [(name, value) for name, value in params if name != PAGE_PARAMETER]

    def at(page: int) -> dict[str, Any]:
        return link(f"{url}?{urlencode([*kept, (PAGE_PARAMETER, str(page))], quote_via=quote)}")

    links = {"self": at(number)}
    if pages:
        links["first"] = at(1)
        links["last"] = at(pages)
    if number < pages:
        links["next"] = at(number + 1)
    if number > 1 and pages:
        links["previous"] = at(min(number - 1, pages))
    links["page"] = {"href": f"{url}{{?{PAGE_PARAMETER}}}", "templated": True}
    return links


def page(
    name: str, items: list[Any], links: Mapping[str, Any], number: int, size: int, total: int
) -> dict[str, Any]:
    """A page of a collection: `_embedded.<name>` (present and `[]` when the page is empty,
    docs/decisions/v2-empty-page.md), `_links`, and `page` with its 1-based `number` (§2)."""
    return {
        "_embedded": {name: items},
        "_links": dict(links),
        "page": {
            "size": size,
            "totalElements": total,
            "totalPages": -(-total // size),
            "number": number,
        },
    }


def entries(name: str, items: list[Any], self_url: str) -> dict[str, Any]:
    """An entry sub-resource list: `_embedded.<name>` and `_links.self`, no page (§8a.16)."""
    return {"_embedded": {name: items}, "_links": {"self": link(self_url)}}


#: `_embedded` name of the property definitions ("List Customer Property Definitions").
EMBEDDED_PROPERTY_DEFINITIONS: Final = "customer-properties"


# --- errors (§5) -------------------------------------------------------------------------

ERRORS_URL: Final = "http://developer.helpscout.net/mailbox-api/overview/errors"
BAD_REQUEST: Final = "Bad request"
#: A body that is not JSON, or not the JSON the endpoint takes: Help Scout's words for it, seen
#: in a 400 quoted in helpscout/helpscout-api-php issue #74.
MALFORMED: Final = "Error parsing request body into JSON"
NOT_FOUND: Final = "Resource not found"
UNAUTHORIZED: Final = "Invalid or expired access token"
EMAIL_TAKEN: Final = "A customer with this email address already exists"
TOO_LARGE: Final = "The request is too large"
UNSUPPORTED_MEDIA_TYPE: Final = "Content type not supported: send application/json"
BODY_TIMEOUT: Final = "The request body did not arrive in time"
RATE_LIMITED: Final = "API rate limit exceeded"
UNAVAILABLE: Final = "The service is temporarily unavailable"
SERVER_ERROR: Final = "An unexpected error occurred"
#: How a 401 asks for credentials: an OAuth bearer token (§1; RFC 6750 §3).
WWW_AUTHENTICATE: Final = 'Bearer realm="Help Scout API"'
#: `source` of a problem: where the refused value was (docs/decisions/v2-errors.md).
SOURCE_BODY: Final = "JSON"
SOURCE_QUERY: Final = "PARAMETER"
#: What an entry of each collection is called in "the specified … was not found".
ENTRY_NOUNS: Final[Mapping[str, str]] = {**v1.ENTRY_NOUNS, PROPERTIES_SEGMENT: "property"}

_MESSAGES: Final[Mapping[Reason, str]] = {
    Reason.REQUIRED: "may not be empty",
    Reason.INVALID: "is not valid",
    Reason.NOT_AN_EMAIL: "not a well-formed email address",
    Reason.DUPLICATE_ENTRY: "is already an entry of this customer",
    Reason.MALFORMED: "is malformed",
}

#: Wire names of domain path parts, for error paths.
_WIRE_NAMES: Final[Mapping[str, str]] = {
    **{domain: wire for wire, domain in OWN_FIELDS.items()},
    **{domain: wire for wire, domain in ADDRESS_FIELDS.items()},
    **{collection.value: wire for wire, collection in BODY_COLLECTIONS.items()},
}


class ParameterProblems(Invalid):
    """Refused values of the query string, not of the body: `source` is `PARAMETER` (§5)."""


def error_body(log_ref: str, message: str) -> dict[str, Any]:
    """A vnd.error body without field errors (§5): 401, 404, 409, 413, 429, 500."""
    return {"logRef": log_ref, "message": message, "_links": {"about": link(ERRORS_URL)}}


def error_document(error: DomainError, log_ref: str) -> dict[str, Any]:
    """v2's body for a domain error (§5; docs/decisions/v2-errors.md): every problem of a 400
    in `_embedded.errors`, the other errors a `message`. An error Help Scout has no words for
    is told in its own, in the same shape."""
    match error:
        case ParameterProblems(problems=problems):
            return validation_body(log_ref, problems, SOURCE_QUERY)
        case Invalid(problems=problems):
            return validation_body(log_ref, problems)
        case UnreadableQuery(position=position, detail=detail):
            unreadable = {
                "path": QUERY_PARAMETER,
                "message": v1.unreadable_query(position, detail),
                "source": SOURCE_QUERY,
            }
            return _with_errors(log_ref, BAD_REQUEST, [unreadable])
        case Malformed():
            # With an empty list of errors, as in the 400 quoted beside MALFORMED.
            return _with_errors(log_ref, MALFORMED, [])
        case Unauthorized():
            return error_body(log_ref, UNAUTHORIZED)
        case CustomerNotFound() | MailboxNotFound() | WebhookNotFound():
            return error_body(log_ref, NOT_FOUND)
        case EmailTaken(email=email):
            # Which address, as a validation error names a value: one body for every client.
            taken = {
                "path": "emails",
                "message": EMAIL_TAKEN,
                "rejectedValue": email,
                "source": SOURCE_BODY,
            }
            return _with_errors(log_ref, EMAIL_TAKEN, [taken])
        case BodyTooLarge():
            return error_body(log_ref, TOO_LARGE)
        case RateLimited():
            return error_body(log_ref, RATE_LIMITED)
        case StoreUnavailable():
            return error_body(log_ref, UNAVAILABLE)
    return error_body(log_ref, str(error))


def retry_headers(seconds: int) -> dict[str, str]:
    """How long a refused client waits: Help Scout's header, and `Retry-After`, the only one
    some clients read (§8a.13)."""
    return {"X-RateLimit-Retry-After": str(seconds), "Retry-After": str(seconds)}


def _with_errors(log_ref: str, message: str, errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "logRef": log_ref,
        "message": message,
        "_embedded": {"errors": errors},
        "_links": {"about": link(ERRORS_URL)},
    }


def validation_body(
    log_ref: str, problems: Iterable[Problem], source: str = SOURCE_BODY
) -> dict[str, Any]:
    """The 400 vnd.error body listing every problem of the request (§5)."""
    return _with_errors(
        log_ref, BAD_REQUEST, [problem_body(problem, source) for problem in problems]
    )


def problem_body(problem: Problem, source: str = SOURCE_BODY) -> dict[str, Any]:
    """One entry of `_embedded.errors`: `path`, `message`, `rejectedValue` only when a value
    was refused, `source` (§5)."""
    body: dict[str, Any] = {"path": error_path(problem.path), "message": message(problem)}
    value = rejected_value(problem)
    if value is not None:
        body["rejectedValue"] = value
    body["source"] = source
    return body


def error_path(path: tuple[str, ...]) -> str:
    """Domain path to v2 error path: ("address", "postal_code") → `address.postalCode`; a
    number names an operation of a PATCH document: ("2", "op") → `[2].op`."""
    parts = [f"[{part}]" if part.isdigit() else _WIRE_NAMES.get(part, part) for part in path]
    return ".".join(parts).replace(".[", "[")


def message(problem: Problem) -> str:
    """What a problem is, in the kinds of Help Scout's errors page (§5)."""
    name = problem.path[-1] if problem.path else ""
    owner = problem.path[0] if problem.path else ""
    match problem.reason:
        case Reason.REQUIRED if problem.value is None:
            return "may not be null"
        case Reason.TOO_LONG:
            limit = MAX_LENGTHS.get(name) or WEBHOOK_MAX_LENGTHS.get(name, MAX_ENTRY_LENGTH)
            return f"size must be between 1 and {limit}"
        case Reason.UNKNOWN_ENTRY:
            return f"The specified {ENTRY_NOUNS.get(owner, owner)} was not found"
        case Reason.INVALID if name == PATH and owner.isdigit():
            return PATH_UNKNOWN
        case Reason.INVALID if choices := _choices(problem.path):
            return f"Expected one of these: {', '.join(sorted(choices))}"
    # A reason the domain learns later still gets an answer, never an error.
    return _MESSAGES.get(problem.reason, _MESSAGES[Reason.INVALID])


def _choices(path: tuple[str, ...]) -> frozenset[str] | None:
    """The allowed values of an enumerated field, an entry type or a patch `op`."""
    match path:
        case (name,) if name in ENUMS:
            return ENUMS[name]
        case (index, name) if index.isdigit() and name == OP:
            return frozenset(OPERATIONS)
        case (owner, name) if name == ENTRY_TYPE:
            collection = next((c for c in Collection if c.value == owner), None)
            return LABELS[collection] or None if collection else None
    return None


def rejected_value(problem: Problem) -> Any:
    """The refused value as the client sent it; None when nothing was sent. An unknown
    entry is reported by the id the client named (the domain marks removals negative)."""
    value = problem.value
    if problem.reason is Reason.UNKNOWN_ENTRY and isinstance(value, int):
        return abs(value)
    return value


# --- rate limits (§6, §8a.13) ------------------------------------------------------------------

#: Writes count twice against the minute's allowance (§6): PATCH among them.
WRITE_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
WRITE_WEIGHT: Final = 2


def rate_limit_headers(minute_limit: int, minute_used: int) -> dict[str, str]:
    """`X-RateLimit-*` of every answer to a live credential (§6): v2 has the minute's only."""
    return {
        "X-RateLimit-Limit-Minute": str(minute_limit),
        "X-RateLimit-Remaining-Minute": str(max(minute_limit - minute_used, 0)),
    }
