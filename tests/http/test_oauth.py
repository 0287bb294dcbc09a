"""OAuth 2.0 for the v2 API (v2 spec §1, §8a.1-3; docs/decisions/v2-oauth.md), over a real server
on each backend: the token endpoint's three input forms and its grants, refresh rotation,
authorization codes, the approval page, the transition service, and bearer tokens: live,
expired, revoked, and on paths that do not take them.

A route that acts for an account with a bearer token is needed to tell a live token from a dead
one: the control API's `GET /_openscout/clock` takes either credential (`accepted_credentials`).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from openscout import apps, keys, service
from openscout.config import Settings
from openscout.http.app import accepted_credentials
from openscout.http.auth import ACCESS_TOKEN, API_KEY
from openscout.store.engine import SqlStore
from tests.conftest import Account, Clock, Server, new_account, new_app, running_server
from tests.helpers import assert_cors, assert_error, send_raw
from tests.security.test_access_log import access_lines

TOKEN = "/v2/oauth2/token"
AUTHORIZE = "/v2/oauth2/authorize"
TRANSITION = "/transition"
#: A route that acts for the account of a v1 key or of a bearer token.
PROBE = "/_openscout/clock"
CALLBACK = "https://client.example/callback?from=openscout"
JSON = "application/json; charset=utf-8"


@pytest.fixture(scope="module")
def oauth_server(store: SqlStore) -> Iterator[Server]:
    with running_server(store, Settings(access_log=False, control_api=True)) as running:
        yield running


@pytest.fixture
def server_clock(oauth_server: Server) -> Iterator[Clock]:
    """The server's clock, by which tokens expire; real time again after the test."""
    yield oauth_server.clock
    oauth_server.clock.reset()


@pytest.fixture
def http(oauth_server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=oauth_server.url, timeout=10) as client:
        yield client


@dataclass
class Owner:
    """An account, a v1 key of it, and an app of it with a redirect URI."""

    account: Account
    client_id: str
    secret: str

    def credentials(self, **more: str) -> dict[str, str]:
        return {"client_id": self.client_id, "client_secret": self.secret, **more}


@pytest.fixture
def owner(oauth_server: Server) -> Owner:
    account = new_account(oauth_server.store)
    client_id, secret = new_app(oauth_server.store, account.name, redirect_uri=CALLBACK)
    return Owner(account, client_id, secret)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def probe(http: httpx.Client, token: str) -> int:
    """The status of a request that acts for the token's account: 200 live, 401 not."""
    return http.get(PROBE, headers=bearer(token)).status_code


def assert_token(response: httpx.Response, *, refresh: bool, expires_in: int = 172_800) -> str:
    """A token answer (RFC 6749 §5.1; spec §8a.2); returns the access token."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == JSON
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    keys = ["access_token", "token_type", "expires_in", *(["refresh_token"] if refresh else [])]
    assert list(body) == keys
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == expires_in and type(body["expires_in"]) is int
    assert isinstance(body["access_token"], str) and len(body["access_token"]) >= 32
    assert_cors(response)
    return str(body["access_token"])


def assert_oauth_error(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    """RFC 6749 §5.2: the status, `{"error", "error_description"}`, JSON."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == JSON
    body: dict[str, Any] = response.json()
    assert list(body) == ["error", "error_description"]
    assert body["error"] == error
    assert isinstance(body["error_description"], str) and body["error_description"]
    return body


def client_credentials(http: httpx.Client, owner: Owner) -> str:
    response = http.post(TOKEN, data=owner.credentials(grant_type="client_credentials"))
    return assert_token(response, refresh=False)


def approve(http: httpx.Client, owner: Owner, **query: str) -> str:
    """The approval page's flow, as a browser goes through it: the page, the form posted with
    the account's key, the redirect back. Returns the code."""
    page = http.get(AUTHORIZE, params={"client_id": owner.client_id, **query})
    assert page.status_code == 200, page.text
    assert 'name="api_key"' in page.text
    form = {"client_id": owner.client_id, **query, "api_key": owner.account.key}
    answer = http.post(AUTHORIZE, data=form)
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["location"])
    expected = urlsplit(query.get("redirect_uri", CALLBACK))
    assert (location.scheme, location.netloc, location.path) == (
        expected.scheme,
        expected.netloc,
        expected.path,
    )
    parameters = parse_qs(location.query)
    assert parameters["from"] == ["openscout"]  # the redirect URI's own query is kept
    if "state" in query:
        assert parameters["state"] == [query["state"]]
    else:
        assert "state" not in parameters
    return parameters["code"][0]


