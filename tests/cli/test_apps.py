"""`openscout apps create|list|revoke|authorize` on a database file in tmp_path, run in this
process (`cli.main(argv)`), and their credentials used as a client would use them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from openscout import apps, keys
from openscout.domain.errors import UnknownClient
from tests.cli.test_cli import Cli

HEX32 = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path, f"sqlite:///{tmp_path / 'openscout.db'}", monkeypatch, capsys)


def create_app(cli: Cli, *options: str) -> tuple[str, str]:
    """`apps create`: the client id and secret from the last two lines of its output."""
    output = cli.ok("apps", "create", *options).splitlines()
    client_id, secret = output[-2], output[-1]
    assert HEX32.fullmatch(client_id) and HEX32.fullmatch(secret), output
    return client_id, secret


def test_create_prints_credentials_that_get_a_token_for_the_account(cli: Cli) -> None:
    key = cli.create_key("--account", "acme")
    client_id, secret = create_app(cli, "--name", "Sync", "--account", "acme")
    store = cli.store()
    try:
        issued = apps.grant_client_credentials(store, client_id, secret, datetime.now(UTC))
        token_account = apps.account_for_token(
            store, keys.hash_key(issued.access_token), datetime.now(UTC)
        )
        with store.reading() as transaction:
            assert token_account == transaction.account_for_key(keys.hash_key(key))
        with pytest.raises(UnknownClient):
            apps.grant_client_credentials(store, client_id, "0" * 32, datetime.now(UTC))
    finally:
        store.close()


def test_list_shows_apps_and_never_their_secrets(cli: Cli) -> None:
    cli.create_key()
    assert "No apps yet" in cli.ok("apps", "list")
    first, secret = create_app(cli, "--name", "One", "--redirect-uri", "https://a.example/cb")
    second, other = create_app(cli, "--name", "Two", "--account", "other")
    listed = cli.ok("apps", "list")
    assert first in listed and second in listed
    assert secret not in listed and other not in listed
    assert "redirect URI: https://a.example/cb" in listed
    assert re.search(rf"{first}\s+default\s+\S+\s+live\s+One", listed)
    assert re.search(rf"{second}\s+other\s+\S+\s+live\s+Two", listed)


def test_revoke_takes_effect_at_once_and_refuses_an_unknown_app(cli: Cli) -> None:
    client_id, secret = create_app(cli, "--name", "Gone")
    store = cli.store()
    try:
        token = apps.grant_client_credentials(store, client_id, secret, datetime.now(UTC))
        assert "its tokens get 401" in cli.ok("apps", "revoke", client_id)
        digest = keys.hash_key(token.access_token)
        assert apps.account_for_token(store, digest, datetime.now(UTC)) is None
    finally:
        store.close()
    assert re.search(rf"{client_id}\s+default\s+\S+\s+revoked ", cli.ok("apps", "list"))
    for unknown in (client_id, "0" * 32, "nope"):
        done = cli.run("apps", "revoke", unknown)
        assert done.returncode == 1
        assert done.stderr == f"openscout: no live app with client id {unknown!r}\n"


def test_authorize_prints_a_refresh_token_that_the_app_can_use(cli: Cli) -> None:
    client_id, secret = create_app(cli, "--name", "Script")
    output = cli.ok("apps", "authorize", client_id, OPENSCOUT_TOKEN_LIFETIME="600")
    refresh_token = output.splitlines()[-1]
    assert HEX32.fullmatch(refresh_token), output
    assert "good for 600 seconds" in output
    store = cli.store()
    try:
        now = datetime.now(UTC)
        renewed = apps.refresh(store, client_id, secret, refresh_token, now)
        assert renewed.refresh_token not in (None, refresh_token)
        assert apps.account_for_token(store, keys.hash_key(renewed.access_token), now)
    finally:
        store.close()
    done = cli.run("apps", "authorize", "0" * 32)
    assert done.returncode == 1 and "no live app" in done.stderr


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--name", " "), "--name must not be blank"),
        (("--name", "x" * 201), "--name is 201 characters long; at most 200"),
        (("--name", "a", "--account", " "), "--account must not be blank"),
        (("--name", "a", "--redirect-uri", "ftp://x.example/"), "--redirect-uri must be"),
        (("--name", "a", "--redirect-uri", "https://x.example/#f"), "--redirect-uri must be"),
    ],
)
def test_create_refuses_bad_options_before_the_database_is_opened(
    cli: Cli, options: tuple[str, ...], message: str
) -> None:
    done = cli.run("apps", "create", *options)
    assert done.returncode == 2
    assert message in done.stderr
    assert not (cli.directory / "openscout.db").exists()


def test_create_needs_a_name(cli: Cli) -> None:
    done = cli.run("apps", "create")
    assert done.returncode == 2 and "--name" in done.stderr
