"""Webhooks in the testing toolkit: the control API's webhook endpoints, `HelpScoutServer`'s
`webhooks` and `deliveries()` with a receiver in the test's process, and the `helpscout`
fixture as an outside project uses it."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from openscout.domain.webhooks import signature
from openscout.testing import ControlError, HelpScoutServer

CONTROL = "/_openscout"
ANN = {"firstName": "Ann", "lastName": "Lee"}


def eventually(check: Callable[[], bool], timeout: float = 20.0) -> None:
    """Wait until `check()` holds: the server delivers beside the test."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "it never happened"
        time.sleep(0.02)


def hook(url: str = "https://example.com/in", **more: Any) -> dict[str, Any]:
    return {"url": url, "secret": "s3cret", "events": ["customer.created"], **more}


# -- the control API


def test_the_control_api_makes_lists_and_deletes_an_accounts_webhooks(
    http: httpx.Client, other: httpx.Client
) -> None:
    made = http.post(f"{CONTROL}/webhooks", json=hook(label="crm", notification=True))
    assert made.status_code == 201
    body = made.json()
    assert "secret" not in body
    assert {k: body[k] for k in ("url", "events", "notification", "label", "state")} == {
        "url": "https://example.com/in",
        "events": ["customer.created"],
        "notification": True,
        "label": "crm",
        "state": "enabled",
    }
    assert [w["id"] for w in http.get(f"{CONTROL}/webhooks").json()["webhooks"]] == [body["id"]]
    assert other.get(f"{CONTROL}/webhooks").json() == {"webhooks": []}
    assert other.delete(f"{CONTROL}/webhooks/{body['id']}").status_code == 404
    assert other.get(f"{CONTROL}/webhooks/{body['id']}/deliveries").status_code == 404
    assert http.get(f"{CONTROL}/webhooks/{body['id']}/deliveries").json() == {"deliveries": []}
    assert http.delete(f"{CONTROL}/webhooks/{body['id']}").status_code == 204
    assert http.delete(f"{CONTROL}/webhooks/{body['id']}").status_code == 404
    missing = http.post(f"{CONTROL}/deliveries/0b5f4e55-0000-4000-8000-000000000000/redeliver")
    assert missing.status_code == 404


def test_the_control_api_refuses_a_webhook_as_help_scout_would(http: httpx.Client) -> None:
    refused = http.post(
        f"{CONTROL}/webhooks",
        json={"url": "ftp://x", "secret": "s" * 41, "events": ["customer.created", "nope"]},
    )
    assert refused.status_code == 400
    problems = {(p["property"], p["value"]) for p in refused.json()["validationErrors"]}
    assert problems == {("url", "ftp://x"), ("secret", "s" * 41), ("events", "nope")}
    wrong_types = http.post(f"{CONTROL}/webhooks", json={"url": 5, "secret": "s", "events": "x"})
    assert wrong_types.status_code == 400
    assert {p["property"] for p in wrong_types.json()["validationErrors"]} == {"url", "events"}
    assert http.post(f"{CONTROL}/webhooks", content=b"[1]").status_code == 400


# -- HelpScoutServer


@pytest.fixture(scope="module")
def hs() -> Any:
    with HelpScoutServer() as server:
        yield server


def test_a_subscribed_account_gets_its_events_signed_in_order(hs: HelpScoutServer) -> None:
    account = hs.new_account()
    try:
        subscription = account.webhooks.subscribe()
        with httpx.Client(auth=account.auth, timeout=10) as http:
            created = http.post(account.url("/v1/customers.json?reload=true"), json=ANN)
            customer_id = created.json()["item"]["id"]
            http.put(account.url(f"/v1/customers/{customer_id}.json"), json={"lastName": "Ng"})
        first, second = account.deliveries(count=2)
        assert (first.event, second.event) == ("customer.created", "customer.updated")
        assert second.json["lastName"] == "Ng" and second.json["id"] == customer_id
        assert first.headers["x-helpscout-signature"] == signature(subscription.secret, first.body)
        assert account.deliveries("customer.updated") == [second]
    finally:
        account.close()


