"""Help Scout's rate limits (spec §4), off unless asked for: 200 requests a minute per account,
12 writes per 5 seconds, `X-RateLimit-*` on every answer to a live key, 429 with `Retry-After`
past a limit; counted in memory by one process on SQLite, else in the database or in Redis, so
that every process of a server counts together; requests without a live key counted by address."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from openscout import keys
from openscout.cli import main
from openscout.config import Settings, SettingsError, load_settings
from openscout.http.ratelimit import MemoryCounters, RedisCounters
from openscout.store.base import Hit
from openscout.store.engine import SqlStore
from tests.concurrency.processes import Call, ServeProcess, burst, serving
from tests.conftest import (
    BACKENDS,
    Account,
    Server,
    fresh_database,
    migrated_store,
    new_account,
    running_server,
)
from tests.hardening.conftest import HELP_SCOUT, redis_url
from tests.helpers import assert_empty, assert_error, create, customer_count, raw

#: 11.5 seconds into a minute: 48.5 seconds of it left, and 3.5 of the burst window 10-15 s.
MOMENT = datetime(2030, 1, 1, 12, 0, 11, 500000, tzinfo=UTC)
LIMITED = {"code": 429, "error": "API rate limit exceeded", "message": "API rate limit exceeded"}


def limits(response: httpx.Response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name.startswith("x-rate")}


def headers(minute: int, burst: int | None, *, limit: int = 200, burst_limit: int = 12) -> dict:
    """The `X-RateLimit-*` headers expected with `minute` and `burst` requests left."""
    expected = {
        "x-ratelimit-interval-minute": "60",
        "x-ratelimit-limit-minute": str(limit),
        "x-ratelimit-remaining-minute": str(minute),
    }
    if burst is not None:
        expected |= {
            "x-ratelimit-interval-burst": "5",
            "x-ratelimit-limit-burst": str(burst_limit),
            "x-ratelimit-remaining-burst": str(burst),
        }
    return expected


def assert_limited(response: httpx.Response, retry_after: int) -> None:
    assert_error(response, 429, "API rate limit exceeded")
    assert response.json() == LIMITED
    assert response.headers["retry-after"] == str(retry_after)


@contextmanager
def client_of(server: Server, account: Account) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, auth=(account.key, "X"), timeout=10) as http:
        yield http


# -- the minute limit


#: GETs of every kind count, whatever their answer (path, expected status).
GETS = [
    ("/v1/customers.json", 200),
    ("/v1/customers/2000000000.json", 404),
    ("/v1/search/customers.json?query=nobody", 200),
    ("/v1/customers.json?page=0", 400),
    ("/v1/mailboxes/1/customers.json", 404),
    ("/v1/unknown.json", 404),
]


def test_the_200th_request_of_a_minute_passes_the_201st_gets_429_until_the_next_minute(
    limited: Server, limited_clock: None
) -> None:
    account = new_account(limited.store)
    limited.clock.freeze(MOMENT)
    with client_of(limited, account) as http:
        requests = itertools.cycle(GETS)
        for sent in range(1, 201):
            path, status = next(requests)
            response = http.get(path)
            assert response.status_code == status, (sent, response.text)
            assert limits(response) == headers(200 - sent, 12), sent

        refused = http.get("/v1/customers.json")
        assert_limited(refused, retry_after=49)  # 48.5 s of the minute are left
        assert limits(refused) == headers(0, 12)
        # A write over the minute limit is refused before it is read: nothing is written.
        assert_limited(
            http.post("/v1/customers.json", json={"firstName": "A", "lastName": "B"}), 49
        )
        assert customer_count(limited.store, account.key) == 0

        limited.clock.advance(48)  # 12:00:59.5
        assert_limited(http.get("/v1/customers.json"), retry_after=1)
        limited.clock.advance(0.5)  # 12:01:00: a new window
        response = http.get("/v1/customers.json")
        assert response.status_code == 200
        assert limits(response) == headers(199, 12)


def test_a_refused_request_still_counts_in_its_window(limited: Server, limited_clock: None) -> None:
    """Fixed windows: a client that keeps knocking stays refused until the window is over,
    then has its whole budget again."""
    account = new_account(limited.store)
    limited.clock.freeze(MOMENT)
    with client_of(limited, account) as http:
        for _ in range(200):
            assert http.get("/v1/customers.json").status_code == 200
        for _ in range(5):
            assert_limited(http.get("/v1/customers.json"), retry_after=49)
        limited.clock.advance(48.5)
        response = http.get("/v1/customers.json")
        assert limits(response) == headers(199, 12)


# -- the write burst limit


def test_twelve_writes_per_5_seconds_pass_the_thirteenth_gets_429_and_gets_are_exempt(
    limited: Server, limited_clock: None
) -> None:
    account = new_account(limited.store)
    limited.clock.freeze(MOMENT)
    with client_of(limited, account) as http:
        ids = []
        for sent in range(1, 13):
            response = http.post("/v1/customers.json", json={"firstName": "A", "lastName": "B"})
            assert_empty(response, 201)
            assert limits(response) == headers(200 - sent, 12 - sent)
            ids.append(int(response.headers["location"].rsplit("/", 1)[1].removesuffix(".json")))
        snapshot = raw(http, ids[0])  # a GET: the 13th request, not a write

        path = f"/v1/customers/{ids[0]}.json"
        writes = [("POST", "/v1/customers.json"), ("PUT", path), ("DELETE", path)]
        for sent, (method, target) in enumerate(writes, start=14):
            refused = http.request(method, target, json={"firstName": "Changed", "lastName": "B"})
            assert_limited(refused, retry_after=4)  # 3.5 s of the burst window are left
            assert limits(refused) == headers(200 - sent, 0)
        assert customer_count(limited.store, account.key) == 12
        assert raw(http, ids[0]) == snapshot  # the 17th request

        # GETs still pass; they show the burst left without using it.
        response = http.get(path)
        assert response.status_code == 200
        assert limits(response) == headers(200 - 18, 0)

        limited.clock.advance(3.5)  # 12:00:15: the next burst window
        response = http.put(path, json={"jobTitle": "CTO"})
        assert_empty(response, 200)
        assert limits(response) == headers(200 - 19, 11)


def test_the_headers_count_down_on_every_answer_to_a_live_key(
    limited: Server, limited_clock: None
) -> None:
    account = new_account(limited.store)
    limited.clock.freeze(MOMENT)
    with client_of(limited, account) as http:
        customer = create(http)  # 1 write
        answers = [
            http.get(f"/v1/customers/{customer}.json"),  # 200
            http.put(f"/v1/customers/{customer}.json", json={"firstName": 5}),  # 400, a write
            http.put(f"/v1/customers/{customer}.json", content=b"{"),  # 400, a write
            http.post("/v1/customers.json", content=b" " * 200_000),  # 413, a write
            http.put("/v1/customers/2000000000.json", json={}),  # 404, a write
            http.head(f"/v1/customers/{customer}.json"),  # 200
        ]
        assert [answer.status_code for answer in answers] == [200, 400, 400, 413, 404, 200]
        burst_left = [11, 10, 9, 8, 7, 7]
        for sent, (answer, left) in enumerate(zip(answers, burst_left, strict=True), start=2):
            assert limits(answer) == headers(200 - sent, left), answer.request


# -- who is counted


def test_requests_without_a_live_key_carry_no_headers_and_use_no_accounts_budget(
    limited: Server, limited_clock: None
) -> None:
    account = new_account(limited.store)
    second_key = keys.generate_key()
    with limited.store.writing() as transaction:
        transaction.create_key(
            account.name, "second", keys.hash_key(second_key), second_key[:4], MOMENT
        )
        (revoked,) = [
            k for k in transaction.list_keys() if k.account == account.name and k.name == "second"
        ]
        assert transaction.revoke_key(revoked.id, MOMENT)
    limited.clock.freeze(MOMENT)
    for auth in (None, ("not-a-key", "X"), (second_key, "X")):
        with httpx.Client(base_url=limited.url, auth=auth, timeout=10) as http:
            for _ in range(3):
                response = http.get("/v1/customers.json")
                assert_error(response, 401, "Invalid API Key")
                assert limits(response) == {}
    with client_of(limited, account) as http:
        assert limits(http.get("/v1/customers.json")) == headers(199, 12)
    # Paths outside the API are never counted, key or not.
    with client_of(limited, account) as http:
        for path in ("/healthz", "/v1/openapi.json", "/docs"):
            response = http.get(path)
            assert response.status_code == 200
            assert limits(response) == {}
        assert limits(http.get("/v1/customers.json")) == headers(198, 12)


@pytest.mark.parametrize("workers", [1, 2], ids=["one-process", "processes"])
def test_requests_without_a_live_key_are_limited_by_the_address_they_come_from(
    store: SqlStore, workers: int
) -> None:
    """Trying keys is no way around the limits: requests without a live key count against the
    per-minute limit by address (in the process's memory, however an account's are counted),
    without `X-RateLimit-*` headers, since they have no account."""
    account = new_account(store)
    settings = replace(HELP_SCOUT, rate_limit=5, burst_limit=0, workers=workers)
    strangers = [
        {},
        {"Authorization": "Basic " + "bm90LWEta2V5Og=="},  # "not-a-key:"
        {"Authorization": "Basic !!!"},  # not base64
        {"Authorization": b"Basic \xc3\xa9"},  # not ASCII
        {"Authorization": "Bearer " + account.key},  # not Basic
    ]
    with running_server(store, settings, rate_limited=True) as server:
        server.clock.freeze(MOMENT)
        with httpx.Client(base_url=server.url, timeout=10) as http:
            for headers_sent in strangers:
                response = http.get("/v1/customers.json", headers=headers_sent)
                assert_error(response, 401, "Invalid API Key")
                assert limits(response) == {}
            for key in ("another-key", keys.generate_key()):
                refused = http.get("/v1/customers/1.json", auth=(key, "X"))
                assert_limited(refused, retry_after=49)
                assert limits(refused) == {}
            refused = http.post("/v1/customers.json", json={"firstName": "A"})
            assert_limited(refused, retry_after=49)
        # A live key has its account's budget, from the same address...
        with client_of(server, account) as http:
            response = http.get("/v1/customers.json")
            assert response.status_code == 200
            assert limits(response) == headers(4, None, limit=5)
        # ...and another address has a budget of its own.
        elsewhere = httpx.HTTPTransport(local_address="127.0.0.2")
        with httpx.Client(base_url=server.url, timeout=10, transport=elsewhere) as http:
            assert_error(http.get("/v1/customers.json"), 401, "Invalid API Key")
        with httpx.Client(base_url=server.url, timeout=10) as http:
            server.clock.advance(48.5)  # the next minute
            assert_error(http.get("/v1/customers.json"), 401, "Invalid API Key")


@pytest.mark.parametrize("rate_limited", [False, True], ids=["no-limits", "limits"])
@pytest.mark.parametrize("value", [b"Basic \xc3\xa9", b"Basic \xff\xfe", b"\xc3\xa9 abc"])
def test_an_authorization_header_that_is_not_ascii_is_a_401(
    store: SqlStore, rate_limited: bool, value: bytes
) -> None:
    """Not a 500: a header that cannot be read carries no key."""
    with (
        running_server(store, HELP_SCOUT, rate_limited=rate_limited) as server,
        httpx.Client(base_url=server.url, timeout=10) as http,
    ):
        for path in ("/v1/customers.json", "/v1/customers/1.json"):
            response = http.get(path, headers={"Authorization": value})
            assert_error(response, 401, "Invalid API Key")
            assert response.json() == {"code": 401, "error": "Invalid API Key"}


def test_every_key_of_an_account_shares_its_budget_and_accounts_do_not(
    limited: Server, limited_clock: None
) -> None:
    first = new_account(limited.store)
    second_key = keys.generate_key()
    with limited.store.writing() as transaction:
        transaction.create_key(first.name, "two", keys.hash_key(second_key), "abcd", MOMENT)
    other = new_account(limited.store)
    limited.clock.freeze(MOMENT)
    with (
        client_of(limited, first) as one,
        client_of(limited, Account(first.name, second_key)) as two,
        client_of(limited, other) as stranger,
    ):
        for sent in range(1, 201):
            response = (one if sent % 2 else two).get("/v1/customers.json")
            assert response.status_code == 200, sent
        assert_limited(one.get("/v1/customers.json"), 49)
        assert_limited(two.get("/v1/customers.json"), 49)
        response = stranger.get("/v1/customers.json")
        assert response.status_code == 200
        assert limits(response) == headers(199, 12)


@pytest.mark.parametrize("workers", [1, 2], ids=["one-process", "processes"])
def test_concurrent_requests_are_counted_exactly(store: SqlStore, workers: int) -> None:
    """Counted in memory (one process on SQLite) or by one atomic upsert per request (several,
    or PostgreSQL): of 60 requests at once, exactly 40 pass a limit of 40."""
    account = new_account(store)
    settings = replace(HELP_SCOUT, rate_limit=40, workers=workers)
    with running_server(store, settings, rate_limited=True) as server:
        server.clock.freeze(MOMENT)
        calls = [Call(server.url, "GET", "/v1/customers.json")] * 60
        outcomes = burst(calls, (account.key, "X"), concurrency=12)
    statuses = sorted(outcome.status or 0 for outcome in outcomes)
    assert statuses == [200] * 40 + [429] * 20, statuses
    left = sorted(int(o.headers["x-ratelimit-remaining-minute"]) for o in outcomes if o.headers)
    assert left == [0] * 21 + list(range(1, 40)), left


# -- configuration


def test_the_limits_are_configurable(store: SqlStore) -> None:
    account = new_account(store)
    settings = replace(HELP_SCOUT, rate_limit=15, burst_limit=0)
    with (
        running_server(store, settings, rate_limited=True) as server,
        client_of(server, account) as http,
    ):
        server.clock.freeze(MOMENT)
        for sent in range(1, 16):  # no burst limit: 15 writes in a row pass
            response = http.post("/v1/customers.json", json={"firstName": "A", "lastName": "B"})
            assert_empty(response, 201)
            assert limits(response) == headers(15 - sent, None, limit=15)
        assert_limited(http.get("/v1/customers.json"), retry_after=49)


def test_a_burst_limit_alone_counts_writes_only(store: SqlStore) -> None:
    account = new_account(store)
    settings = replace(HELP_SCOUT, rate_limit=0, burst_limit=2)
    burst_only = {
        "x-ratelimit-interval-burst": "5",
        "x-ratelimit-limit-burst": "2",
    }
    with (
        running_server(store, settings, rate_limited=True) as server,
        client_of(server, account) as http,
    ):
        server.clock.freeze(MOMENT)
        for _ in range(3):  # GETs are not limited, and show the burst left
            response = http.get("/v1/customers.json")
            assert response.status_code == 200
            assert limits(response) == burst_only | {"x-ratelimit-remaining-burst": "2"}
        for left in (1, 0):
            response = http.post("/v1/customers.json", json={"firstName": "A", "lastName": "B"})
            assert_empty(response, 201)
            assert limits(response) == burst_only | {"x-ratelimit-remaining-burst": str(left)}
        refused = http.post("/v1/customers.json", json={"firstName": "A", "lastName": "B"})
        assert_limited(refused, retry_after=4)
        assert limits(refused) == burst_only | {"x-ratelimit-remaining-burst": "0"}
        assert customer_count(store, account.key) == 2


def test_a_rate_limit_of_0_turns_them_off(client: httpx.Client) -> None:
    """The shared test server runs with `rate_limit=0`: no headers, no limit."""
    for _ in range(15):
        response = client.post("/v1/customers.json", json={"firstName": "A", "lastName": "B"})
        assert_empty(response, 201)
        assert limits(response) == {}


def test_settings_read_the_limits_from_the_environment() -> None:
    assert Settings().rate_limit == 0 and Settings().burst_limit == 0  # off unless asked for
    loaded = load_settings(
        {
            "OPENSCOUT_RATE_LIMIT": "0",
            "OPENSCOUT_BURST_LIMIT": "3",
            "OPENSCOUT_REDIS_URL": "redis://127.0.0.1:6379/2",
            "OPENSCOUT_ACCESS_LOG": "false",
        }
    )
    assert (loaded.rate_limit, loaded.burst_limit, loaded.redis_url, loaded.access_log) == (
        0,
        3,
        "redis://127.0.0.1:6379/2",
        False,
    )
    with pytest.raises(SettingsError) as refused:
        load_settings({"OPENSCOUT_RATE_LIMIT": "-1", "OPENSCOUT_ACCESS_LOG": "maybe"})
    assert str(refused.value) == (
        "OPENSCOUT_RATE_LIMIT='-1' is too small; OPENSCOUT_ACCESS_LOG='maybe' is not true or false"
    )


def test_helpscout_limits_mean_200_a_minute_and_12_writes_per_5_seconds() -> None:
    for value in ("1", "true", "yes"):
        loaded = load_settings({"OPENSCOUT_HELPSCOUT_LIMITS": value})
        assert (loaded.rate_limit, loaded.burst_limit) == (200, 12)
    loaded = load_settings({"OPENSCOUT_HELPSCOUT_LIMITS": "0", "OPENSCOUT_RATE_LIMIT": "7"})
    assert (loaded.rate_limit, loaded.burst_limit) == (7, 0)
    with pytest.raises(SettingsError) as refused:
        load_settings({"OPENSCOUT_HELPSCOUT_LIMITS": "1", "OPENSCOUT_BURST_LIMIT": "3"})
    assert "OPENSCOUT_HELPSCOUT_LIMITS means a rate limit of 200 and a burst limit of 12" in str(
        refused.value
    )
    with pytest.raises(SettingsError) as refused:
        load_settings({"OPENSCOUT_HELPSCOUT_LIMITS": "maybe"})
    assert str(refused.value) == "OPENSCOUT_HELPSCOUT_LIMITS='maybe' is not true or false"


@pytest.mark.parametrize("option", ["--rate-limit", "--burst-limit"])
def test_helpscout_limits_with_a_limit_of_its_own_is_a_usage_error(
    option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--helpscout-limits", option, "5"]) == 2
    assert capsys.readouterr().err == (
        "openscout: bad setting: --helpscout-limits means --rate-limit 200 --burst-limit 12: "
        "give one or the other\n"
    )


def test_serve_has_no_limits_unless_asked_and_counts_in_memory_with_helpscout_limits(
    tmp_path: Path,
) -> None:
    """A real `openscout serve` on SQLite: no headers by default; Help Scout's numbers with
    `--helpscout-limits` (`OPENSCOUT_HELPSCOUT_LIMITS`), counted in the memory of its one
    process: no `rate_limits` row is written."""
    url = f"sqlite:///{tmp_path / 'limits.db'}"
    store = migrated_store(url)
    try:
        account = new_account(store)
        body = {"firstName": "A", "lastName": "B"}
        for options in ([], ["--helpscout-limits"]):
            server = ServeProcess(url, tmp_path / "serve.log", plain=True, options=options)
            try:
                server.start().wait_ready()
                with httpx.Client(base_url=server.url, auth=(account.key, "X")) as http:
                    got = http.get("/v1/customers.json")
                    created = http.post("/v1/customers.json", json=body)
            finally:
                server.stop()
            assert (got.status_code, created.status_code) == (200, 201)
            if not options:
                assert limits(got) == limits(created) == {}
                continue
            assert limits(got) == headers(199, 12)  # the account's first request
            left = limits(created)
            # Its second: 198 left, or 199 if a minute began in between.
            assert left.pop("x-ratelimit-remaining-minute") in ("198", "199")
            assert left == {k: v for k, v in headers(198, 11).items() if "remaining-m" not in k}
        with store.reading() as transaction:
            rows = transaction.connection.exec_driver_sql("SELECT count(*) FROM rate_limits")
            assert rows.scalar_one() == 0
    finally:
        store.close()


@pytest.mark.parametrize(
    "options", [["--rate-limit", "-1"], ["--burst-limit", "x"], ["--log-level", "trace"]]
)
def test_serve_refuses_bad_limits(options: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", *options]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"openscout: bad setting: {options[0]}={options[1]} ")


# -- Redis


def redis_settings(store: SqlStore, **changes: int) -> Settings:
    """Help Scout's limits counted in Redis, for servers of `store`: the Redis keys are named
    for the database, so the settings carry its URL, as `serve`'s do."""
    url = store.engine.url.render_as_string(hide_password=False)
    return replace(HELP_SCOUT, redis_url=redis_url(), database_url=url, **changes)