def exchange(http: httpx.Client, owner: Owner, code: str, **more: str) -> httpx.Response:
    return http.post(
        TOKEN, json=owner.credentials(grant_type="authorization_code", code=code, **more)
    )


# -- client credentials: form, JSON or query string (§8a.1)


def _form(owner: Owner) -> dict[str, Any]:
    return {"data": owner.credentials(grant_type="client_credentials")}


def _json(owner: Owner) -> dict[str, Any]:
    return {"json": owner.credentials(grant_type="client_credentials")}


def _query(owner: Owner) -> dict[str, Any]:
    return {"params": owner.credentials(grant_type="client_credentials")}


def _query_with_json_type(owner: Owner) -> dict[str, Any]:
    return {**_query(owner), "headers": {"Content-Type": "application/json"}}


def _json_without_type(owner: Owner) -> dict[str, Any]:
    body = httpx.Request("POST", "/", json=_json(owner)["json"]).content
    return {"content": body}


def _basic_header(owner: Owner) -> dict[str, Any]:
    pair = f"{owner.client_id}:{owner.secret}".encode()
    header = f"Basic {base64.b64encode(pair).decode()}"
    return {"data": {"grant_type": "client_credentials"}, "headers": {"Authorization": header}}


@pytest.mark.parametrize(
    "sent",
    [_form, _json, _query, _query_with_json_type, _json_without_type, _basic_header],
    ids=["form", "json", "query", "query-json-type", "json-no-type", "basic-header"],
)
def test_client_credentials_give_a_bearer_token_however_they_are_sent(
    http: httpx.Client, owner: Owner, sent: Any
) -> None:
    token = assert_token(http.post(TOKEN, **sent(owner)), refresh=False)
    assert probe(http, token) == 200


def test_a_post_with_no_body_and_no_content_type_is_read_from_the_query_string(
    oauth_server: Server, owner: Owner
) -> None:
    """The request Node clients make: parameters in the query string, nothing else."""
    query = httpx.QueryParams(owner.credentials(grant_type="client_credentials"))
    head = (
        f"POST {TOKEN}?{query} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    assert_token(send_raw(oauth_server.url, head), refresh=False)


def test_each_client_credentials_grant_is_a_new_token_and_the_old_ones_stay_live(
    http: httpx.Client, owner: Owner
) -> None:
    first, second = client_credentials(http, owner), client_credentials(http, owner)
    assert first != second
    assert probe(http, first) == probe(http, second) == 200


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"client_secret": "0" * 32}, "wrong secret"),
        ({"client_id": "0" * 32}, "unknown client"),
        ({"client_id": ""}, "no client id"),
        ({"client_secret": ""}, "no secret"),
        ({"client_id": "x" * 5000}, "long client id"),
        ({"client_id": "ab\x00cd"}, "NUL byte"),
    ],
)
def test_a_client_that_cannot_be_authenticated_is_invalid_client_401(
    http: httpx.Client, owner: Owner, change: dict[str, str], why: str
) -> None:
    sent = {**owner.credentials(grant_type="client_credentials"), **change}
    response = http.post(TOKEN, json=sent)
    assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"] == "Basic"


def test_the_token_lifetime_is_a_setting(store: SqlStore) -> None:
    account = new_account(store)
    client_id, secret = new_app(store, account.name)
    settings = Settings(access_log=False, control_api=True, token_lifetime=60)
    with (
        running_server(store, settings) as server,
        httpx.Client(base_url=server.url, timeout=10) as http,
    ):
        sent = {"grant_type": "client_credentials", "client_id": client_id}
        response = http.post(TOKEN, data={**sent, "client_secret": secret})
        token = assert_token(response, refresh=False, expires_in=60)
        server.clock.advance(59)
        assert probe(http, token) == 200
        server.clock.advance(1)
        assert probe(http, token) == 401


