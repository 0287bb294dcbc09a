"""OAuth 2.0 apps and their tokens (v2 spec §1; RFC 6749), one transaction each: create, list
and revoke apps; issue tokens by client credentials, by authorization code (the approval
page, or the owner at the command line), by refresh token and by the transition service; and
find the account of an access token (http/auth.py, on every v2 request).

Client secrets, tokens and codes are random, shown once and stored as SHA-256 hex, as API keys
are (keys.py). The client id is public and kept in clear. docs/decisions/v2-oauth.md has the
rules and their reasons.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, NamedTuple
from urllib.parse import urlsplit

from openscout import keys
from openscout.domain.errors import (
    Invalid,
    InvalidGrant,
    KeyRefused,
    Problem,
    Reason,
    RedirectNotRegistered,
    UnknownApp,
    UnknownClient,
)
from openscout.store.base import ACCESS, REFRESH, App, Apps, NewToken, Store

#: Seconds an access token lives unless the server is told otherwise (`--token-lifetime`):
#: Help Scout's `expires_in` for client credentials, 48 hours (spec §1).
DEFAULT_TOKEN_LIFETIME: Final = 172_800
#: Seconds the transition service's access tokens live (spec §1: `expiresIn` 7200).
TRANSITION_LIFETIME: Final = 7_200
#: How long an authorization code may wait for its exchange (RFC 6749 §4.1.2: at most ten
#: minutes is recommended).
CODE_LIFETIME: Final = timedelta(minutes=10)
#: The longest app and account name, in characters.
MAX_NAME_LENGTH: Final = 200
#: The longest redirect URI kept, in characters.
MAX_REDIRECT_URI_LENGTH: Final = 2_000

_CLIENT_ID = re.compile(r"[0-9a-f]{32}")


class NewApp(NamedTuple):
    """A new app's credentials, `client_id, client_secret = create_app(...)`: the secret is
    shown only this once."""

    client_id: str
    client_secret: str


@dataclass(frozen=True, slots=True)
class Issued:
    """Tokens issued by a grant: the access token, its seconds to live, and the refresh token
    (None for client credentials, as Help Scout: RFC 6749 §4.4.3)."""

    access_token: str
    expires_in: int
    refresh_token: str | None = None


@dataclass(frozen=True, slots=True)
class Consent:
    """What the approval page shows and where it sends the answer: the app, its account, and
    the redirect URI the code goes to."""

    app_name: str
    account: str
    redirect_uri: str


def new_secret() -> str:
    """A client id, secret, token or code: 32 hex digits (128 random bits), the form of Help
    Scout's app ids and access tokens."""
    return secrets.token_hex(16)


# -- the owner's: apps


def create_app(
    store: Store, account: str, name: str, redirect_uri: str | None, now: datetime
) -> NewApp:
    """A new app of `account` (created when new). `Invalid` for a blank or overlong account
    or app name, or a redirect URI that is not an absolute http(s) URL without a fragment."""
    problems = [
        Problem((field,), value, reason)
        for field, value in (("account", account), ("name", name))
        for reason in _name_problems(value)
    ]
    if redirect_uri is not None and not is_redirect_uri(redirect_uri):
        problems.append(Problem(("redirect_uri",), redirect_uri, Reason.INVALID))
    if problems:
        raise Invalid(problems)
    client_id, secret = new_secret(), new_secret()
    with store.writing() as transaction:
        account_id = transaction.ensure_account(account, now)
        transaction.create_app(
            account_id, name, client_id, keys.hash_key(secret), redirect_uri, now
        )
    return NewApp(client_id, secret)


def _name_problems(value: str) -> list[Reason]:
    if not value.strip():
        return [Reason.REQUIRED]
    if len(value) > MAX_NAME_LENGTH:
        return [Reason.TOO_LONG]
    if "\x00" in value:  # PostgreSQL keeps no NUL in text
        return [Reason.INVALID]
    return []


def is_redirect_uri(uri: str) -> bool:
    """Whether `uri` may be an app's redirect URI: an absolute http or https URL with a host,
    no fragment (RFC 6749 §3.1.2), no spaces or control characters."""
    if len(uri) > MAX_REDIRECT_URI_LENGTH or any(c.isspace() or ord(c) < 32 for c in uri):
        return False
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and "#" not in uri


def list_apps(store: Store) -> list[App]:
    """Every app, live and revoked, oldest first (never the secrets)."""
    with store.reading() as transaction:
        return transaction.list_apps()