def test_redis_counts_like_the_database_and_servers_on_one_database_share_it(
    store: SqlStore,
) -> None:
    settings = redis_settings(store, rate_limit=5, burst_limit=2)
    account = new_account(store)
    with (
        running_server(store, settings, rate_limited=True) as one,
        running_server(store, settings, rate_limited=True) as two,
        client_of(one, account) as first,
        client_of(two, account) as second,
    ):
        for server in (one, two):
            server.clock.freeze(MOMENT)
        body = {"firstName": "A", "lastName": "B"}
        answers = [
            first.post("/v1/customers.json", json=body),
            second.post("/v1/customers.json", json=body),
            first.post("/v1/customers.json", json=body),
            second.get("/v1/customers.json"),
            first.get("/v1/customers.json"),
        ]
        assert [a.status_code for a in answers] == [201, 201, 429, 200, 200]
        expected = [(4, 1), (3, 0), (2, 0), (1, 0), (0, 0)]
        for answer, (minute, burst_left) in zip(answers, expected, strict=True):
            assert limits(answer) == headers(minute, burst_left, limit=5, burst_limit=2)
        assert answers[2].headers["retry-after"] == "4"
        assert_limited(second.get("/v1/customers.json"), retry_after=49)
        assert customer_count(store, account.key) == 2

        for server in (one, two):
            server.clock.advance(48.5)
        response = second.get("/v1/customers.json")
        assert limits(response) == headers(4, 2, limit=5, burst_limit=2)


