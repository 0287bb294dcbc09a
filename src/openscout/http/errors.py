"""The one place where exceptions become error responses (spec §6, §7).

`STATUSES` maps each domain error to its status; the API version of the request supplies the
body (`ErrorShape`: v1's from `contract.v1.wire`; the control API speaks v1's too). The table is
registered on the app (`HANDLERS`), and the middlewares that answer before the app (credentials,
rate limits) answer through `error_response` as well. No domain error carries a status.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from openscout.contract.v1 import wire
from openscout.domain.errors import (
    BodyTooLarge,
    CustomerNotFound,
    DomainError,
    EmailTaken,
    Invalid,
    LimitReached,
    MailboxNotFound,
    Malformed,
    RateLimited,
    SnapshotNotFound,
    StoreUnavailable,
    Unauthorized,
    UnreadableQuery,
)
from openscout.http.responses import JsonResponse

log = logging.getLogger("openscout.http")

#: The status of each domain error; an error not listed takes the status of its nearest
#: listed base class (`FixtureEmailTaken` is an `EmailTaken`).
STATUSES: Final[Mapping[type[DomainError], int]] = {
    Invalid: 400,
    Malformed: 400,
    UnreadableQuery: 400,
    Unauthorized: 401,
    CustomerNotFound: 404,
    MailboxNotFound: 404,
    SnapshotNotFound: 404,
    EmailTaken: 409,
    LimitReached: 409,
    BodyTooLarge: 413,
    RateLimited: 429,
    StoreUnavailable: 503,
}

#: Seconds a client is told to wait (`Retry-After`) after an outage of the database.
OUTAGE_RETRY_AFTER: Final = 5


@dataclass(frozen=True, slots=True)
class ErrorShape:
    """How one API version writes its errors: the body of a domain error, the body of an
    unexpected one, and how it asks for credentials on a 401."""

    body: Callable[[DomainError, int], dict[str, Any]]
    message: Callable[[int, str], dict[str, Any]]
    server_error: str
    challenge: Mapping[str, str]


V1: Final = ErrorShape(
    body=wire.error_document,
    message=wire.error_body,
    server_error=wire.SERVER_ERROR,
    challenge={"WWW-Authenticate": wire.WWW_AUTHENTICATE},
)


def shape_of(_scope: Scope) -> ErrorShape:
    """The error shape of a request's API version (by its path, once v2 is served)."""
    return V1


def status_of(error: DomainError) -> int:
    for kind in type(error).__mro__:
        status = STATUSES.get(kind)
        if status is not None:
            return status
    return 500


def error_response(error: Exception, scope: Scope) -> Response:
    """The answer to an error raised while serving `scope`: a domain error's status and its
    API version's body; anything else is logged with its trace and answered as a 500."""
    shape = shape_of(scope)
    if not isinstance(error, DomainError) or status_of(error) == 500:
        log.error("unexpected error", exc_info=error)
        return JsonResponse(shape.message(500, shape.server_error), 500)
    status = status_of(error)
    if isinstance(error, StoreUnavailable):
        log.warning("database unavailable: %s", error)
    headers: dict[str, str] = {}
    match error:
        case Unauthorized():
            headers.update(shape.challenge)
        case BodyTooLarge():  # the rest of what was sent is not read
            headers["Connection"] = "close"
        case RateLimited(retry_after=seconds):
            headers["Retry-After"] = str(seconds)
        case StoreUnavailable():
            headers["Retry-After"] = str(OUTAGE_RETRY_AFTER)
    return JsonResponse(shape.body(error, status), status, headers)


def _error(request: Request, error: Exception) -> Response:
    return error_response(error, request.scope)


def _http_exception(request: Request, error: Exception) -> Response:
    """Routing's own refusals. Unknown paths and unsupported methods alike are a 404 naming
    the path (spec §9.7)."""
    assert isinstance(error, HTTPException)
    shape = shape_of(request.scope)
    if error.status_code in (404, 405):
        message = wire.route_not_found(request.url.path)
        return JsonResponse(shape.message(404, message), 404)
    return JsonResponse(shape.message(error.status_code, str(error.detail)), error.status_code)


#: The app's exception handlers (Starlette's `exception_handlers`): the one table.
HANDLERS: Final[Mapping[Any, Callable[[Request, Exception], Response]]] = {
    DomainError: _error,
    HTTPException: _http_exception,
    Exception: _error,
}
