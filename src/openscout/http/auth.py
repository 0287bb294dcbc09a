"""Who is calling: the request's credentials, turned into a principal once, for every layer
after (the access log, the control API, the rate limits, the endpoints).

v1 sends an API key as the user name of HTTP Basic auth (spec §3); the password is ignored.
A credential is known by its kind and its digest, never by what was sent: the digest is what
the store keeps, and the only thing any later layer sees. The store is asked on every request
(one indexed read), so a revoked key is refused on the very next request, in every process.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from openscout import keys, service
from openscout.domain.errors import Unauthorized
from openscout.http.errors import error_response
from openscout.store.base import Store

#: v1's API keys (spec §3). v2's bearer tokens will be one more kind.
API_KEY: Final = "api_key"

_PRINCIPAL: Final = "openscout.principal"
_CREDENTIAL: Final = "openscout.credential"


@dataclass(frozen=True, slots=True)
class Credential:
    """What a request presented: its kind and its digest (the key itself is never kept)."""

    kind: str
    digest: str


@dataclass(frozen=True, slots=True)
class Principal:
    """The account a request acts for, and the live credential that says so."""

    account_id: int
    credential: Credential


#: How each kind of credential is looked up: its digest → the account, or None when it is not
#: live (unknown or revoked).
_LOOKUPS: Final[dict[str, Callable[[Store, str], int | None]]] = {
    API_KEY: service.account_for_key,
}


def credential_of(scope: Scope) -> Credential | None:
    """The credential of a request's `Authorization` header, or None when it carries none that
    can be read (no header, another scheme, bytes that are not base64 or not UTF-8)."""
    header = next((value for name, value in scope["headers"] if name == b"authorization"), None)
    if not header:
        return None
    scheme, _, encoded = header.partition(b" ")
    if scheme.lower() != b"basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):  # ValueError: UnicodeDecodeError is one
        return None
    user, _, _password = decoded.partition(":")
    if not user:
        return None
    return Credential(API_KEY, keys.hash_key(user))


def principal(scope: Scope) -> Principal | None:
    """The principal `Authenticate` found for the request (None: no live credential)."""
    found: Principal | None = scope.get(_PRINCIPAL)
    return found


def presented(scope: Scope) -> Credential | None:
    """The credential the request presented, live or not (None: none that can be read)."""
    found: Credential | None = scope.get(_CREDENTIAL)
    return found


def account_of(request: Request) -> int:
    """The account the request acts for; `Unauthorized` without a live credential."""
    found = principal(request.scope)
    if found is None:
        raise Unauthorized()
    return found.account_id


class Authenticate:
    """ASGI middleware: the principal of each request whose path `is_guarded`, in its scope
    (other paths, such as `/healthz`, never cost a lookup)."""

    def __init__(self, app: ASGIApp, store: Store, is_guarded: Callable[[str], bool]) -> None:
        self.app = app
        self.store = store
        self.is_guarded = is_guarded

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.is_guarded(scope["path"]):
            await self.app(scope, receive, send)
            return
        credential = credential_of(scope)
        scope[_CREDENTIAL] = credential
        scope[_PRINCIPAL] = None
        if credential is not None:
            try:
                account = await self.store.run(
                    _LOOKUPS[credential.kind], self.store, credential.digest
                )
            except Exception as error:  # answered before the app: through the same table
                await error_response(error, scope)(scope, receive, send)
                return
            if account is not None:
                scope[_PRINCIPAL] = Principal(account, credential)
        await self.app(scope, receive, send)
