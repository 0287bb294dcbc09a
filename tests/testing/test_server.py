"""`HelpScoutServer` from Python: start and stop, its options, and the control operations as
methods (each one call of the control API)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from openscout.store.engine import SqlStore
from openscout.testing import ControlError, HelpScoutServer, id_starts
from tests.conftest import BACKENDS, fresh_database, migrated_store

ANN = {"firstName": "Ann", "lastName": "Lee", "emails": [{"value": "ann@example.com"}]}


def created_ids(hs: HelpScoutServer, email: str = "ann@example.com") -> tuple[int, int]:
    """Create a customer with one email; its id and the email's id."""
    body = {**ANN, "emails": [{"value": email}]}
    with httpx.Client(auth=hs.auth, timeout=10) as http:
        created = http.post(hs.url("/v1/customers.json?reload=true"), json=body)
        assert created.status_code == 201, created.text
        item = created.json()["item"]
        return item["id"], item["emails"][0]["id"]


def test_a_server_serves_v1_on_loopback_and_cleans_up_after_itself() -> None:
    with HelpScoutServer() as hs:
        assert hs.is_running
        assert hs.base_url.startswith("http://127.0.0.1:")
        assert hs.database_url is None
        (directory,) = [p for p in Path(hs._directory or "/").glob("openscout.db")]
        response = httpx.get(hs.url("/v1/customers.json"), auth=hs.auth)
        assert response.json() == {"page": 1, "pages": 0, "count": 0, "items": []}
        assert httpx.get(hs.url("/v1/customers.json")).status_code == 401
        assert hs.account is not None and hs.account.startswith("openscout-")
    assert not hs.is_running
    assert not directory.parent.exists()
    hs.stop()  # twice is harmless
    with pytest.raises(httpx.ConnectError):
        httpx.get(hs.url("/healthz"))


def test_the_options_time_and_fixtures(tmp_path: Path) -> None:
    fixture = tmp_path / "customers.json"
    fixture.write_text(json.dumps([ANN]))
    moment = datetime(2024, 5, 1, 9, 30)
    with HelpScoutServer(
        time=moment, fixtures=[fixture, [{"firstName": "Bo", "lastName": "Ek"}]]
    ) as hs:
        listed = httpx.get(hs.url("/v1/customers.json"), auth=hs.auth).json()
        assert [(i["fullName"], i["createdAt"]) for i in listed["items"]] == [
            ("Bo Ek", "2024-05-01T09:30:00Z"),
            ("Ann Lee", "2024-05-01T09:30:00Z"),
        ]
        assert hs.now() == moment.replace(tzinfo=UTC)
        other = hs.new_account()
        assert other.now() == moment.replace(tzinfo=UTC)  # every account starts there
        assert httpx.get(other.url("/v1/customers.json"), auth=other.auth).json()["count"] == 0


def test_bad_fixtures_stop_the_start_with_the_reason() -> None:
    server = HelpScoutServer(fixtures=[[{"firstName": "Ann"}]])
    with pytest.raises(ControlError) as raised:
        server.start()
    assert raised.value.status == 400
    assert str(raised.value) == (
        "400 Input could not be validated: customers[0]:lastName None: Value is required"
    )
    assert not server.is_running


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_same_id_seed_gives_the_same_ids(backend: str, tmp_path: Path) -> None:
    starts = id_starts(42)
    assert starts == id_starts(42) != id_starts(43)
    assert 100_000_000 < starts["customers"] < 190_000_001
    assert 200_000_000 < starts["entries"] < 290_000_001
    assert 300_000_000 < starts["addresses"] < 390_000_001
    assert all(start % 1000 == 1 for start in starts.values())
    seen = []
    for run in range(2):
        (tmp_path / str(run)).mkdir()
        with (
            fresh_database(backend, tmp_path / str(run)) as url,
            HelpScoutServer(database_url=url, id_seed=42) as hs,
        ):
            seen.append([created_ids(hs), created_ids(hs, "bo@example.com")])
    first_customer, first_email = seen[0][0]
    assert (first_customer, first_email) == (starts["customers"], starts["entries"])
    assert seen[0][1] == (starts["customers"] + 1, starts["entries"] + 1)
    assert seen[0] == seen[1]


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_id_seed_needs_a_fresh_database(backend: str, tmp_path: Path) -> None:
    tmp_path.mkdir(exist_ok=True)
    with fresh_database(backend, tmp_path) as url:
        store: SqlStore = migrated_store(url)
        try:
            assert store.start_ids(id_starts(5))
            assert store.start_ids(id_starts(5))  # the same starts, still unused: fine
            assert not store.start_ids(id_starts(6))
        finally:
            store.close()
        with HelpScoutServer(database_url=url, id_seed=5) as hs:
            created_ids(hs)
        with pytest.raises(ValueError, match="id_seed=5 needs a fresh database"):
            HelpScoutServer(database_url=url, id_seed=5).start()
        with HelpScoutServer(database_url=url) as hs:  # no seed: any database will do
            assert created_ids(hs, "bo@example.com")[0] == id_starts(5)["customers"] + 1