# -- bearer tokens: expired, revoked, where they are taken (§8a.3)


def test_an_expired_token_is_refused_with_401(
    http: httpx.Client, owner: Owner, server_clock: Clock
) -> None:
    server_clock.freeze(datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC))
    token = client_credentials(http, owner)
    server_clock.advance(172_799)
    assert probe(http, token) == 200
    server_clock.advance(1)
    response = http.get(PROBE, headers=bearer(token))
    assert_error(response, 401)
    assert client_credentials(http, owner) != token  # a new one is to be had


def test_revoking_an_app_refuses_its_tokens_on_the_next_request(
    oauth_server: Server, http: httpx.Client, owner: Owner
) -> None:
    token = client_credentials(http, owner)
    code = approve(http, owner)
    refresh_token = exchange(http, owner, code).json()["refresh_token"]
    assert probe(http, token) == 200
    assert apps.revoke_app(oauth_server.store, owner.client_id, datetime.now(UTC))
    assert probe(http, token) == 401
    response = http.post(TOKEN, data=owner.credentials(grant_type="client_credentials"))
    assert_oauth_error(response, 401, "invalid_client")
    refreshed = http.post(
        TOKEN, data=owner.credentials(grant_type="refresh_token", refresh_token=refresh_token)
    )
    assert_oauth_error(refreshed, 401, "invalid_client")
    page = http.get(AUTHORIZE, params={"client_id": owner.client_id})
    assert page.status_code == 400 and "location" not in page.headers


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer ", "Bearer nope", "Bearer \u00e9t\u00e9", "bearer 0", "Token abc"],
)
def test_a_bearer_header_that_names_no_live_token_is_401(oauth_server: Server, header: str) -> None:
    head = (
        f"GET {PROBE} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n".encode()
        + b"Authorization: "
        + header.encode("utf-8")
        + b"\r\n\r\n"
    )
    assert send_raw(oauth_server.url, head).status_code == 401


def test_a_bearer_token_does_not_open_the_v1_api(http: httpx.Client, owner: Owner) -> None:
    token = client_credentials(http, owner)
    response = http.get("/v1/customers.json", headers=bearer(token))
    assert_error(response, 401, "Invalid API Key")
    assert http.get("/v1/customers.json", auth=(owner.account.key, "X")).status_code == 200


def test_a_v1_key_sent_as_a_bearer_token_is_401(http: httpx.Client, owner: Owner) -> None:
    assert probe(http, owner.account.key) == 401
    assert http.get(PROBE, auth=(owner.account.key, "X")).status_code == 200


def test_each_family_of_paths_takes_its_own_kind_of_credential() -> None:
    """The one table of http/app.py: v1 keys only on v1, tokens only on v2, either on the
    control API, none read by the OAuth endpoints themselves."""
    assert accepted_credentials("/v1/customers.json") == {API_KEY}
    assert accepted_credentials("/v2/customers") == {ACCESS_TOKEN}
    assert accepted_credentials("/v2/customers/1/emails") == {ACCESS_TOKEN}
    assert accepted_credentials("/_openscout/reset") == {API_KEY, ACCESS_TOKEN}
    for path in (TOKEN, AUTHORIZE, TRANSITION, "/healthz", "/v1/openapi.json", "/docs"):
        assert accepted_credentials(path) == set(), path