def test_receiver_failures_are_retried_and_seen_in_the_log(hs: HelpScoutServer) -> None:
    account = hs.new_account()
    try:
        subscription = account.webhooks.subscribe(["customer.created"])
        account.webhooks.fail_next(2, 500)
        httpx.post(account.url("/v1/customers.json"), auth=account.auth, json=ANN)
        [delivery] = account.deliveries(count=1)
        statuses = [r.status for r in account.webhooks.receiver.received()]
        assert statuses == [500, 500, 200]
        [logged] = account.webhooks.log(subscription)
        assert logged["eventId"] == delivery.event_id
        assert [t["status"] for t in logged["tries"]][:2] == [500, 500]
    finally:
        account.close()


def test_a_410_from_the_receiver_disables_the_webhook(hs: HelpScoutServer) -> None:
    account = hs.new_account()
    try:
        subscription = account.webhooks.subscribe(["customer.created"])
        account.webhooks.fail_next(1, 410)
        httpx.post(account.url("/v1/customers.json"), auth=account.auth, json=ANN)
        eventually(lambda: account.webhooks.get(subscription)["state"] == "disabled")
        [logged] = account.webhooks.log(subscription)
        assert (logged["state"], logged["lastStatus"]) == ("failed", 410)
    finally:
        account.close()


def test_an_event_can_be_delivered_again(hs: HelpScoutServer) -> None:
    account = hs.new_account()
    try:
        account.webhooks.subscribe(["customer.created"])
        httpx.post(account.url("/v1/customers.json"), auth=account.auth, json=ANN)
        [first] = account.deliveries(count=1)
        assert first.event_id is not None
        webhook_id = account.webhooks.all()[0]["id"]
        eventually(lambda: account.webhooks.log(webhook_id)[0]["state"] == "delivered")
        account.webhooks.redeliver(first.event_id)
        _, again = account.deliveries(count=2)
        assert (again.event_id, again.body) == (first.event_id, first.body)
    finally:
        account.close()


def test_subscribing_is_checked_by_the_server(hs: HelpScoutServer) -> None:
    with pytest.raises(ControlError) as refused:
        hs.webhooks.subscribe(["customer.merged"])
    assert refused.value.status == 400


def test_closing_deletes_the_webhooks_it_made(hs: HelpScoutServer) -> None:
    account = hs.new_account()
    account.webhooks.subscribe()
    assert len(account.webhooks.all()) == 1
    account.close()
    assert account.webhooks.all() == []
    assert not account.webhooks.receiver.is_running


# -- the pytest plugin

PROJECT_TESTS = """
import httpx


def test_a_create_arrives_as_a_webhook(helpscout):
    helpscout.webhooks.subscribe(["customer.created"])
    httpx.post(helpscout.url("/v1/customers.json"), auth=helpscout.auth,
               json={"firstName": "Ann", "lastName": "Lee"})
    [delivery] = helpscout.deliveries(count=1)
    assert delivery.event == "customer.created"
    assert delivery.signature_valid


def test_a_failing_receiver_is_retried(helpscout):
    helpscout.webhooks.subscribe(["customer.created"])
    helpscout.webhooks.fail_next(1, 500)
    httpx.post(helpscout.url("/v1/customers.json"), auth=helpscout.auth,
               json={"firstName": "Bo", "lastName": "Ek"})
    helpscout.deliveries(count=1)
    assert [d.status for d in helpscout.webhooks.receiver.received()] == [500, 200]
"""


def test_an_outside_project_asserts_on_its_webhooks(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        """
        [pytest]
        addopts = -p no:cacheprovider -p no:schemathesis -p no:hypothesispytest -p no:anyio
            --strict-markers --strict-config
        filterwarnings = error
        """
    )
    pytester.makepyfile(test_hooks=textwrap.dedent(PROJECT_TESTS))
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=2)
