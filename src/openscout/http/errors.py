"""The one place where exceptions become error responses (spec §6, §7).

`STATUSES` maps each domain error to its status, `HTTP_STATUSES` each error of the exchange
itself (`HttpError`: a body that did not arrive in time); the API version of the request supplies
the body (`ErrorShape`: v1's from `contract.v1.wire`; the control API speaks v1's too). The table
is registered on the app (`HANDLERS`), and the middlewares that answer before the app
(credentials, the body deadline, rate limits) answer through `error_response` as well. No domain
error carries a status.

A client that hangs up before its body is read (Starlette's `ClientDisconnect`) is no error of
the server's: it is logged at info, without a traceback, and answered `CLIENT_CLOSED_REQUEST`
(499, nginx's "client closed request"), a status for the access log that no one receives.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Scope

from openscout.contract.v1 import wire
from openscout.domain.errors import (
    BodyTooLarge,
    CustomerNotFound,
    DomainError,
    EmailTaken,
    EventNotFound,
    Invalid,
    LimitReached,
    MailboxNotFound,
    Malformed,
    RateLimited,
    SnapshotNotFound,
    StoreUnavailable,
    Unauthorized,
    UnreadableQuery,
    WebhookNotFound,
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
    WebhookNotFound: 404,
    EventNotFound: 404,
    EmailTaken: 409,
    LimitReached: 409,
    BodyTooLarge: 413,
    RateLimited: 429,
    StoreUnavailable: 503,
}


class HttpError(Exception):
    """An error of the HTTP exchange itself, not of the domain: how a request arrived."""


class BodyTimeout(HttpError):
    """The request body did not arrive within its deadline (http/deadline.py)."""


#: The status of each error of the exchange.
HTTP_STATUSES: Final[Mapping[type[HttpError], int]] = {
    BodyTimeout: 408,
}

#: The access log's status for a request whose client hung up before it was answered.
CLIENT_CLOSED_REQUEST: Final = 499

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
    #: The message of each error of the exchange.
    exchange: Mapping[type[HttpError], str]


V1: Final = ErrorShape(
    body=wire.error_document,
    message=wire.error_body,
    server_error=wire.SERVER_ERROR,
    challenge={"WWW-Authenticate": wire.WWW_AUTHENTICATE},
    exchange={BodyTimeout: wire.BODY_TIMEOUT},
)


def shape_of(_scope: Scope) -> ErrorShape:
    """The error shape of a request's API version (by its path, once v2 is served)."""
    return V1


def status_of(error: Exception) -> int:
    for kind in type(error).__mro__:
        status = STATUSES.get(kind) or HTTP_STATUSES.get(kind)
        if status is not None:
            return status
    return 500


def error_response(error: Exception, scope: Scope) -> Response:
    """The answer to an error raised while serving `scope`: a domain error's or an exchange
    error's status and its API version's body; a hang-up an info line and 499; anything else is
    logged with its trace and answered as a 500."""
    shape = shape_of(scope)
    if isinstance(error, ClientDisconnect):
        return _hung_up(scope)
    status = status_of(error)
    if status == 500:
        log.error("unexpected error", exc_info=error)
        return JsonResponse(shape.message(500, shape.server_error), 500)
    if isinstance(error, StoreUnavailable):
        log.warning("database unavailable: %s", error)
    headers: dict[str, str] = {}
    match error:
        case Unauthorized():
            headers.update(shape.challenge)
        case BodyTooLarge() | BodyTimeout():  # the rest of what was sent is not read
            headers["Connection"] = "close"
        case RateLimited(retry_after=seconds):
            headers["Retry-After"] = str(seconds)
        case StoreUnavailable():
            headers["Retry-After"] = str(OUTAGE_RETRY_AFTER)
    if isinstance(error, HttpError):
        return JsonResponse(shape.message(status, shape.exchange[type(error)]), status, headers)
    assert isinstance(error, DomainError)
    return JsonResponse(shape.body(error, status), status, headers)


def _hung_up(scope: Scope) -> Response:
    """The client went away before its body was read: an info line, and nothing to answer."""
    # Imported here: the access log reads the principal of http/auth.py, which answers its
    # refusals through this module.
    from openscout.http.accesslog import request_info

    info = request_info(scope)
    log.info(
        "client disconnected before its request body was read",
        extra={
            "fields": {
                "request_id": info.request_id if info else None,
                "method": scope["method"],
                "path": scope["path"][:1000],
            }
        },
    )
    return Response(status_code=CLIENT_CLOSED_REQUEST)


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
    HttpError: _error,
    ClientDisconnect: _error,
    HTTPException: _http_exception,
    Exception: _error,
}