def test_the_access_log_names_the_account_of_a_token_on_v2_paths_only(
    store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    account = new_account(store)
    client_id, secret = new_app(store, account.name)
    issued = apps.grant_client_credentials(store, client_id, secret, datetime.now(UTC))
    account_id = apps.account_for_token(
        store, keys.hash_key(issued.access_token), datetime.now(UTC)
    )
    assert account_id is not None
    caplog.set_level(logging.INFO, logger="openscout.access")
    with (
        running_server(store, Settings(access_log=True)) as server,
        httpx.Client(base_url=server.url, timeout=10) as http,
    ):
        answers = [
            http.get("/v2/customers", headers=bearer(issued.access_token)),
            http.get("/v2/customers", auth=(account.key, "X")),
            http.get("/v1/customers.json", headers=bearer(issued.access_token)),
            http.get("/v1/customers.json", auth=(account.key, "X")),
        ]
        logged = access_lines(caplog, len(answers))
    by_id = {line["request_id"]: line["account_id"] for line in logged}
    accounts = [by_id[answer.headers["correlation-id"]] for answer in answers]
    assert accounts == [account_id, None, None, account_id]
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert issued.access_token not in text


def test_a_token_acts_for_its_own_account_only(
    http: httpx.Client, owner: Owner, oauth_server: Server
) -> None:
    token = client_credentials(http, owner)
    loaded = http.post(
        "/_openscout/fixtures",
        headers=bearer(token),
        json={"customers": [{"firstName": "Tess", "lastName": "Token"}]},
    )
    assert loaded.status_code == 201, loaded.text
    customer = loaded.json()["ids"][0]
    path = f"/v1/customers/{customer}.json"
    assert http.get(path, auth=(owner.account.key, "X")).status_code == 200
    stranger = new_account(oauth_server.store)
    assert http.get(path, auth=(stranger.key, "X")).status_code == 404


# -- the authorization-code grant


def test_the_approval_page_gives_a_code_that_gives_tokens_once(
    http: httpx.Client, owner: Owner
) -> None:
    code = approve(http, owner, state="xyz 1/2")
    response = exchange(http, owner, code)
    token = assert_token(response, refresh=True)
    assert probe(http, token) == 200
    again = exchange(http, owner, code)
    assert_oauth_error(again, 400, "invalid_grant")


def test_a_code_is_good_for_ten_minutes(
    http: httpx.Client, owner: Owner, server_clock: Clock
) -> None:
    server_clock.freeze(datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC))
    fresh, stale = approve(http, owner), approve(http, owner)
    server_clock.advance(599)
    assert_token(exchange(http, owner, fresh), refresh=True)
    server_clock.advance(1)
    assert_oauth_error(exchange(http, owner, stale), 400, "invalid_grant")


def test_a_code_is_of_its_app_only(http: httpx.Client, owner: Owner, oauth_server: Server) -> None:
    code = approve(http, owner)
    client_id, secret = new_app(oauth_server.store, owner.account.name, redirect_uri=CALLBACK)
    other = Owner(owner.account, client_id, secret)
    assert_oauth_error(exchange(http, other, code), 400, "invalid_grant")
    assert_token(exchange(http, owner, code), refresh=True)  # the failed try did not use it


def test_the_redirect_uri_of_the_exchange_must_be_the_authorization_requests(
    http: httpx.Client, owner: Owner
) -> None:
    named = approve(http, owner, redirect_uri=CALLBACK)
    for sent in ({}, {"redirect_uri": "https://client.example/elsewhere"}):
        assert_oauth_error(exchange(http, owner, named, **sent), 400, "invalid_grant")
    assert_token(exchange(http, owner, named, redirect_uri=CALLBACK), refresh=True)
    # A request that named none (Help Scout's page takes none): none, or the registered one.
    unnamed = approve(http, owner)
    wrong = exchange(http, owner, unnamed, redirect_uri="https://client.example/elsewhere")
    assert_oauth_error(wrong, 400, "invalid_grant")
    assert_token(exchange(http, owner, unnamed, redirect_uri=CALLBACK), refresh=True)
    assert_token(exchange(http, owner, approve(http, owner)), refresh=True)


@pytest.mark.parametrize("code", ["0" * 32, "nope", "x" * 10_000, "\u00e9\x00"])
def test_an_unknown_code_is_invalid_grant(http: httpx.Client, owner: Owner, code: str) -> None:
    assert_oauth_error(exchange(http, owner, code), 400, "invalid_grant")


def test_a_wrong_key_shows_the_page_again_and_redirects_nowhere(
    http: httpx.Client, owner: Owner, oauth_server: Server
) -> None:
    stranger = new_account(oauth_server.store)
    for key in ("wrong", stranger.key, ""):
        form = {"client_id": owner.client_id, "state": "s", "api_key": key}
        response = http.post(AUTHORIZE, data=form)
        assert response.status_code == 400, response.text
        assert "location" not in response.headers
        assert "not a live API key of this account" in response.text
        assert 'name="api_key"' in response.text


