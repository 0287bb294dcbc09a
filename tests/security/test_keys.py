"""API keys: a revoked key stops working at once, on every endpoint, with rate limits on or off;
a key is shown once, when it is made, and never again: not by `keys list`, not in any answer,
not in any line the server logs."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from openscout import keys
from openscout.cli import main
from openscout.config import Settings
from openscout.store.engine import SqlStore
from openscout.store.tables import customers
from tests.concurrency.processes import ServeProcess, serving
from tests.conftest import (
    BACKENDS,
    Account,
    fresh_database,
    migrated_store,
    new_account,
    running_server,
)
from tests.helpers import assert_error, create

REQUESTS = [
    ("GET", "/v1/customers.json"),
    ("GET", "/v1/customers/{id}.json"),
    ("PUT", "/v1/customers/{id}.json"),
    ("POST", "/v1/customers.json"),
    ("GET", "/v1/search/customers.json?query=*"),
    ("GET", "/v1/mailboxes/1/customers.json"),
]


def revoke(store: SqlStore, account: Account) -> None:
    with store.writing() as transaction:
        for key in transaction.list_keys():
            if key.account == account.name and key.revoked_at is None:
                assert transaction.revoke_key(key.id, key.created_at)


@pytest.mark.parametrize("rate_limited", [False, True], ids=["no-limits", "limits"])
def test_a_revoked_key_stops_at_once_on_every_endpoint(store: SqlStore, rate_limited: bool) -> None:
    account = new_account(store)
    settings = Settings(access_log=True)
    with (
        running_server(store, settings, rate_limited=rate_limited) as server,
        httpx.Client(base_url=server.url, auth=(account.key, "X"), timeout=10) as http,
    ):
        customer = create(http)
        body = {"firstName": "Ann", "lastName": "Lee"}
        # Each endpoint answers the live key (so it has been seen, and could be remembered).
        for method, path in REQUESTS:
            response = http.request(method, path.format(id=customer), json=body)
            assert response.status_code in (200, 201, 404), (method, path, response.text)
        with store.reading() as transaction:
            account_id = transaction.account_for_key(keys.hash_key(account.key))
        revoke(store, account)
        # The same connection, the very next request: refused, and nothing is written.
        for method, path in REQUESTS:
            response = http.request(method, path.format(id=customer), json={"firstName": "X"})
            assert_error(response, 401, "Invalid API Key")
            assert not any(name.startswith("x-ratelimit") for name in response.headers)
    with store.reading() as transaction:
        count = select(func.count()).where(customers.c.account_id == account_id)
        assert transaction.connection.execute(count).scalar_one() == 2  # made before the revoke


def test_keys_list_never_shows_a_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    assert main(["keys", "create", "--name", "ci", "--database-url", url]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.fullmatch(r"[0-9a-f]{40}", key)
    assert main(["keys", "list", "--database-url", url]) == 0
    listing = capsys.readouterr().out
    assert key[:4] + "…" in listing
    assert key not in listing
    assert key[4:12] not in listing
    assert keys.hash_key(key) not in listing


def secrets_of(key: str) -> list[str]:
    """Every form in which a key could leak: itself, its hash, the Authorization header."""
    basic = base64.b64encode(f"{key}:X".encode()).decode()
    return [key, key[4:], keys.hash_key(key), basic, basic[:20]]


@pytest.fixture
def logged_server(tmp_path: Path) -> Iterator[tuple[ServeProcess, Account, Account, SqlStore]]:
    """`openscout serve` at log level debug with its access log on and a tight rate limit:
    everything it writes goes to one file."""
    with fresh_database("sqlite", tmp_path) as url:
        store = migrated_store(url)
        live, revoked = new_account(store), new_account(store)
        revoke(store, revoked)
        process = ServeProcess(
            url,
            tmp_path / "serve.log",
            options=["--log-level", "debug", "--access-log", "--rate-limit", "30"],
        )
        try:
            yield process.start().wait_ready(), live, revoked, store
        finally:
            process.stop()
            store.close()


MARKER = "BODY-MARKER-7f3a"
QUERY_MARKER = "QUERY-MARKER-51c9"


def test_no_key_and_no_body_is_ever_logged_and_each_request_is_one_line(
    logged_server: tuple[ServeProcess, Account, Account, SqlStore],
) -> None:
    process, live, revoked, store = logged_server
    sent: list[tuple[str, str, int, str]] = []  # method, path, status, correlation id
    with (
        httpx.Client(base_url=process.url, auth=(live.key, "X"), timeout=10) as http,
        httpx.Client(base_url=process.url, auth=(revoked.key, "X"), timeout=10) as refused,
        httpx.Client(base_url=process.url, timeout=10) as anonymous,
    ):
        body = {"firstName": MARKER, "lastName": "Lee", "emails": [{"value": f"{MARKER}@x.io"}]}
        calls = [
            (http, "POST", "/v1/customers.json?reload=true", body),
            (http, "GET", "/v1/customers/1.json", None),
            (http, "PUT", "/v1/customers/1.json", {"background": MARKER}),
            (http, "PUT", "/v1/customers/1.json", {"firstName": MARKER * 3}),  # 400 echoes it
            (http, "GET", f"/v1/customers.json?firstName={QUERY_MARKER}", None),
            (http, "GET", f"/v1/search/customers.json?query={QUERY_MARKER}", None),
            (http, "GET", "/v1/search/customers.json?query=(", None),
            (http, "POST", "/v1/customers.json", b"{" + MARKER.encode()),
            (http, "GET", "/v1/nothing-here.json", None),
            (refused, "GET", "/v1/customers/1.json", None),
            (anonymous, "GET", "/v1/customers/1.json", None),
            (anonymous, "GET", "/healthz", None),
            (anonymous, "GET", "/v1/openapi.json", None),
        ]
        for client, method, path, content in calls:
            if isinstance(content, bytes):
                response = client.request(method, path, content=content)
            else:
                response = client.request(method, path, json=content)
            sent.append(
                (
                    method,
                    path.split("?")[0],
                    response.status_code,
                    response.headers["correlation-id"],
                )
            )
            # Keys never come back in an answer either.
            shown = response.text + json.dumps(dict(response.headers))
            for secret in secrets_of(live.key) + secrets_of(revoked.key):
                assert secret not in shown, (method, path)
        # Up to the limit of 30 and over it: the refusals are logged too.
        for _ in range(80):
            response = http.get("/v1/customers.json")
            correlation = response.headers["correlation-id"]
            sent.append(("GET", "/v1/customers.json", response.status_code, correlation))
            if response.status_code == 429:
                break
    assert sent[-1][2] == 429
    process.stop()  # every line is written out before the process ends
    output = process.log.read_text()

    for secret in secrets_of(live.key) + secrets_of(revoked.key):
        assert secret not in output
    assert MARKER not in output and QUERY_MARKER not in output

    # Every line is JSON (one log format): the banner, the server's and the access log's.
    every = [json.loads(line) for line in output.splitlines()]
    logged = [line for line in every if line["logger"] == "openscout.access"]
    by_id = {line["request_id"]: line for line in logged}
    assert len(by_id) == len(logged)
    lines = [by_id.pop(request_id) for *_, request_id in sent]
    # Besides ours, only the readiness checks of the test's process helper.
    assert {(line["method"], line["path"]) for line in by_id.values()} <= {("GET", "/healthz")}
    assert [(n["method"], n["path"], n["status"], n["request_id"]) for n in lines] == sent
    with store.reading() as transaction:
        account = transaction.account_for_key(keys.hash_key(live.key))
    for line, (_method, path, status, _id) in zip(lines, sent, strict=True):
        assert list(line) == [
            "time",
            "level",
            "logger",
            "request_id",
            "method",
            "path",
            "status",
            "duration_ms",
            "account_id",
        ]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
        assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
        api = path.startswith("/v1/") and path != "/v1/openapi.json"
        expected = account if api and status != 401 else None
        assert line["account_id"] == expected, line


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_key_revoked_through_the_cli_is_refused_at_once_by_every_server_process(
    backend: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two `openscout serve` processes on one database, the control API on: a fault queued for
    the account must never answer a request made with its revoked key (no process may still
    take the key for the account's), and the account's other key goes on working."""
    with fresh_database(backend, tmp_path) as url:
        store = migrated_store(url)
        try:
            doomed = new_account(store)
            with store.writing() as transaction:
                kept = keys.generate_key()
                transaction.create_key(
                    doomed.name, "kept", keys.hash_key(kept), kept[:4], datetime.now(UTC)
                )
                doomed_id = next(k.id for k in transaction.list_keys() if k.name == "test")
        finally:
            store.close()
        with serving(url, tmp_path, 2, options=["--control-api"]) as servers:
            for server in servers:
                with httpx.Client(base_url=server.url, timeout=10) as http:
                    response = http.get("/v1/customers.json", auth=(doomed.key, "X"))
                    assert response.status_code == 200, response.text
                    fault = {"count": 10, "status": 503}
                    queued = http.post("/_openscout/faults", json=fault, auth=(kept, "X"))
                    assert queued.status_code == 201, queued.text
            assert main(["keys", "revoke", str(doomed_id), "--database-url", url]) == 0
            capsys.readouterr()
            for server in servers:
                with httpx.Client(base_url=server.url, timeout=10) as http:
                    refused = http.get("/v1/customers.json", auth=(doomed.key, "X"))
                    assert_error(refused, 401, "Invalid API Key")
                    faulted = http.get("/v1/customers.json", auth=(kept, "X"))
                    assert faulted.status_code == 503  # the fault is there, for the live key