def test_redis_keeps_one_expiring_counter_per_account_period_and_window(store: SqlStore) -> None:
    import redis

    settings = redis_settings(store)
    account = new_account(store)
    with store.reading() as transaction:
        account_id = transaction.account_for_key(keys.hash_key(account.key))
    with running_server(store, settings, rate_limited=True) as server:
        server.clock.freeze(MOMENT)
        with client_of(server, account) as http:
            body = {"firstName": "A", "lastName": "B"}
            assert http.post("/v1/customers.json", json=body).status_code == 201
            assert http.get("/v1/customers.json").status_code == 200
    prefix = RedisCounters(settings.redis_url or "", settings.database_url).prefix
    client = redis.Redis.from_url(settings.redis_url or "")
    try:
        found = {
            name.decode(): (int(client.get(name) or 0), client.ttl(name))
            for name in client.scan_iter(f"{prefix}:ratelimit:{account_id}:*")
        }
    finally:
        client.close()
    minute = int(MOMENT.timestamp()) // 60 * 60
    burst_start = int(MOMENT.timestamp()) // 5 * 5
    counts = {
        name.removeprefix(f"{prefix}:ratelimit:{account_id}:"): n for name, (n, _) in found.items()
    }
    assert counts == {f"minute:{minute}": 2, f"burst:{burst_start}": 1}
    assert all(0 < ttl <= 120 for _count, ttl in found.values()), found