@pytest.mark.parametrize(
    ("query", "registered"),
    [
        ({"client_id": "0" * 32}, CALLBACK),
        ({}, CALLBACK),
        ({"client_id": "{client}", "redirect_uri": "https://attacker.example/steal"}, CALLBACK),
        ({"client_id": "{client}", "redirect_uri": CALLBACK + "&more=1"}, CALLBACK),
        ({"client_id": "{client}"}, None),
        ({"client_id": "{client}", "redirect_uri": "https://attacker.example/steal"}, None),
    ],
    ids=[
        "unknown-client",
        "no-client",
        "other-uri",
        "longer-uri",
        "none-registered",
        "none-registered-uri-named",
    ],
)
def test_an_unknown_client_or_unregistered_redirect_uri_is_an_error_page_never_a_redirect(
    http: httpx.Client,
    oauth_server: Server,
    query: dict[str, str],
    registered: str | None,
) -> None:
    account = new_account(oauth_server.store)
    client_id, _secret = new_app(oauth_server.store, account.name, redirect_uri=registered)
    asked = {"state": "s", **{k: v.format(client=client_id) for k, v in query.items()}}
    for response in (
        http.get(AUTHORIZE, params=asked),
        http.post(AUTHORIZE, data={**asked, "api_key": account.key}),
    ):
        assert response.status_code == 400, response.text
        assert "location" not in response.headers
        assert response.headers["content-type"].startswith("text/html")
        assert "cannot be answered" in response.text


def test_deny_and_other_response_types_go_back_to_the_app_as_errors(
    http: httpx.Client, owner: Owner
) -> None:
    denied = http.post(
        AUTHORIZE, data={"client_id": owner.client_id, "state": "s1", "decision": "deny"}
    )
    assert denied.status_code == 302
    assert parse_qs(urlsplit(denied.headers["location"]).query) == {
        "from": ["openscout"],
        "error": ["access_denied"],
        "state": ["s1"],
    }
    implicit = http.get(
        AUTHORIZE, params={"client_id": owner.client_id, "response_type": "token", "state": "s2"}
    )
    assert implicit.status_code == 302
    answer = parse_qs(urlsplit(implicit.headers["location"]).query)
    assert answer["error"] == ["unsupported_response_type"] and answer["state"] == ["s2"]


def test_the_page_escapes_what_it_shows_and_is_never_framed_or_cached(
    http: httpx.Client, oauth_server: Server
) -> None:
    account = new_account(oauth_server.store)
    client_id, _ = new_app(
        oauth_server.store, account.name, redirect_uri=CALLBACK, name="<b>App</b>"
    )
    state = '"><script>alert(1)</script>'
    page = http.get(AUTHORIZE, params={"client_id": client_id, "state": state})
    assert page.status_code == 200
    assert "<script>" not in page.text and "<b>App</b>" not in page.text
    assert "&lt;b&gt;App&lt;/b&gt;" in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    code = parse_qs(
        urlsplit(
            http.post(
                AUTHORIZE, data={"client_id": client_id, "state": state, "api_key": account.key}
            ).headers["location"]
        ).query
    )
    assert code["state"] == [state]


# -- refresh tokens: rotated at each use (§8a.2)


def test_a_refresh_gives_a_new_refresh_token_and_the_old_one_stops_working(
    http: httpx.Client, owner: Owner
) -> None:
    first = exchange(http, owner, approve(http, owner)).json()
    refresh_of = owner.credentials(grant_type="refresh_token")
    second = http.post(TOKEN, data={**refresh_of, "refresh_token": first["refresh_token"]})
    token = assert_token(second, refresh=True)
    rotated = second.json()["refresh_token"]
    assert rotated != first["refresh_token"] and token != first["access_token"]
    assert probe(http, token) == 200
    assert probe(http, first["access_token"]) == 200  # live until it expires
    reused = http.post(TOKEN, data={**refresh_of, "refresh_token": first["refresh_token"]})
    assert_oauth_error(reused, 400, "invalid_grant")
    third = http.post(TOKEN, json={**refresh_of, "refresh_token": rotated})
    assert_token(third, refresh=True)


