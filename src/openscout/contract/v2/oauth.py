"""The OAuth 2.0 wire of the v2 API (spec §1, §8a.1-3; RFC 6749) and of Help Scout's transition
service: paths, parameter names, how a token request is read from a form body, a JSON body or
the query string, the token answer and the error bodies (docs/decisions/v2-oauth.md).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

from openscout.contract.v1.decode import parse_json
from openscout.domain.errors import (
    BodyTooLarge,
    DomainError,
    Invalid,
    InvalidGrant,
    KeyRefused,
    Malformed,
    Problem,
    Reason,
    StoreUnavailable,
    UnknownApp,
    UnknownClient,
    UnsupportedGrant,
)

# --- paths ---------------------------------------------------------------------------------

TOKEN_PATH: Final = "/v2/oauth2/token"
#: Help Scout's approval page is `secure.helpscout.net/authentication/authorizeClientApplication`;
#: openscout serves its own beside the token endpoint.
AUTHORIZE_PATH: Final = "/v2/oauth2/authorize"
#: Help Scout's is the root of `transition.helpscout.net` (spec §1).
TRANSITION_PATH: Final = "/transition"
_OAUTH_PREFIX: Final = "/v2/oauth2/"


def is_oauth_path(path: str) -> bool:
    """Paths of the OAuth endpoints, which read their own credentials (no bearer token)."""
    return path.startswith(_OAUTH_PREFIX) or path == TRANSITION_PATH


# --- the token endpoint (RFC 6749 §4.1.3, §4.4.2, §6) -------------------------------------

CLIENT_CREDENTIALS: Final = "client_credentials"
AUTHORIZATION_CODE: Final = "authorization_code"
REFRESH_TOKEN: Final = "refresh_token"
GRANT_TYPES: Final = (CLIENT_CREDENTIALS, AUTHORIZATION_CODE, REFRESH_TOKEN)
#: The parameters read; any other (`scope`, say) is ignored, whatever its value.
PARAMETERS: Final = (
    "grant_type",
    "client_id",
    "client_secret",
    "code",
    "redirect_uri",
    "refresh_token",
)
#: What each grant needs besides the client's credentials.
_REQUIRED: Final[Mapping[str, str]] = {
    AUTHORIZATION_CODE: "code",
    REFRESH_TOKEN: "refresh_token",
}
#: A form or query string with more parameters than this is refused.
MAX_PARAMETERS: Final = 100
#: The token endpoint's answers are never cached (RFC 6749 §5.1).
NO_STORE: Final[Mapping[str, str]] = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_FORM: Final = "application/x-www-form-urlencoded"


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """A token request as read; `client_id` and `client_secret` are "" when not sent."""

    grant_type: str
    client_id: str
    client_secret: str
    code: str | None = None
    redirect_uri: str | None = None
    refresh_token: str | None = None


def token_request(
    query: bytes, content_type: str | None, body: bytes, authorization: str | None
) -> TokenRequest:
    """The parameters of a token request, wherever they came (spec §8a.1): the query string,
    a form or JSON body (a body without a content type, or `text/plain`, is read as whichever
    it looks like), and the client's credentials in a `Basic` header as RFC 6749 §2.3.1 has
    them. A parameter sent in two places must have one value. `Malformed` for a body that
    cannot be read, `Invalid` for a missing or unreadable parameter, `UnsupportedGrant` for
    another grant type."""
    pairs = [
        *_form(query),
        *body_parameters(content_type, body),
        *basic_client(authorization),
    ]
    values = _single_values(pairs)
    grant_type = values.get("grant_type")
    if grant_type is None:
        raise Invalid([Problem(("grant_type",), None, Reason.REQUIRED)])
    if grant_type not in GRANT_TYPES:
        raise UnsupportedGrant(grant_type)
    required = _REQUIRED.get(grant_type)
    if required is not None and required not in values:
        raise Invalid([Problem((required,), None, Reason.REQUIRED)])
    return TokenRequest(
        grant_type=grant_type,
        client_id=values.get("client_id", ""),
        client_secret=values.get("client_secret", ""),
        code=values.get("code"),
        redirect_uri=values.get("redirect_uri"),
        refresh_token=values.get("refresh_token"),
    )


def body_parameters(content_type: str | None, body: bytes) -> list[tuple[str, Any]]:
    """The (name, value) pairs of a form or JSON object body; none for an empty body."""
    if not body.strip():
        return []
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in ("", "text/plain"):  # a client that named no type, or fetch's default
        media = "application/json" if body.lstrip()[:1] in (b"{", b"[") else _FORM
    if media == "application/json" or media.endswith("+json"):
        document = _json(body)
        if not isinstance(document, dict):
            raise Malformed("The body must be a JSON object")
        return list(document.items())
    if media == _FORM:
        return _form(body)
    raise Malformed(f"A body of type {media[:100]!r} is not read: send a form or JSON")


def _json(body: bytes) -> Any:
    try:
        return parse_json(body)
    except Malformed:
        raise Malformed("The body is not valid JSON") from None


def _form(encoded: bytes) -> list[tuple[str, Any]]:
    try:
        return parse_qsl(
            encoded.decode("utf-8", "replace"),
            keep_blank_values=True,
            max_num_fields=MAX_PARAMETERS,
        )
    except ValueError:  # more fields than max_num_fields
        raise Malformed(f"More than {MAX_PARAMETERS} parameters") from None


def basic_client(authorization: str | None) -> list[tuple[str, Any]]:
    """The client id and secret of a `Basic` header, form-encoded then base64 (RFC 6749
    §2.3.1); none for another scheme or a header that cannot be read."""
    scheme, _, encoded = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return []
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return []
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        return []
    return [("client_id", unquote_plus(client_id)), ("client_secret", unquote_plus(secret))]


def _single_values(pairs: Iterable[tuple[str, Any]]) -> dict[str, str]:
    """One value for each parameter read: blank or null counts as absent; a number is read as
    its digits; anything else that is not a string, or two different values, is a problem."""
    values: dict[str, str] = {}
    problems = []
    for name, value in pairs:
        if name not in PARAMETERS or value is None:
            continue
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            problems.append(Problem((name,), value, Reason.INVALID))
            continue
        if not value:
            continue
        if values.get(name, value) != value:
            problems.append(Problem((name,), value, Reason.DUPLICATE_ENTRY))
        values[name] = value
    if problems:
        raise Invalid(problems)
    return values


def token_body(access_token: str, expires_in: int, refresh_token: str | None) -> dict[str, Any]:
    """RFC 6749 §5.1, as Help Scout answers (spec §1, §8a.2): `expires_in` an integer, and a
    `refresh_token` except for client credentials."""
    body: dict[str, Any] = {
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": expires_in,
    }
    if refresh_token is not None:
        body["refresh_token"] = refresh_token
    return body


def error_body(error: DomainError, _status: int) -> dict[str, Any]:
    """RFC 6749 §5.2: `error`, one of its codes, and `error_description`."""
    match error:
        case UnknownClient():
            code = "invalid_client"
        case InvalidGrant():
            code = "invalid_grant"
        case UnsupportedGrant():
            code = "unsupported_grant_type"
        case StoreUnavailable():
            code = "temporarily_unavailable"
        case _:
            code = "invalid_request"
    return {"error": code, "error_description": describe(error)}


def message_body(status: int, message: str) -> dict[str, Any]:
    """The body of an error that is no domain error's: a route or method not served, a body
    past its deadline, an unexpected failure."""
    code = "server_error" if status >= 500 else "invalid_request"
    return {"error": code, "error_description": message}


#: How each reason reads after a parameter's name.
_PROBLEMS: Final[Mapping[Reason, str]] = {
    Reason.REQUIRED: "is required",
    Reason.INVALID: "must be a string",
    Reason.DUPLICATE_ENTRY: "is given more than once, with different values",
}


def describe(error: DomainError) -> str:
    """An error in words a client may show (never a library's message)."""
    match error:
        case Invalid(problems=problems):
            return "; ".join(
                f"{'.'.join(p.path)} {_PROBLEMS.get(p.reason, 'is not valid')}" for p in problems
            )
        case BodyTooLarge(limit=limit):
            return f"The body is longer than {limit} bytes"
        case StoreUnavailable():
            return "The service is temporarily unavailable"
    return str(error)


# --- the authorization endpoint (RFC 6749 §4.1.1, §4.1.2) -----------------------------------

RESPONSE_TYPE: Final = "code"
ACCESS_DENIED: Final = "access_denied"
UNSUPPORTED_RESPONSE_TYPE: Final = "unsupported_response_type"


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """What the approval page is asked: blank parameters are None."""

    client_id: str
    redirect_uri: str | None
    state: str | None
    response_type: str | None


def authorization_request(pairs: Iterable[tuple[str, str]]) -> AuthorizationRequest:
    """The parameters of an authorization request (the page's query string, or its form):
    the first value of each."""
    values: dict[str, str] = {}
    for name, value in pairs:
        if value:
            values.setdefault(name, value)
    return AuthorizationRequest(
        client_id=values.get("client_id", ""),
        redirect_uri=values.get("redirect_uri"),
        state=values.get("state"),
        response_type=values.get("response_type"),
    )


def form_pairs(encoded: bytes) -> list[tuple[str, str]]:
    """A query string's or form's (name, value) pairs; `Malformed` past MAX_PARAMETERS."""
    return _form(encoded)


def redirect_location(redirect_uri: str, state: str | None, **answer: str) -> str:
    """The redirect URI with the answer (`code`, or `error`) and the request's `state` added
    to its query (RFC 6749 §4.1.2), whatever query it has already."""
    parts = urlsplit(redirect_uri)
    added = dict(answer)
    if state is not None:
        added["state"] = state
    query = "&".join(part for part in (parts.query, urlencode(added)) if part)
    return urlunsplit(parts._replace(query=query))


# --- the transition service (spec §1) -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TransitionRequest:
    api_key: str
    client_id: str


def transition_request(body: bytes) -> TransitionRequest:
    """`{"apiKey", "clientId"}`, both strings; `Malformed` for a body that is no JSON object,
    `Invalid` for a missing or unreadable field."""
    document = _json(body) if body.strip() else {}
    if not isinstance(document, dict):
        raise Malformed("The body must be a JSON object")
    problems = []
    for name in ("apiKey", "clientId"):
        value = document.get(name)
        if value is None or value == "":
            problems.append(Problem((name,), value, Reason.REQUIRED))
        elif not isinstance(value, str):
            problems.append(Problem((name,), value, Reason.INVALID))
    if problems:
        raise Invalid(problems)
    return TransitionRequest(document["apiKey"], document["clientId"])


def transition_body(access_token: str, expires_in: int, refresh_token: str) -> dict[str, Any]:
    return {"accessToken": access_token, "expiresIn": expires_in, "refreshToken": refresh_token}


#: How much of a refused key or client id the transition service's message repeats.
_ECHOED: Final = 100


def transition_error(error: DomainError, status: int) -> dict[str, Any]:
    """`{"status", "message"}`, saying which input is not valid (spec §1)."""
    match error:
        case KeyRefused(key=key):
            message = f"{key[:_ECHOED]} is not a valid API Key"
        case UnknownApp(client_id=client_id):
            message = f"{client_id[:_ECHOED]} is not a valid OAuth Application ID"
        case _:
            message = describe(error)
    return transition_message(status, message)


def transition_message(status: int, message: str) -> dict[str, Any]:
    return {"status": status, "message": message}
