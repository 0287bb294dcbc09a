"""The one place where exceptions become v1 error responses (spec §6, §7)."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from openscout.contract.v1 import wire
from openscout.domain.errors import (
    CustomerNotFound,
    DomainError,
    EmailTaken,
    Invalid,
    MailboxNotFound,
    Malformed,
    StoreUnavailable,
    Unauthorized,
    UnreadableQuery,
)
from openscout.http.responses import JsonResponse

log = logging.getLogger("openscout.http")


class BodyTooLarge(DomainError):
    """The request body is over the 100 kB limit (spec §2)."""


def error_response(error: DomainError) -> Response:
    """The v1 answer to a domain error."""
    match error:
        case Invalid(problems=problems):
            return JsonResponse(wire.validation_body(problems), 400)
        case Malformed():
            return _error(400, wire.MALFORMED)
        case Unauthorized():
            return _error(401, wire.UNAUTHORIZED, {"WWW-Authenticate": wire.WWW_AUTHENTICATE})
        case CustomerNotFound() | MailboxNotFound():
            return _error(404, wire.NOT_FOUND)
        case UnreadableQuery(position=position, detail=detail):
            return _error(400, wire.unreadable_query(position, detail))
        case EmailTaken():
            return _error(409, wire.EMAIL_TAKEN)
        case BodyTooLarge():
            return _error(413, wire.TOO_LARGE, {"Connection": "close"})
        case StoreUnavailable():
            log.warning("database unavailable: %s", error)
            return _error(503, wire.UNAVAILABLE, {"Retry-After": "5"})
    return server_error(error)


def route_not_found(request: Request, _exc: Exception) -> Response:
    """Unknown paths and unsupported methods alike: 404 naming the path (spec §9.7)."""
    return _error(404, wire.route_not_found(request.url.path))


def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code in (404, 405):
        return route_not_found(request, exc)
    return _error(exc.status_code, str(exc.detail))


def server_error(error: Exception) -> Response:
    """Anything unexpected: logged with its trace, answered in v1's shape without details."""
    log.error("unexpected error", exc_info=error)
    return _error(500, wire.SERVER_ERROR)


def _error(code: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return JsonResponse(wire.error_body(code, message), code, headers)