def test_a_refresh_token_is_of_its_app_only_and_an_access_token_is_none(
    http: httpx.Client, owner: Owner, oauth_server: Server
) -> None:
    issued = exchange(http, owner, approve(http, owner)).json()
    client_id, secret = new_app(oauth_server.store, owner.account.name)
    other = Owner(owner.account, client_id, secret)
    for who, refresh_token in ((other, issued["refresh_token"]), (owner, issued["access_token"])):
        sent = who.credentials(grant_type="refresh_token", refresh_token=refresh_token)
        assert_oauth_error(http.post(TOKEN, data=sent), 400, "invalid_grant")
    sent = owner.credentials(grant_type="refresh_token", refresh_token=issued["refresh_token"])
    assert_token(http.post(TOKEN, data=sent), refresh=True)


# -- what a client may send: never a 500


@pytest.mark.parametrize(
    ("content_type", "body", "status", "error"),
    [
        (None, b"", 400, "invalid_request"),
        ("application/json", b"", 400, "invalid_request"),
        ("application/json", b"{", 400, "invalid_request"),
        ("application/json", b"[1, 2]", 400, "invalid_request"),
        ("application/json", b'"grant_type"', 400, "invalid_request"),
        ("application/json", b"null", 400, "invalid_request"),
        ("application/json", b'{"grant_type": ["client_credentials"]}', 400, "invalid_request"),
        ("application/json", b'{"grant_type": {"a": 1}}', 400, "invalid_request"),
        ("application/json", b'{"grant_type": true}', 400, "invalid_request"),
        ("application/json", b'{"grant_type": "password"}', 400, "unsupported_grant_type"),
        ("application/json", b'{"grant_type": "x\\u0000"}', 400, "unsupported_grant_type"),
        ("application/json", b'{"grant_type": "authorization_code"}', 400, "invalid_request"),
        ("application/json", b'{"grant_type": "refresh_token"}', 400, "invalid_request"),
        ("application/json", b'{"grant_type": "\\ud800"}', 400, "invalid_request"),
        ("application/json", b"\xff\xfe{}", 400, "invalid_request"),
        ("application/json", b"[" * 100_000, 413, "invalid_request"),
        ("application/json", b"[" * 10_000, 400, "invalid_request"),
        ("application/xml", b"<grant_type/>", 400, "invalid_request"),
        ("multipart/form-data; boundary=x", b"--x--", 400, "invalid_request"),
        ("application/x-www-form-urlencoded", b"grant_type=%ff%fe", 400, "unsupported_grant_type"),
        ("application/x-www-form-urlencoded", b"a=1&" * 200, 400, "invalid_request"),
        ("application/x-www-form-urlencoded", b"\xff\x00=\x00", 400, "invalid_request"),
        (
            "application/x-www-form-urlencoded",
            b"grant_type=client_credentials&grant_type=refresh_token",
            400,
            "invalid_request",
        ),
        ("text/plain", b"grant_type=client_credentials", 401, "invalid_client"),
        (
            "application/x-www-form-urlencoded",
            b"grant_type=client_credentials",
            401,
            "invalid_client",
        ),
    ],
)
def test_malformed_token_requests_get_an_rfc_6749_error_never_a_500(
    http: httpx.Client, content_type: str | None, body: bytes, status: int, error: str
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = http.post(TOKEN, content=body, headers=headers)
    assert_oauth_error(response, status, error)


def test_other_methods_on_the_token_endpoint_are_404_in_its_shape(http: httpx.Client) -> None:
    for method in ("GET", "PUT", "DELETE"):
        assert_oauth_error(http.request(method, TOKEN), 404, "invalid_request")


def test_the_same_parameter_in_the_query_and_the_body_is_read_once(
    http: httpx.Client, owner: Owner
) -> None:
    sent = owner.credentials(grant_type="client_credentials")
    assert_token(http.post(TOKEN, params=sent, data=sent), refresh=False)
    other = {**sent, "client_secret": "0" * 32}
    assert_oauth_error(http.post(TOKEN, params=sent, data=other), 400, "invalid_request")


# -- the transition service (§1)


def test_the_transition_service_gives_the_same_tokens_for_the_same_key(
    http: httpx.Client, owner: Owner, server_clock: Clock
) -> None:
    server_clock.freeze(datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC))
    asked = {"apiKey": owner.account.key, "clientId": owner.client_id}
    first = http.post(TRANSITION, json=asked)
    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == JSON
    body = first.json()
    assert list(body) == ["accessToken", "expiresIn", "refreshToken"]
    assert body["expiresIn"] == 7200
    assert probe(http, body["accessToken"]) == 200
    server_clock.advance(100)
    again = http.post(TRANSITION, json=asked).json()
    assert again == {**body, "expiresIn": 7100}
    server_clock.advance(7100)
    assert probe(http, body["accessToken"]) == 401
    renewed = http.post(TRANSITION, json=asked).json()
    assert renewed["accessToken"] != body["accessToken"] and renewed["expiresIn"] == 7200


