"""Whole v1 responses pinned in tests/golden/v1/: status, headers and body bytes.

Each test runs a server of its own over a new SQLite file with a frozen clock, so ids and
timestamps come out the same on every run. The golden files are written only when
OPENSCOUT_REGENERATE_GOLDEN=1 is set, and then the test fails anyway, saying so: a new golden
file is accepted by reading it against the spec, never by a green run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from openscout.config import Settings
from tests.conftest import Account, Server, migrated_store, new_account, running_server
from tests.helpers import LASLABS_CREATE

GOLDEN = Path(__file__).parent.parent / "golden" / "v1"
REGENERATE = os.environ.get("OPENSCOUT_REGENERATE_GOLDEN") == "1"
PUBLIC_URL = "https://openscout.test"
#: The moment of the recorded LasLabs create (spec §9.4).
T0 = datetime(2017, 12, 13, 22, 49, 9, tzinfo=UTC)
#: Headers that change with every run or say nothing about the contract.
VOLATILE = {"date", "server", "correlation-id"}  # correlation-id: a new id per request

RICH: dict[str, Any] = {
    "firstName": "Zoë",
    "lastName": "Lee",
    "organization": "Acme",
    "jobTitle": "CEO",
    "background": "Met at the fair.",
    "emails": [
        {"value": "zoe@example.com"},
        {"value": "zoe@home.example.com", "location": "Home", "type": None},
    ],
    "phones": [{"value": "555-0100"}, {"value": "555-0101", "location": "MOBILE"}],
    "chats": [
        {"value": "zoe.lee", "type": "Skype"},
        {"value": "zoe@jabber.example", "type": "xmmp"},
    ],
    "socialProfiles": [{"value": "https://twitter.com/zoe", "type": "twitter"}],
    "websites": [{"value": "https://zoe.example.com", "location": None}],
    "address": {
        "lines": "1 Main St",
        "city": "Boston",
        "state": "MA",
        "postalCode": 2110,
        "country": "US",
    },
}


class Recorder:
    """Sends requests to a golden server and keeps each exchange as it will be stored."""

    def __init__(self, server: Server, account: Account) -> None:
        self.server = server
        self.exchanges: list[dict[str, Any]] = []
        credentials = {"key": (account.key, "X"), "unknown": ("0" * 40, "X"), "none": None}
        self.clients = {
            name: httpx.Client(base_url=server.url, auth=auth, timeout=10)
            for name, auth in credentials.items()
        }

    def close(self) -> None:
        for http in self.clients.values():
            http.close()

    def send(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content: bytes | None = None,
        auth: str = "key",
    ) -> httpx.Response:
        if content is None and body is not None:
            content = json.dumps(body).encode()
        response = self.clients[auth].request(method, path, content=content)
        self.exchanges.append(
            {
                "request": _request(method, path, body, content, auth),
                "response": _response(response),
            }
        )
        return response


def _request(method: str, path: str, body: Any, content: bytes | None, auth: str) -> Any:
    shown: dict[str, Any] = {"method": method, "path": path}
    shown["authorization"] = {
        "key": "Basic <the account's key>:X",
        "unknown": "Basic <a key that does not exist>:X",
        "none": None,
    }[auth]
    if body is not None:
        shown["body"] = body
    elif content is not None:
        shown["body"] = content.decode() if len(content) < 200 else f"<{len(content)} bytes>"
    return shown


def _response(response: httpx.Response) -> dict[str, Any]:
    """Status, headers (minus volatile ones) and body; checks that the body is compact JSON in
    exactly the order kept, so that the stored form pins the bytes."""
    body = json.loads(response.content) if response.content else None
    if body is not None:
        assert response.content == _compact(body), response.content
    headers = {
        name: value for name, value in sorted(response.headers.items()) if name not in VOLATILE
    }
    return {"status": response.status_code, "headers": headers, "body": body}


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def check_golden(name: str, exchanges: list[dict[str, Any]]) -> None:
    path = GOLDEN / f"{name}.json"
    text = json.dumps(exchanges, indent=2, ensure_ascii=False) + "\n"
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        pytest.fail(
            f"regenerated {path}; read it against the spec, then run the tests again without "
            "OPENSCOUT_REGENERATE_GOLDEN",
            pytrace=False,
        )
    if not path.exists():
        pytest.fail(
            f"{path} is missing: run with OPENSCOUT_REGENERATE_GOLDEN=1 and check it by eye",
            pytrace=False,
        )
    # Compared as text: key order is part of what is pinned (spec §8.1).
    assert text == path.read_text(encoding="utf-8")


@pytest.fixture
def recorder(tmp_path: Path) -> Iterator[Recorder]:
    store = migrated_store(f"sqlite:///{tmp_path / 'golden.db'}")
    try:
        account = new_account(store, "golden")
        with running_server(store, Settings(public_url=PUBLIC_URL)) as server:
            server.clock.freeze(T0)
            recorder = Recorder(server, account)
            try:
                yield recorder
            finally:
                recorder.close()
    finally:
        store.close()


def test_create_with_reload(recorder: Recorder) -> None:
    # The request of spec §9.4, as recorded from the LasLabs client: reload in the body.
    recorder.send(
        "POST",
        "/v1/customers.json",
        LASLABS_CREATE,
    )
    recorder.send("POST", "/v1/customers.json?reload=true", RICH)
    check_golden("create_with_reload", recorder.exchanges)


def test_get_of_a_rich_customer(recorder: Recorder) -> None:
    created = recorder.send("POST", "/v1/customers.json", RICH)
    assert created.status_code == 201
    recorder.exchanges.clear()
    recorder.send("GET", "/v1/customers/1.json")
    check_golden("get_rich_customer", recorder.exchanges)


def test_update_with_reload(recorder: Recorder) -> None:
    recorder.send("POST", "/v1/customers.json", RICH)
    recorder.exchanges.clear()
    recorder.server.clock.advance(77)
    # Entry ids of the new store: emails 1-2, phones 3-4, chats 5-6, social profile 7,
    # website 8; the address is 1.
    recorder.send(
        "PUT",
        "/v1/customers/1.json?reload=true",
        {
            "firstName": "Zoe",
            "background": "",
            "jobTitle": None,
            "emails": [{"id": 2, "location": "other"}, {"value": "ZOE@example.com"}],
            "phones": [{"id": -3}],
            "chats": [{"value": "zoe-aim", "type": "AIM"}],
            "socialProfiles": [],
            "websites": None,
            "address": {"id": 1, "city": "Cambridge", "postcalCode": "02139"},
        },
    )
    check_golden("update_with_reload", recorder.exchanges)


def test_error_bodies(recorder: Recorder) -> None:
    recorder.send("POST", "/v1/customers.json", RICH)
    recorder.exchanges.clear()
    recorder.send("GET", "/v1/customers/1.json", auth="none")
    recorder.send("PUT", "/v1/customers/1.json", content=b"{", auth="unknown")
    recorder.send("GET", "/v1/customers/2.json")
    recorder.send("GET", "/v1/customers/abc.json")
    recorder.send("DELETE", "/v1/customers/1.json")
    recorder.send(
        "POST",
        "/v1/customers.json",
        {
            "firstName": "",
            "lastName": "L" * 41,
            "emails": [{"value": "not-an-email"}, {"value": "b@example.com", "location": "office"}],
            "address": {"city": "Boston", "state": " ", "postalCode": 2110},
        },
    )
    recorder.send(
        "PUT",
        "/v1/customers/1.json",
        {"emails": [{"id": -1234}], "phones": [{"id": "3"}], "address": {"id": 77}},
    )
    recorder.send("POST", "/v1/customers.json", content=b'{"firstName": "Ann",')
    recorder.send(
        "POST",
        "/v1/customers.json",
        {"firstName": "Ann", "lastName": "Lee", "emails": [{"value": "Zoe@Example.com"}]},
    )
    recorder.send("POST", "/v1/customers.json", content=b" " * (100 * 1024 + 1))
    check_golden("errors", recorder.exchanges)
