"""OAuth apps, tokens and codes in the store, through the use cases of apps.py, on each backend:
what is kept (hashes only), when a token is live, rotation, codes, the transition service's
tokens made again from the key, and what is forgotten."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from openscout import apps, keys
from openscout.domain.errors import (
    Invalid,
    InvalidGrant,
    KeyRefused,
    RedirectNotRegistered,
    UnknownApp,
    UnknownClient,
)
from openscout.store.base import REFRESH
from openscout.store.engine import SqlStore
from openscout.store.tables import oauth_apps, oauth_codes, oauth_tokens
from tests.conftest import new_account

NOW = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
CALLBACK = "https://client.example/callback"


def later(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def account_of(store: SqlStore, token: str, at: datetime = NOW) -> int | None:
    return apps.account_for_token(store, keys.hash_key(token), at)


def key_account(store: SqlStore, key: str) -> int:
    with store.reading() as transaction:
        found = transaction.account_for_key(keys.hash_key(key))
    assert found is not None
    return found


@pytest.fixture
def app(module_store: SqlStore) -> tuple[str, apps.NewApp]:
    account = new_account(module_store)
    made = apps.create_app(module_store, account.name, "test", CALLBACK, NOW)
    return account.key, made


def test_secrets_tokens_and_codes_are_kept_only_as_hashes(
    module_store: SqlStore, app: tuple[str, apps.NewApp]
) -> None:
    key, made = app
    token = apps.grant_client_credentials(module_store, made.client_id, made.client_secret, NOW)
    code = apps.authorize(module_store, made.client_id, None, key, NOW)
    pair = apps.exchange_code(module_store, made.client_id, made.client_secret, code, None, NOW)
    with module_store.reading() as transaction:
        rows = [
            *transaction.connection.execute(select(oauth_apps)),
            *transaction.connection.execute(select(oauth_tokens)),
            *transaction.connection.execute(select(oauth_codes)),
        ]
    stored = "\n".join(str(tuple(row)) for row in rows)
    assert made.client_id in stored  # public: kept in clear
    assert keys.hash_key(made.client_secret) in stored
    assert pair.refresh_token is not None
    for secret in (made.client_secret, token.access_token, code, pair.access_token):
        assert secret not in stored
    assert pair.refresh_token not in stored


def test_an_access_token_is_live_until_it_expires(
    module_store: SqlStore, app: tuple[str, apps.NewApp]
) -> None:
    key, made = app
    issued = apps.grant_client_credentials(
        module_store, made.client_id, made.client_secret, NOW, lifetime=100
    )
    assert issued == apps.Issued(issued.access_token, 100, None)
    assert account_of(module_store, issued.access_token, later(99)) == key_account(
        module_store, key
    )
    assert account_of(module_store, issued.access_token, later(100)) is None
    assert account_of(module_store, "0" * 32) is None
    assert account_of(module_store, made.client_secret) is None


def test_revoking_the_app_kills_its_tokens_and_its_credentials(
    module_store: SqlStore, app: tuple[str, apps.NewApp]
) -> None:
    key, made = app
    token = apps.grant_client_credentials(module_store, made.client_id, made.client_secret, NOW)
    code = apps.authorize(module_store, made.client_id, None, key, NOW)
    assert apps.revoke_app(module_store, made.client_id, NOW)
    assert not apps.revoke_app(module_store, made.client_id, NOW)
    assert account_of(module_store, token.access_token) is None
    with pytest.raises(UnknownClient):
        apps.grant_client_credentials(module_store, made.client_id, made.client_secret, NOW)
    with pytest.raises(UnknownClient):
        apps.exchange_code(module_store, made.client_id, made.client_secret, code, None, NOW)
    with pytest.raises(UnknownApp):
        apps.authorize(module_store, made.client_id, None, key, NOW)
    listed = {a.client_id: a for a in apps.list_apps(module_store)}
    assert listed[made.client_id].revoked_at == NOW


@pytest.mark.parametrize("client_id", ["", "nope", "0" * 32, "A" * 32, "ab\x00" * 11])
def test_an_unknown_client_id_is_unknown_everywhere(module_store: SqlStore, client_id: str) -> None:
    with pytest.raises(UnknownClient):
        apps.grant_client_credentials(module_store, client_id, "x", NOW)
    with pytest.raises(UnknownApp):
        apps.consent(module_store, client_id, None)
    assert not apps.revoke_app(module_store, client_id, NOW)


def test_a_refresh_token_is_replaced_once(
    module_store: SqlStore, app: tuple[str, apps.NewApp]
) -> None:
    key, made = app
    first = apps.authorize_as_owner(module_store, made.client_id, NOW)
    assert first.refresh_token is not None
    second = apps.refresh(
        module_store, made.client_id, made.client_secret, first.refresh_token, later(1)
    )
    with pytest.raises(InvalidGrant, match="used already"):
        apps.refresh(module_store, made.client_id, made.client_secret, first.refresh_token, NOW)
    with module_store.writing() as transaction:
        old = transaction.find_token(keys.hash_key(first.refresh_token))
        new = transaction.find_token(keys.hash_key(second.refresh_token or ""))
        assert old is not None and new is not None and old.kind == new.kind == REFRESH
        assert old.revoked_at == later(1) and new.revoked_at is None
        # Of two requests that found it live, only the first retires it.
        assert transaction.retire_token(new.id, NOW, replaced_by=None)
        assert not transaction.retire_token(new.id, NOW, replaced_by=None)
    assert account_of(module_store, second.access_token) == key_account(module_store, key)


def test_a_code_carries_the_redirect_uri_its_request_named(
    module_store: SqlStore, app: tuple[str, apps.NewApp]
) -> None:
    key, made = app
    assert apps.consent(module_store, made.client_id, None).redirect_uri == CALLBACK
    with pytest.raises(RedirectNotRegistered):
        apps.consent(module_store, made.client_id, CALLBACK + "/x")
    with pytest.raises(RedirectNotRegistered):
        apps.authorize(module_store, made.client_id, CALLBACK + "/x", key, NOW)
    code = apps.authorize(module_store, made.client_id, CALLBACK, key, NOW)
    with pytest.raises(InvalidGrant, match="redirect_uri"):
        apps.exchange_code(module_store, made.client_id, made.client_secret, code, None, NOW)
    issued = apps.exchange_code(
        module_store, made.client_id, made.client_secret, code, CALLBACK, later(599)
    )
    assert issued.refresh_token is not None
    late = apps.authorize(module_store, made.client_id, None, key, NOW)
    with pytest.raises(InvalidGrant, match="expired"):
        apps.exchange_code(module_store, made.client_id, made.client_secret, late, None, later(600))


def test_only_a_live_key_of_the_apps_account_approves_it(
    module_store: SqlStore, app: tuple[str, apps.NewApp]
) -> None:
    _key, made = app
    stranger = new_account(module_store)
    for key in (stranger.key, "nope", ""):
        with pytest.raises(KeyRefused):
            apps.authorize(module_store, made.client_id, None, key, NOW)


def test_the_transition_service_makes_the_same_tokens_again_from_the_key(
    module_store: SqlStore, app: tuple[str, apps.NewApp]
) -> None:
    key, made = app
    first = apps.transition(module_store, key, made.client_id, NOW)
    assert first.expires_in == apps.TRANSITION_LIFETIME
    assert apps.transition(module_store, key, made.client_id, later(0.5)) == first
    assert apps.transition(module_store, key, made.client_id, later(7199)).expires_in == 1
    other = new_account(module_store)
    theirs = apps.transition(module_store, other.key, made.client_id, NOW)
    assert theirs.access_token != first.access_token
    assert account_of(module_store, theirs.access_token) == key_account(module_store, other.key)
    renewed = apps.transition(module_store, key, made.client_id, later(7200))
    assert renewed.access_token != first.access_token
    with pytest.raises(KeyRefused):
        apps.transition(module_store, "0" * 40, made.client_id, NOW)
    with pytest.raises(UnknownApp):
        apps.transition(module_store, key, "0" * 32, NOW)


def test_what_can_never_be_used_again_is_forgotten_as_the_app_gets_more(
    module_store: SqlStore, app: tuple[str, apps.NewApp]
) -> None:
    key, made = app
    client, secret = made.client_id, made.client_secret
    expiring = apps.grant_client_credentials(module_store, client, secret, NOW, lifetime=10)
    lasting = apps.grant_client_credentials(module_store, client, secret, NOW, lifetime=10_000)
    apps.authorize(module_store, client, None, key, NOW)
    pair = apps.authorize_as_owner(module_store, client, NOW)
    assert pair.refresh_token is not None
    apps.refresh(module_store, client, secret, pair.refresh_token, NOW)

    def counts() -> tuple[int, int]:
        with module_store.reading() as transaction:
            app_id = transaction.connection.execute(
                select(oauth_apps.c.id).where(oauth_apps.c.client_id == client)
            ).scalar_one()
            tokens, codes = (
                transaction.connection.execute(
                    select(func.count()).select_from(table).where(table.c.app_id == app_id)
                ).scalar_one()
                for table in (oauth_tokens, oauth_codes)
            )
        return tokens, codes

    # 2 client credentials, 2 pairs (the owner's, the refresh's), 1 code.
    assert counts() == (6, 1)
    apps.grant_client_credentials(module_store, client, secret, later(601))
    # The expired token and code are gone (the token would be live again if the clock went
    # back); the used refresh token is kept for a day; a new token came.
    assert counts() == (6, 0)
    assert account_of(module_store, expiring.access_token, later(5)) is None
    assert account_of(module_store, lasting.access_token, later(5)) is not None
    apps.grant_client_credentials(module_store, client, secret, later(86_401))
    # The second expired token and the used refresh token went, a new token came.
    assert counts() == (5, 0)
    assert account_of(module_store, pair.access_token, later(86_401)) is not None


@pytest.mark.parametrize(
    ("account", "name", "redirect_uri", "field"),
    [
        ("", "app", None, "account"),
        ("acme", " ", None, "name"),
        ("acme", "x" * 201, None, "name"),
        ("acme", "app\x00", None, "name"),
        ("acme", "app", "ftp://example.com/", "redirect_uri"),
        ("acme", "app", "https://example.com/#frag", "redirect_uri"),
        ("acme", "app", "/relative", "redirect_uri"),
        ("acme", "app", "https://exa mple.com/", "redirect_uri"),
        ("acme", "app", "https://[::1/", "redirect_uri"),
        ("acme", "app", "https://example.com/\x00", "redirect_uri"),
    ],
)
def test_an_app_needs_names_and_an_absolute_http_redirect_uri(
    module_store: SqlStore, account: str, name: str, redirect_uri: str | None, field: str
) -> None:
    with pytest.raises(Invalid) as refused:
        apps.create_app(module_store, account, name, redirect_uri, NOW)
    assert [problem.path for problem in refused.value.problems] == [(field,)]