def test_an_unreachable_redis_is_503_and_nothing_is_written(store: SqlStore) -> None:
    account = new_account(store)
    settings = replace(HELP_SCOUT, redis_url="redis://127.0.0.1:1/0")  # nothing listens there
    with (
        running_server(store, settings, rate_limited=True) as server,
        client_of(server, account) as http,
    ):
        response = http.post("/v1/customers.json", json={"firstName": "A", "lastName": "B"})
        assert_error(response, 503, "The service is temporarily unavailable")
        assert response.headers["retry-after"] == "5"
        assert limits(response) == {}
        assert customer_count(store, account.key) == 0
        assert http.get("/healthz").status_code == 200  # the database itself is fine


# -- several processes on one database


def _counted_by_turns(urls: list[str], accounts: list[Account], limit: int) -> list[httpx.Response]:
    """`limit` + 2 GETs sent to the servers in turn, within one real minute: when a minute ends
    on the way (a count goes back up), again with the next fresh account (bounded)."""
    for account in accounts:
        answers = []
        for n in range(limit + 2):
            with httpx.Client(base_url=urls[n % len(urls)], auth=(account.key, "X")) as http:
                answers.append(http.get("/v1/customers.json"))
        left = [int(a.headers["x-ratelimit-remaining-minute"]) for a in answers]
        if left == sorted(left, reverse=True):
            return answers
    raise AssertionError(f"a minute ended during each of {len(accounts)} attempts")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("counted_in", ["database", "redis"])