def test_a_transition_refresh_token_refreshes_and_then_the_key_gets_new_tokens(
    http: httpx.Client, owner: Owner
) -> None:
    asked = {"apiKey": owner.account.key, "clientId": owner.client_id}
    first = http.post(TRANSITION, json=asked).json()
    sent = owner.credentials(grant_type="refresh_token", refresh_token=first["refreshToken"])
    assert_token(http.post(TOKEN, data=sent), refresh=True)
    second = http.post(TRANSITION, json=asked).json()
    assert second["refreshToken"] != first["refreshToken"]
    assert second["accessToken"] != first["accessToken"]
    assert probe(http, second["accessToken"]) == 200


def test_the_transition_service_takes_a_key_of_any_account_for_that_account(
    http: httpx.Client, owner: Owner, oauth_server: Server
) -> None:
    """Integrations exchanged their users' keys under their own app (§1)."""
    user = new_account(oauth_server.store)
    token = http.post(TRANSITION, json={"apiKey": user.key, "clientId": owner.client_id})
    loaded = http.post(
        "/_openscout/fixtures",
        headers=bearer(token.json()["accessToken"]),
        json=[{"firstName": "Uma", "lastName": "User"}],
    )
    assert loaded.status_code == 201, loaded.text
    path = f"/v1/customers/{loaded.json()['ids'][0]}.json"
    assert http.get(path, auth=(user.key, "X")).status_code == 200
    assert http.get(path, auth=(owner.account.key, "X")).status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"apiKey": "0123abcd", "clientId": "{client}"}, "0123abcd is not a valid API Key"),
        ({"apiKey": "{key}", "clientId": "nope"}, "nope is not a valid OAuth Application ID"),
        ({"apiKey": "{key}"}, "clientId is required"),
        ({"clientId": "{client}"}, "apiKey is required"),
        ({"apiKey": 12, "clientId": "{client}"}, "apiKey must be a string"),
        ([], "The body must be a JSON object"),
        ("not json", "The body is not valid JSON"),
    ],
)
def test_the_transition_service_says_which_input_is_not_valid(
    http: httpx.Client, owner: Owner, body: Any, message: str
) -> None:
    def filled(value: Any) -> Any:
        if isinstance(value, str):
            return value.format(key=owner.account.key, client=owner.client_id)
        return value

    if isinstance(body, dict):
        response = http.post(TRANSITION, json={k: filled(v) for k, v in body.items()})
    elif isinstance(body, str):
        response = http.post(TRANSITION, content=body.encode())
    else:
        response = http.post(TRANSITION, json=body)
    assert response.status_code == 400, response.text
    assert response.json() == {"status": 400, "message": message}


def test_a_revoked_key_gets_no_transition(
    http: httpx.Client, owner: Owner, oauth_server: Server
) -> None:
    store, now = oauth_server.store, datetime.now(UTC)
    name = f"revoked-{owner.client_id}"
    extra = service.create_key(store, owner.account.name, name, now)
    assert service.revoke_key(
        store, next(k.id for k in service.list_keys(store) if k.name == name), now
    )
    response = http.post(TRANSITION, json={"apiKey": extra, "clientId": owner.client_id})
    assert response.json() == {"status": 400, "message": f"{extra} is not a valid API Key"}
