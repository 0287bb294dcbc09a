"""The one place where exceptions become error responses (spec §6, §7).

`STATUSES` maps each domain error to its status, `HTTP_STATUSES` each error of the exchange
itself (`HttpError`: a body that did not arrive in time, one of a media type no endpoint
reads); the API version of the request, by its path, supplies the body (`ErrorShape`: v1's
from `contract.v1.wire`, which the control API speaks too; v2's vnd.error from
`contract.v2.wire`, for `/v2/` and `/v3/` paths but OAuth's). The table
is registered on the app (`HANDLERS`), and the middlewares that answer before the app
(credentials, the body deadline, rate limits) answer through `error_response` as well. No domain
error carries a status.

A client that hangs up before its body is read (Starlette's `ClientDisconnect`) is no error of
the server's: it is logged at info, without a traceback, and answered `CLIENT_CLOSED_REQUEST`
(499, nginx's "client closed request"), a status for the access log that no one receives.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Scope

from openscout.contract.v1 import wire
from openscout.contract.v2 import oauth
from openscout.contract.v2 import wire as v2_wire
from openscout.domain.errors import (
    BodyTooLarge,
    CustomerNotFound,
    DomainError,
    EmailTaken,
    EventNotFound,
    Invalid,
    InvalidGrant,
    KeyRefused,
    LimitReached,
    MailboxNotFound,
    Malformed,
    RateLimited,
    RedirectNotRegistered,
    SnapshotNotFound,
    StoreUnavailable,
    Unauthorized,
    UnknownApp,
    UnknownClient,
    UnreadableQuery,
    UnsupportedGrant,
    WebhookNotFound,
)
from openscout.http.responses import MEDIA_TYPE, JsonResponse

log = logging.getLogger("openscout.http")

#: The status of each domain error; an error not listed takes the status of its nearest
#: listed base class (`FixtureEmailTaken` is an `EmailTaken`).
STATUSES: Final[Mapping[type[DomainError], int]] = {
    Invalid: 400,
    Malformed: 400,
    UnreadableQuery: 400,
    InvalidGrant: 400,
    UnsupportedGrant: 400,
    UnknownApp: 400,
    RedirectNotRegistered: 400,
    KeyRefused: 400,
    Unauthorized: 401,
    UnknownClient: 401,
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


class UnsupportedMediaType(HttpError):
    """A body sent as a media type the endpoint does not read (`Content-Type`)."""


#: The status of each error of the exchange.
HTTP_STATUSES: Final[Mapping[type[HttpError], int]] = {
    BodyTimeout: 408,
    UnsupportedMediaType: 415,
}

#: The access log's status for a request whose client hung up before it was answered.
CLIENT_CLOSED_REQUEST: Final = 499

#: Seconds a client is told to wait (`Retry-After`) after an outage of the database.
OUTAGE_RETRY_AFTER: Final = 5


@dataclass(frozen=True, slots=True)
class ErrorShape:
    """How one API version writes its errors: the body of a domain error, the body of any
    other error (a status and a message), the message of an unknown path, how it asks for
    credentials on a 401 and for patience on a 429, and its media type. `log_ref` is the
    request's id, which v2 shows (`logRef`) and v1 does not."""

    body: Callable[[DomainError, int, str], dict[str, Any]]
    message: Callable[[int, str, str], dict[str, Any]]
    server_error: str
    route_not_found: Callable[[str], str]
    challenge: Mapping[str, str]
    retry: Callable[[int], dict[str, str]]
    media_type: str
    #: The message of each error of the exchange.
    exchange: Mapping[type[HttpError], str]


V1: Final = ErrorShape(
    body=lambda error, status, _log_ref: wire.error_document(error, status),
    message=lambda status, message, _log_ref: wire.error_body(status, message),
    server_error=wire.SERVER_ERROR,
    route_not_found=wire.route_not_found,
    challenge={"WWW-Authenticate": wire.WWW_AUTHENTICATE},
    retry=lambda seconds: {"Retry-After": str(seconds)},
    media_type=MEDIA_TYPE,
    exchange={
        BodyTimeout: wire.BODY_TIMEOUT,
        UnsupportedMediaType: wire.UNSUPPORTED_MEDIA_TYPE,
    },
)

V2: Final = ErrorShape(
    body=lambda error, _status, log_ref: v2_wire.error_document(error, log_ref),
    message=lambda _status, message, log_ref: v2_wire.error_body(log_ref, message),
    server_error=v2_wire.SERVER_ERROR,
    route_not_found=lambda _path: v2_wire.NOT_FOUND,
    challenge={"WWW-Authenticate": v2_wire.WWW_AUTHENTICATE},
    retry=v2_wire.retry_headers,
    media_type=v2_wire.VND_ERROR,
    exchange={
        BodyTimeout: v2_wire.BODY_TIMEOUT,
        UnsupportedMediaType: v2_wire.UNSUPPORTED_MEDIA_TYPE,
    },
)