def test_every_control_operation_from_python() -> None:
    with HelpScoutServer(time="2024-05-01T09:30:00Z") as hs, httpx.Client(auth=hs.auth) as http:
        ids = hs.load([ANN, {"firstName": "Bo", "lastName": "Ek"}])
        assert len(ids) == 2
        snapshot = hs.snapshot()
        assert (snapshot.count, snapshot.taken_at) == (2, datetime(2024, 5, 1, 9, 30, tzinfo=UTC))
        assert hs.snapshots() == [snapshot]
        assert [c["id"] for c in hs.snapshot_customers(snapshot)] == ids
        assert hs.reset() == 2
        hs.restore(snapshot)
        assert http.get(hs.url(f"/v1/customers/{ids[0]}.json")).json()["item"]["id"] == ids[0]
        hs.delete_snapshot(snapshot)
        assert hs.snapshots() == []

        fault = hs.fail_next(2, 503, method="get", path="/v1/customers/*.json", retry_after=3)
        assert (fault.remaining, fault.status, fault.method, fault.retry_after) == (
            2,
            503,
            "GET",
            3,
        )
        answer = http.get(hs.url(f"/v1/customers/{ids[0]}.json"))
        assert (answer.status_code, answer.headers["retry-after"]) == (503, "3")
        assert hs.faults()[0].remaining == 1
        hs.clear_faults()
        assert hs.faults() == []
        delay = hs.delay_next(delay_ms=20)
        assert (delay.status, delay.delay_ms) == (None, 20)

        http.get(hs.url("/v1/customers.json"), params={"page": "2"})
        listed = hs.requests(method="GET", path="/v1/customers.json")
        assert [(r.status, r.params, r.fault is not None) for r in listed] == [
            (200, {"page": "2"}, True)
        ]
        assert [r.status for r in hs.requests()] == [200, 503, 200]
        hs.clear_requests()
        assert hs.requests() == []

        assert hs.set_time(datetime(2030, 1, 1)) == datetime(2030, 1, 1, tzinfo=UTC)
        assert hs.advance(90) == datetime(2030, 1, 1, 0, 1, 30, tzinfo=UTC)
        assert hs.set_time(None) == datetime(2024, 5, 1, 9, 30, tzinfo=UTC)  # the server's

        with pytest.raises(ControlError) as raised:
            hs.fail_next(status=404)
        assert raised.value.status == 400
        assert raised.value.body["validationErrors"] == [
            {"property": "status", "value": "404", "message": "Value is not valid"}
        ]
        with pytest.raises(ControlError, match="409 A customer with this email"):
            hs.load([ANN])


def test_every_account_has_an_oauth_app_and_a_ready_bearer_token() -> None:
    """v2 clients in tests: the account's app (`client_id`, `client_secret`) and `v2_auth`, a
    token of the client-credentials grant, which acts for that account alone."""
    with HelpScoutServer() as hs:
        other = hs.new_account()
        for account in (hs, other):
            assert account.client_id and account.client_secret
            assert account.v2_auth == f"Bearer {account.v2_token}"
            assert account.v2_token == account.v2_token  # asked for once, then kept
        assert hs.client_id != other.client_id and hs.v2_token != other.v2_token
        hs.set_time("2030-01-02T03:04:05Z")
        with httpx.Client(base_url=hs.base_url, timeout=10) as http:
            mine = http.get("/_openscout/clock", headers={"Authorization": hs.v2_auth})
            theirs = http.get("/_openscout/clock", headers={"Authorization": other.v2_auth})
            stale = http.get("/_openscout/clock", headers={"Authorization": "Bearer " + "0" * 32})
            # v1 takes keys only: a token there is no credential (v2 spec §1, v1 spec §3).
            v1 = http.get("/v1/customers.json", headers={"Authorization": hs.v2_auth})
        assert mine.status_code == 200 and mine.json()["now"] == "2030-01-02T03:04:05Z"
        assert theirs.status_code == 200 and theirs.json()["now"] != "2030-01-02T03:04:05Z"
        assert stale.status_code == 401
        assert v1.status_code == 401
        fresh = hs.new_v2_token()
        assert fresh != hs.v2_token


def test_a_handle_made_from_a_key_alone_says_it_has_no_app() -> None:
    with HelpScoutServer() as hs:
        from openscout.testing import HelpScoutAccount

        bare = HelpScoutAccount(hs.base_url, hs.api_key, hs.account)
        with pytest.raises(ValueError, match="client id and secret"):
            _ = bare.v2_token


def test_a_fault_on_a_v2_path_answers_in_v2_error_shape() -> None:
    with HelpScoutServer() as hs:
        hs.fail_next(1, 429, path="/v2/customers", retry_after=7)
        hs.fail_next(1, 503, path="/v2/customers")
        hs.fail_next(1, 500, path="/v1/customers.json")
        headers = {"Authorization": hs.v2_auth}
        with httpx.Client(base_url=hs.base_url, timeout=10) as http:
            limited = http.get("/v2/customers", headers=headers)
            unavailable = http.get("/v2/customers", headers=headers)
            served = http.get("/v2/customers", headers=headers)
            v1 = http.get("/v1/customers.json", auth=hs.auth)
        assert limited.status_code == 429
        assert limited.headers["content-type"].startswith("application/vnd.error+json")
        assert limited.headers["retry-after"] == limited.headers["x-ratelimit-retry-after"] == "7"
        assert limited.json()["message"] == "API rate limit exceeded"
        assert limited.json()["logRef"] == limited.headers["correlation-id"]
        assert unavailable.status_code == 503
        assert unavailable.json()["message"] == "The service is temporarily unavailable"
        assert served.status_code == 200
        assert v1.status_code == 500 and v1.json() == {
            "code": 500,
            "error": "An unexpected error occurred",
        }
        assert [r.status for r in hs.requests()] == [429, 503, 200, 500]