def revoke_app(store: Store, client_id: str, now: datetime) -> bool:
    """Revoke an app: its tokens stop working on the next request, and it gets no new ones.
    False when no live app has this client id."""
    if not _CLIENT_ID.fullmatch(client_id):
        return False
    with store.writing() as transaction:
        return transaction.revoke_app(client_id, now)


# -- grants (the token endpoint)


def grant_client_credentials(
    store: Store,
    client_id: str,
    client_secret: str,
    now: datetime,
    *,
    lifetime: int = DEFAULT_TOKEN_LIFETIME,
) -> Issued:
    """An access token for the app's own account; no refresh token (RFC 6749 §4.4.3)."""
    with store.writing() as transaction:
        app = _authenticated(transaction, client_id, client_secret)
        token = new_secret()
        transaction.forget_expired(app.id, now)
        transaction.add_token(
            NewToken(ACCESS, keys.hash_key(token), app.id, app.account_id, _after(now, lifetime)),
            now,
        )
    return Issued(token, lifetime)


def exchange_code(
    store: Store,
    client_id: str,
    client_secret: str,
    code: str,
    redirect_uri: str | None,
    now: datetime,
    *,
    lifetime: int = DEFAULT_TOKEN_LIFETIME,
) -> Issued:
    """An access and a refresh token for an authorization code: the code must be the app's,
    unused and under ten minutes old; the redirect URI must be the one the authorization
    request named, or, when it named none, absent or the app's registered one (RFC 6749
    §4.1.3). A code gives tokens once."""
    with store.writing() as transaction:
        app = _authenticated(transaction, client_id, client_secret)
        found = transaction.find_code(keys.hash_key(code))
        if found is None or found.app_id != app.id:
            raise InvalidGrant("The authorization code is unknown")
        if found.used_at is not None:
            raise InvalidGrant("The authorization code was used already")
        if found.expires_at <= now:
            raise InvalidGrant("The authorization code has expired")
        expected = found.redirect_uri
        if expected is None:
            matches = redirect_uri is None or redirect_uri == app.redirect_uri
        else:
            matches = redirect_uri == expected
        if not matches:
            raise InvalidGrant("redirect_uri is not the one the authorization request named")
        if not transaction.use_code(found.id, now):
            raise InvalidGrant("The authorization code was used already")
        return _new_pair(transaction, app, found.account_id, now, lifetime)[0]


def refresh(
    store: Store,
    client_id: str,
    client_secret: str,
    refresh_token: str,
    now: datetime,
    *,
    lifetime: int = DEFAULT_TOKEN_LIFETIME,
) -> Issued:
    """A new access token and a new refresh token; the refresh token used stops working
    (rotation: spec §8a.2). Access tokens issued before stay live until they expire."""
    with store.writing() as transaction:
        app = _authenticated(transaction, client_id, client_secret)
        found = transaction.find_token(keys.hash_key(refresh_token))
        if found is None or found.kind != REFRESH or found.app_id != app.id:
            raise InvalidGrant("The refresh token is unknown")
        if found.revoked_at is not None:
            raise InvalidGrant("The refresh token was used already")
        issued, refresh_id = _new_pair(transaction, app, found.account_id, now, lifetime)
        # Retired only if no other request did it first: of two refreshes at once, one wins.
        if not transaction.retire_token(found.id, now, replaced_by=refresh_id):
            raise InvalidGrant("The refresh token was used already")
        return issued


# -- the authorization-code grant's first half: the approval page


def consent(store: Store, client_id: str, redirect_uri: str | None) -> Consent:
    """What the approval page of an authorization request shows: `UnknownApp` for no live
    app, `RedirectNotRegistered` for a redirect URI that is not the app's (or none at all):
    those are never redirected to (RFC 6749 §4.1.2.1)."""
    with store.reading() as transaction:
        app = _live_app(transaction, client_id)
    return Consent(app.name, app.account, _redirect_of(app, redirect_uri))


def authorize(
    store: Store, client_id: str, redirect_uri: str | None, api_key: str, now: datetime
) -> str:
    """An authorization code for the app, approved with a live v1 key of the app's account
    (`KeyRefused` otherwise). The code is good for ten minutes, once."""
    with store.writing() as transaction:
        app = _live_app(transaction, client_id)
        _redirect_of(app, redirect_uri)
        key = transaction.live_key(keys.hash_key(api_key))
        if key is None or key.account_id != app.account_id:
            raise KeyRefused(api_key)
        code = new_secret()
        transaction.forget_expired(app.id, now)
        transaction.add_code(
            keys.hash_key(code), app.id, app.account_id, redirect_uri, now + CODE_LIFETIME, now
        )
    return code