#: The token and approval endpoints: RFC 6749 §5.2's `{"error", "error_description"}`.
OAUTH: Final = ErrorShape(
    body=lambda error, status, _log_ref: oauth.error_body(error, status),
    message=lambda status, message, _log_ref: oauth.message_body(status, message),
    server_error=wire.SERVER_ERROR,
    route_not_found=wire.route_not_found,
    challenge={"WWW-Authenticate": "Basic"},
    retry=V1.retry,
    media_type=MEDIA_TYPE,
    exchange=V1.exchange,
)

#: The transition service: `{"status", "message"}` (v2 spec §1).
TRANSITION: Final = ErrorShape(
    body=lambda error, status, _log_ref: oauth.transition_error(error, status),
    message=lambda status, message, _log_ref: oauth.transition_message(status, message),
    server_error=wire.SERVER_ERROR,
    route_not_found=wire.route_not_found,
    challenge={},
    retry=V1.retry,
    media_type=MEDIA_TYPE,
    exchange=V1.exchange,
)


def shape_of(scope: Scope) -> ErrorShape:
    """The error shape of a request's API version, by its path: OAuth's own for its endpoints
    and the transition service, v2's vnd.error for the rest of `/v2/` and `/v3/`, v1's
    otherwise."""
    path = scope.get("path", "")
    if path == oauth.TRANSITION_PATH:
        return TRANSITION
    if oauth.is_oauth_path(path):
        return OAUTH
    if v2_wire.is_v2_path(path):
        return V2
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
    log_ref = _log_ref(scope)
    if status == 500:
        log.error("unexpected error", exc_info=error)
        return _answer(shape, shape.message(500, shape.server_error, log_ref), 500)
    if isinstance(error, StoreUnavailable):
        log.warning("database unavailable: %s", error)
    headers: dict[str, str] = {}
    match error:
        case Unauthorized() | UnknownClient():
            headers.update(shape.challenge)
        case BodyTooLarge() | BodyTimeout():  # the rest of what was sent is not read
            headers["Connection"] = "close"
        case RateLimited(retry_after=seconds):
            headers.update(shape.retry(seconds))
        case StoreUnavailable():
            headers["Retry-After"] = str(OUTAGE_RETRY_AFTER)
    if isinstance(error, HttpError):
        message = shape.exchange[type(error)]
        return _answer(shape, shape.message(status, message, log_ref), status, headers)
    assert isinstance(error, DomainError)
    return _answer(shape, shape.body(error, status, log_ref), status, headers)


def status_response(
    status: int, message: str, scope: Scope, retry_after: int | None = None
) -> Response:
    """An answer of `status` with `message` in the request's API version's shape, asking the
    client to wait `retry_after` seconds as that version asks (the control API's faults)."""
    shape = shape_of(scope)
    headers = shape.retry(retry_after) if retry_after is not None else None
    return _answer(shape, shape.message(status, message, _log_ref(scope)), status, headers)


def _answer(
    shape: ErrorShape, body: dict[str, Any], status: int, headers: Mapping[str, str] | None = None
) -> Response:
    return JsonResponse(body, status, headers, media_type=shape.media_type)


def _log_ref(scope: Scope) -> str:
    """The request's id (the access log's, sent as `Correlation-Id`): v2 shows it as `logRef`,
    one per request, so one per error answered. A request the access log has not seen (an app
    served without it) gets an id of its own."""
    # Imported here, as in _hung_up.
    from openscout.http.accesslog import request_info

    info = request_info(scope)
    return info.request_id if info else uuid.uuid4().hex


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
    """Routing's own refusals. Unknown paths and unsupported methods alike are a 404 (v1 naming
    the path, spec §9.7; v2 the same, docs/decisions/v2-status-codes.md)."""
    assert isinstance(error, HTTPException)
    shape = shape_of(request.scope)
    log_ref = _log_ref(request.scope)
    if error.status_code in (404, 405):
        message = shape.route_not_found(request.url.path)
        return _answer(shape, shape.message(404, message, log_ref), 404)
    body = shape.message(error.status_code, str(error.detail), log_ref)
    return _answer(shape, body, error.status_code)


#: The app's exception handlers (Starlette's `exception_handlers`): the one table.
HANDLERS: Final[Mapping[Any, Callable[[Request, Exception], Response]]] = {
    DomainError: _error,
    HttpError: _error,
    ClientDisconnect: _error,
    HTTPException: _http_exception,
    Exception: _error,
}
