"""Who is calling: the request's credentials, turned into a principal once, for every layer
after (the access log, the control API, the rate limits, the endpoints).

v1 sends an API key as the user name of HTTP Basic auth (v1 spec §3); the password is ignored.
v2 sends an OAuth access token as `Authorization: Bearer <token>` (v2 spec §1). A credential is
known by its kind and its digest, never by what was sent: the digest is what the store keeps,
and the only thing any later layer sees. Which kinds a path takes is decided in one place
(`create_app`'s `accepts`): a credential of another kind is not looked up, so the request has
no principal and its endpoint answers 401. The store is asked on every request (one indexed
read), so a revoked key, token or app is refused on the very next request, in every process.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from openscout import apps, keys, service
from openscout.domain.errors import Unauthorized
from openscout.http.errors import error_response
from openscout.store.base import Store

#: v1's API keys (v1 spec §3).
API_KEY: Final = "api_key"
#: v2's OAuth access tokens (v2 spec §1).
ACCESS_TOKEN: Final = "access_token"

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
#: live (unknown, revoked or expired) at the server's time.
_LOOKUPS: Final[dict[str, Callable[[Store, str, datetime], int | None]]] = {
    API_KEY: lambda store, digest, _now: service.account_for_key(store, digest),
    ACCESS_TOKEN: apps.account_for_token,
}


def credential_of(scope: Scope) -> Credential | None:
    """The credential of a request's `Authorization` header, or None when it carries none that
    can be read (no header, another scheme, bytes that are not base64 or not UTF-8, a token
    that is not ASCII)."""
    header = next((value for name, value in scope["headers"] if name == b"authorization"), None)
    if not header:
        return None
    scheme, _, encoded = header.partition(b" ")
    match scheme.lower():
        case b"basic":
            try:
                decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
            except (binascii.Error, ValueError):  # ValueError: UnicodeDecodeError is one
                return None
            user, _, _password = decoded.partition(":")
            return Credential(API_KEY, keys.hash_key(user)) if user else None
        case b"bearer":
            try:
                token = encoded.strip().decode("ascii")
            except UnicodeDecodeError:
                return None
            return Credential(ACCESS_TOKEN, keys.hash_key(token)) if token else None
    return None


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
    """ASGI middleware: the principal of each request whose path `accepts` some kind of
    credential, in its scope, when the request presents one of those kinds (other paths, such
    as `/healthz`, never cost a lookup). `clock` is the server's: tokens expire by it."""

    def __init__(
        self,
        app: ASGIApp,
        store: Store,
        accepts: Callable[[str], frozenset[str]],
        clock: Callable[[], datetime],
    ) -> None:
        self.app = app
        self.store = store
        self.accepts = accepts
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        kinds = self.accepts(scope["path"])
        if not kinds:
            await self.app(scope, receive, send)
            return
        credential = credential_of(scope)
        scope[_CREDENTIAL] = credential
        scope[_PRINCIPAL] = None
        if credential is not None and credential.kind in kinds:
            try:
                account = await self.store.run(
                    _LOOKUPS[credential.kind], self.store, credential.digest, self.clock()
                )
            except Exception as error:  # answered before the app: through the same table
                await error_response(error, scope)(scope, receive, send)
                return
            if account is not None:
                scope[_PRINCIPAL] = Principal(account, credential)
        await self.app(scope, receive, send)