def test_servers_on_one_database_count_together(
    backend: str, counted_in: str, tmp_path: Path
) -> None:
    options = ["--rate-limit", "6", "--burst-limit", "0"]
    if counted_in == "redis":
        options += ["--redis-url", redis_url()]
    # One worker on SQLite counts in its own memory; two count in the database.
    workers = 2 if backend == "sqlite" and counted_in == "database" else 1
    with fresh_database(backend, tmp_path) as url:
        store = migrated_store(url)
        try:
            accounts = [new_account(store) for _ in range(3)]
        finally:
            store.close()
        with serving(url, tmp_path, 2, workers=workers, options=options) as servers:
            answers = _counted_by_turns([s.url for s in servers], accounts, limit=6)
    assert [answer.status_code for answer in answers] == [200] * 6 + [429, 429]
    left = [answer.headers["x-ratelimit-remaining-minute"] for answer in answers]
    assert left == ["5", "4", "3", "2", "1", "0", "0", "0"]
    assert answers[6].json() == LIMITED
    assert answers[7].json() == LIMITED


def test_a_counter_that_fails_unexpectedly_is_a_500_in_v1s_shape(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The limits run outside the app's own error handler: they answer for themselves. (The
    counts are in the database: two workers.)"""
    store = migrated_store(f"sqlite:///{tmp_path / 'broken.db'}")
    try:
        account = new_account(store)
        with store.writing() as transaction:
            transaction.connection.exec_driver_sql("DROP TABLE rate_limits")
        with (
            running_server(store, replace(HELP_SCOUT, workers=2), rate_limited=True) as server,
            client_of(server, account) as http,
        ):
            for _ in range(2):  # and the server goes on answering
                response = http.get("/v1/customers.json")
                assert_error(response, 500, "An unexpected error occurred")
                assert response.json() == {"code": 500, "error": "An unexpected error occurred"}
                assert response.headers["access-control-allow-origin"] == "*"
                assert response.headers["correlation-id"]
            assert http.get("/healthz").status_code == 200
    finally:
        store.close()
    logged = "\n".join(record.getMessage() + str(record.exc_info) for record in caplog.records)
    assert "unexpected error" in logged
    assert account.key not in logged and keys.hash_key(account.key) not in logged


# -- counting in memory


def test_memory_counts_are_kept_per_key_and_period_for_two_windows_at_most() -> None:
    counters = MemoryCounters()
    assert counters.count(1, [Hit("minute", 60), Hit("burst", 60)]) == {"minute": 1, "burst": 1}
    assert counters.count(1, [Hit("minute", 60), Hit("burst", 60, 0)]) == {"minute": 2, "burst": 1}
    assert counters.count(2, [Hit("minute", 60)]) == {"minute": 1}
    # A later window starts a new count; a hit of an earlier one adds to the key's current one.
    assert counters.count(1, [Hit("minute", 120)]) == {"minute": 1}
    assert counters.count(1, [Hit("minute", 60)]) == {"minute": 2}
    assert counters.count(2, [Hit("minute", 60)]) == {"minute": 2}
    assert counters.periods["minute"] == (120, {1: (120, 2), 2: (60, 2)})
    # Once the newest window moves on, the counts of windows before the last are dropped.
    assert counters.count(3, [Hit("minute", 180)]) == {"minute": 1}
    assert counters.periods["minute"] == (180, {1: (120, 2), 3: (180, 1)})
    assert counters.periods["burst"] == (60, {1: (60, 1)})


def test_memory_counts_of_addresses_are_bounded() -> None:
    """Past `max_keys` keys, new keys share one count: a flood of addresses cannot fill the
    memory, and is limited together."""
    counters = MemoryCounters(max_keys=3)
    for address in ("a", "b", "c"):
        assert counters.count(address, [Hit("minute", 0)]) == {"minute": 1}
    assert counters.count("d", [Hit("minute", 0)]) == {"minute": 1}
    assert counters.count("e", [Hit("minute", 0)]) == {"minute": 2}
    assert counters.count("a", [Hit("minute", 0)]) == {"minute": 2}
    assert len(counters.periods["minute"][1]) == 4
    assert counters.count("e", [Hit("minute", 120)]) == {"minute": 1}  # two windows later
    assert list(counters.periods["minute"][1]) == ["e"]
