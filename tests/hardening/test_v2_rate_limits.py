"""v2's rate limits (spec helpscout-v2-customers.md §6, §8a.13; docs/decisions/v2-rate-limits.md):
the account's minute, shared with v1, where a v2 write counts twice; v2's two headers on every
answer to a live credential; on a 429, `X-RateLimit-Retry-After` and `Retry-After`, and a
vnd.error body. No burst limit in v2."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import httpx

from openscout.config import Settings
from openscout.store.engine import SqlStore
from tests.conftest import Account, Server, new_account, running_server
from tests.hardening.test_rate_limits import MOMENT, limits
from tests.helpers import customer_count
from tests.http.v2.conftest import v2_auth
from tests.http.v2.shapes import assert_created, assert_vnd_error


def minute(remaining: int, limit: int = 200) -> dict[str, str]:
    """v2's headers with `remaining` requests left in the minute."""
    return {
        "x-ratelimit-limit-minute": str(limit),
        "x-ratelimit-remaining-minute": str(remaining),
    }


@contextmanager
def v2_client(
    server: Server, account: Account, issued: datetime | None = MOMENT
) -> Iterator[httpx.Client]:
    """A v2 client of the account, with a token issued at `issued` (the frozen server clock's
    moment: a token issued now would have expired by then)."""
    auth = v2_auth(server.store, account, now=issued)
    with httpx.Client(base_url=server.url, auth=auth, timeout=10) as http:
        yield http


def test_reads_count_once_and_writes_twice_with_v2s_headers(
    limited: Server, limited_clock: None
) -> None:
    account = new_account(limited.store)
    limited.clock.freeze(MOMENT)
    with v2_client(limited, account) as http:
        assert limits(http.get("/v2/customers")) == minute(199)
        created = http.post("/v2/customers", json={"firstName": "Ann"})
        customer = assert_created(created)
        assert limits(created) == minute(197)
        assert limits(http.get(f"/v2/customers/{customer}")) == minute(196)
        assert limits(http.put(f"/v2/customers/{customer}", json={})) == minute(194)
        # Counted before the route: a refused PATCH or an unserved DELETE weighs 2 as well.
        assert limits(http.patch(f"/v2/customers/{customer}", content=b"{")) == minute(192)
        assert limits(http.delete("/v2/customers")) == minute(190)
        assert limits(http.get("/v2/nothing")) == minute(189)


def test_v2_has_no_burst_limit(limited: Server, limited_clock: None) -> None:
    """v1 takes 12 writes per 5 seconds; v2's writes are counted by the minute only."""
    account = new_account(limited.store)
    limited.clock.freeze(MOMENT)
    with v2_client(limited, account) as http:
        for sent in range(1, 21):
            response = http.post("/v2/customers", json={"firstName": f"N{sent}"})
            assert_created(response)
            assert limits(response) == minute(200 - 2 * sent)
    assert customer_count(limited.store, account.key) == 20


def test_over_the_minute_a_v2_request_gets_a_429_in_v2s_shape(
    limited: Server, limited_clock: None
) -> None:
    account = new_account(limited.store)
    limited.clock.freeze(MOMENT)  # 48.5 seconds of the minute left
    with v2_client(limited, account) as http:
        for _ in range(199):
            assert http.get("/v2/customers").status_code == 200
        # One unit left: a read would pass, a write (2) does not, and is not run.
        refused = http.post("/v2/customers", json={"firstName": "Ann"})
        assert_vnd_error(refused, 429, "API rate limit exceeded")
        assert refused.headers["retry-after"] == "49"
        assert refused.headers["x-ratelimit-retry-after"] == "49"
        assert limits(refused) == {**minute(0), "x-ratelimit-retry-after": "49"}
        assert customer_count(limited.store, account.key) == 0
        assert_vnd_error(http.get("/v2/customers"), 429)  # refused requests count too
        limited.clock.advance(48.5)  # the next minute
        assert limits(http.get("/v2/customers")) == minute(199)


def test_v1_and_v2_share_the_accounts_minute_each_with_its_own_headers(
    limited: Server, limited_clock: None
) -> None:
    account = new_account(limited.store)
    limited.clock.freeze(MOMENT)
    with (
        v2_client(limited, account) as v2,
        httpx.Client(base_url=limited.url, auth=(account.key, "X"), timeout=10) as v1,
    ):
        assert limits(v2.post("/v2/customers", json={})) == minute(198)
        v1_answer = v1.get("/v1/customers.json")
        assert limits(v1_answer) == {
            "x-ratelimit-interval-minute": "60",
            "x-ratelimit-limit-minute": "200",
            "x-ratelimit-remaining-minute": "197",
            "x-ratelimit-interval-burst": "5",
            "x-ratelimit-limit-burst": "12",
            "x-ratelimit-remaining-burst": "12",  # v2's write was not a burst write
        }
        assert limits(v2.get("/v2/customers")) == minute(196)


def test_v2_requests_without_a_live_credential_carry_no_headers(
    limited: Server, limited_clock: None
) -> None:
    limited.clock.freeze(MOMENT)
    with httpx.Client(base_url=limited.url, timeout=10) as anonymous:
        response = anonymous.get("/v2/customers")
        assert_vnd_error(response, 401)
        assert limits(response) == {}


def test_with_a_burst_limit_alone_v2_is_not_counted(store: SqlStore) -> None:
    settings = Settings(rate_limit=0, burst_limit=2, access_log=False)
    account = new_account(store)
    with (
        running_server(store, settings, rate_limited=True) as server,
        v2_client(server, account, issued=None) as http,
    ):
        for _ in range(5):
            response = http.post("/v2/customers", json={})
            assert_created(response)
            assert limits(response) == {}