def authorize_as_owner(
    store: Store, client_id: str, now: datetime, *, lifetime: int = DEFAULT_TOKEN_LIFETIME
) -> Issued:
    """The authorization-code grant completed by the owner at the command line, without a
    browser: the tokens the exchange of an approved code gives, for the app's account."""
    with store.writing() as transaction:
        app = _live_app(transaction, client_id)
        return _new_pair(transaction, app, app.account_id, now, lifetime)[0]


def _redirect_of(app: App, redirect_uri: str | None) -> str:
    registered = app.redirect_uri
    if registered is None or (redirect_uri is not None and redirect_uri != registered):
        raise RedirectNotRegistered(redirect_uri)
    return registered


# -- the transition service


def transition(store: Store, api_key: str, client_id: str, now: datetime) -> Issued:
    """Tokens for a live v1 key of any account, through the app `client_id` (spec §1: the
    service moved integrations' users from their v1 keys to v2 tokens). The same key gets
    the same tokens while the access token and its refresh token live: they are made from the
    key and a salt kept with them, never stored themselves. `KeyRefused` for a key that is
    not live, `UnknownApp` for no live app."""
    with store.writing() as transaction:
        key = transaction.live_key(keys.hash_key(api_key))
        if key is None:
            raise KeyRefused(api_key)
        app = _live_app(transaction, client_id)
        pair = transaction.transition_pair(app.id, key.id, now)
        if pair is not None:
            access, refresh_token = _derived(api_key, pair.key_salt)
            left = math.ceil((pair.expires_at - now).total_seconds())
            return Issued(access, left, refresh_token)
        salt = new_secret()
        access, refresh_token = _derived(api_key, salt)
        transaction.forget_expired(app.id, now)
        refresh_id = transaction.add_token(
            NewToken(REFRESH, keys.hash_key(refresh_token), app.id, key.account_id, None), now
        )
        transaction.add_token(
            NewToken(
                ACCESS,
                keys.hash_key(access),
                app.id,
                key.account_id,
                _after(now, TRANSITION_LIFETIME),
                refresh_id=refresh_id,
                api_key_id=key.id,
                key_salt=salt,
            ),
            now,
        )
    return Issued(access, TRANSITION_LIFETIME, refresh_token)


def _derived(api_key: str, salt: str) -> tuple[str, str]:
    """The access and refresh token of a transition: HMAC-SHA-256 of the salt under the key.
    Whoever holds the key can make them, as whoever holds it can ask the service for them."""
    secret = api_key.encode("utf-8", "surrogatepass")

    def made(kind: str) -> str:
        return hmac.new(secret, f"{kind}:{salt}".encode(), hashlib.sha256).hexdigest()[:32]

    return made(ACCESS), made(REFRESH)


# -- every v2 request


def account_for_token(store: Store, token_hash: str, now: datetime) -> int | None:
    """The account of a live access token, by its hash (keys.hash_key); None when it is
    unknown, expired or revoked, or its app is revoked."""
    with store.reading() as transaction:
        return transaction.account_for_token(token_hash, now)


# -- shared


def _live_app(transaction: Apps, client_id: str) -> App:
    found = transaction.find_app(client_id) if _CLIENT_ID.fullmatch(client_id) else None
    if found is None or found[0].revoked_at is not None:
        raise UnknownApp(client_id)
    return found[0]


def _authenticated(transaction: Apps, client_id: str, client_secret: str) -> App:
    """The live app with this client id and secret (RFC 6749 §2.3.1); `UnknownClient` for
    anything else, the secret compared in constant time."""
    found = transaction.find_app(client_id) if _CLIENT_ID.fullmatch(client_id) else None
    if found is None:
        raise UnknownClient()
    app, secret_hash = found
    if not hmac.compare_digest(secret_hash, keys.hash_key(client_secret)):
        raise UnknownClient()
    if app.revoked_at is not None:
        raise UnknownClient()
    return app


def _new_pair(
    transaction: Apps, app: App, account_id: int, now: datetime, lifetime: int
) -> tuple[Issued, int]:
    """A new access token with a new refresh token; the refresh token's id."""
    access, refresh_token = new_secret(), new_secret()
    transaction.forget_expired(app.id, now)
    refresh_id = transaction.add_token(
        NewToken(REFRESH, keys.hash_key(refresh_token), app.id, account_id, None), now
    )
    transaction.add_token(
        NewToken(
            ACCESS,
            keys.hash_key(access),
            app.id,
            account_id,
            _after(now, lifetime),
            refresh_id=refresh_id,
        ),
        now,
    )
    return Issued(access, lifetime, refresh_token), refresh_id


def _after(now: datetime, seconds: int) -> datetime:
    return now + timedelta(seconds=seconds)
