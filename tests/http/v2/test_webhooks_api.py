"""Help Scout's webhook admin API (v2 spec §7 "Admin API", docs/webhooks.md) through a real
server, on both backends: create, list, read, replace, delete; every problem of a body at once;
each account its own webhooks; the secret never shown; and a subscription made here delivers
the v2 writes' events, signed."""

from __future__ import annotations

from typing import Any

import httpx

from openscout.domain.webhooks import State, is_signed
from openscout.testing.receiver import WebhookReceiver
from openscout.webhooks import service as webhooks
from tests.conftest import (
    Server,
    new_account,
)
from tests.http.test_webhooks import eventually
from tests.http.v2.conftest import v2_auth
from tests.http.v2.shapes import HAL, PAGE_KEYS, VND_ERROR

SECRET = "s3cr3t-of-forty-characters-at-most"
WEBHOOK_KEYS = (
    "id",
    "url",
    "state",
    "events",
    "notification",
    "payloadVersion",
    "label",
    "mailboxIds",
    "_links",
)


def body(**fields: Any) -> dict[str, Any]:
    return {
        "url": "https://hooks.example.com/helpscout",
        "events": ["customer.created", "convo.created"],
        "secret": SECRET,
        **fields,
    }


def create(http: httpx.Client, **fields: Any) -> int:
    response = http.post("/v2/webhooks", json=body(**fields))
    assert response.status_code == 201, response.text
    return int(response.headers["resource-id"])


def errors(response: httpx.Response) -> dict[str, tuple[str, Any]]:
    """A 400's field errors, by path: (message, rejected value)."""
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == VND_ERROR
    return {
        error["path"]: (error["message"], error.get("rejectedValue"))
        for error in response.json()["_embedded"]["errors"]
    }


def test_a_created_webhook_is_shown_as_asked_and_without_its_secret(
    v2: httpx.Client, server: Server
) -> None:
    response = v2.post(
        "/v2/webhooks",
        json=body(notification=True, label="CRM sync", mailboxIds=[7, 8], payloadVersion="V2"),
    )
    assert response.status_code == 201
    assert response.content == b""
    webhook_id = int(response.headers["resource-id"])
    assert response.headers["location"] == f"{server.url}/v2/webhooks/{webhook_id}"
    shown = v2.get(f"/v2/webhooks/{webhook_id}")
    assert shown.status_code == 200
    assert shown.headers["content-type"] == HAL
    assert shown.json() == {
        "id": webhook_id,
        "url": "https://hooks.example.com/helpscout",
        "state": "enabled",
        "events": ["customer.created", "convo.created"],
        "notification": True,
        "payloadVersion": "V2",
        "label": "CRM sync",
        "mailboxIds": [7, 8],
        "_links": {"self": {"href": f"{server.url}/v2/webhooks/{webhook_id}"}},
    }
    assert SECRET not in shown.text
    assert SECRET not in v2.get("/v2/webhooks").text


def test_defaults_of_a_webhook(v2: httpx.Client) -> None:
    webhook_id = create(v2)
    shown = v2.get(f"/v2/webhooks/{webhook_id}").json()
    assert tuple(shown) == WEBHOOK_KEYS
    assert (shown["notification"], shown["payloadVersion"], shown["label"]) == (False, "V2", None)
    assert shown["mailboxIds"] == []


def test_the_list_holds_the_accounts_webhooks_as_a_hal_page(
    v2: httpx.Client, server: Server
) -> None:
    empty = v2.get("/v2/webhooks")
    assert empty.status_code == 200
    assert empty.headers["content-type"] == HAL
    assert empty.json()["_embedded"] == {"webhooks": []}
    assert empty.json()["page"] == {"size": 50, "totalElements": 0, "totalPages": 0, "number": 1}
    first, second = create(v2), create(v2, url="http://127.0.0.1:9/other")
    listed = v2.get("/v2/webhooks").json()
    assert [item["id"] for item in listed["_embedded"]["webhooks"]] == [first, second]
    assert tuple(listed["page"]) == PAGE_KEYS
    assert listed["page"]["totalElements"] == 2
    assert listed["_links"]["self"]["href"] == f"{server.url}/v2/webhooks?page=1"
    assert listed["_links"]["page"] == {
        "href": f"{server.url}/v2/webhooks{{?page}}",
        "templated": True,
    }
    assert "next" not in listed["_links"]
    beyond = v2.get("/v2/webhooks", params={"page": 2}).json()
    assert beyond["_embedded"] == {"webhooks": []}
    assert beyond["page"]["number"] == 2
    refused = v2.get("/v2/webhooks", params={"page": "zero"})
    assert refused.status_code == 400
    assert refused.headers["content-type"] == VND_ERROR


def test_a_put_overwrites_the_settings(v2: httpx.Client, server: Server) -> None:
    webhook_id = create(v2, label="old", notification=True)
    response = v2.put(
        f"/v2/webhooks/{webhook_id}",
        json=body(url="https://new.example.com/in", events=["customer.deleted"], secret="other"),
    )
    assert response.status_code == 204
    assert response.content == b""
    shown = v2.get(f"/v2/webhooks/{webhook_id}").json()
    assert shown["url"] == "https://new.example.com/in"
    assert shown["events"] == ["customer.deleted"]
    assert (shown["label"], shown["notification"], shown["state"]) == (None, False, "enabled")
    stored = webhooks.get_webhook(server.store, None, webhook_id)
    assert stored.secret == "other"
    assert stored.state is State.ENABLED


def test_a_put_is_checked_as_a_create(v2: httpx.Client) -> None:
    webhook_id = create(v2)
    response = v2.put(f"/v2/webhooks/{webhook_id}", json={"url": "ftp://x", "secret": "s"})
    assert set(errors(response)) == {"url", "events"}
    assert v2.get(f"/v2/webhooks/{webhook_id}").json()["url"] == body()["url"]


def test_a_delete_removes_the_webhook(v2: httpx.Client) -> None:
    webhook_id = create(v2)
    response = v2.delete(f"/v2/webhooks/{webhook_id}")
    assert response.status_code == 204
    assert response.content == b""
    gone = v2.get(f"/v2/webhooks/{webhook_id}")
    assert gone.status_code == 404
    assert gone.headers["content-type"] == VND_ERROR
    assert gone.json()["message"] == "Resource not found"
    assert v2.delete(f"/v2/webhooks/{webhook_id}").status_code == 404
    assert v2.get("/v2/webhooks").json()["_embedded"]["webhooks"] == []


def test_every_problem_of_a_body_is_told_at_once(v2: httpx.Client) -> None:
    response = v2.post(
        "/v2/webhooks",
        json={
            "url": "ftp://hooks.example.com",
            "events": ["customer.created", "customer.exploded"],
            "secret": "x" * 41,
            "payloadVersion": "V1",
            "notification": "yes",
            "mailboxIds": [0],
        },
    )
    found = errors(response)
    assert set(found) == {"url", "events", "secret", "payloadVersion", "notification", "mailboxIds"}
    assert found["secret"] == ("size must be between 1 and 40", "x" * 41)
    assert found["url"][1] == "ftp://hooks.example.com"
    assert found["events"][1] == "customer.exploded"
    assert found["payloadVersion"][1] == "V1"
    assert found["mailboxIds"][1] == [0]


def test_the_required_fields_are_told_missing_together(v2: httpx.Client) -> None:
    found = errors(v2.post("/v2/webhooks", json={}))
    assert set(found) == {"url", "events", "secret"}
    assert found["url"] == ("may not be null", None)
    assert set(errors(v2.post("/v2/webhooks", json=body(events=[])))) == {"events"}


def test_a_body_that_is_not_an_object_is_malformed(v2: httpx.Client) -> None:
    response = v2.post("/v2/webhooks", content=b"[1]", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.headers["content-type"] == VND_ERROR
    assert v2.get("/v2/webhooks").json()["_embedded"]["webhooks"] == []


def test_events_openscout_never_fires_are_kept(v2: httpx.Client) -> None:
    webhook_id = create(v2, events=["tag.created", "satisfaction.ratings"])
    shown = v2.get(f"/v2/webhooks/{webhook_id}").json()
    assert shown["events"] == ["tag.created", "satisfaction.ratings"]


def test_another_accounts_webhook_is_not_found(v2: httpx.Client, server: Server) -> None:
    webhook_id = create(v2)
    other = new_account(server.store)
    with httpx.Client(base_url=server.url, auth=v2_auth(server.store, other), timeout=10) as them:
        assert them.get("/v2/webhooks").json()["_embedded"]["webhooks"] == []
        for response in (
            them.get(f"/v2/webhooks/{webhook_id}"),
            them.put(f"/v2/webhooks/{webhook_id}", json=body(label="theirs")),
            them.delete(f"/v2/webhooks/{webhook_id}"),
        ):
            assert response.status_code == 404
            assert response.headers["content-type"] == VND_ERROR
    assert v2.get(f"/v2/webhooks/{webhook_id}").json()["label"] is None
    for unknown in ("999999999", "0", "2147483648", "1" + "0" * 30):
        assert v2.get(f"/v2/webhooks/{unknown}").status_code == 404
        assert v2.put(f"/v2/webhooks/{unknown}", json=body()).status_code == 404
        assert v2.delete(f"/v2/webhooks/{unknown}").status_code == 404


def test_a_v1_key_is_refused(client: httpx.Client, v2: httpx.Client) -> None:
    for response in (
        client.get("/v2/webhooks"),
        client.post("/v2/webhooks", json=body()),
    ):
        assert response.status_code == 401
        assert response.headers["content-type"] == VND_ERROR
    assert v2.get("/v2/webhooks").json()["_embedded"]["webhooks"] == []


# -- end to end: a subscription made here delivers the v2 writes' events


def test_a_webhook_subscribed_here_gets_v2_updates_and_deletes_signed(
    hooks_server: Server,
) -> None:
    account = new_account(hooks_server.store)
    auth = v2_auth(hooks_server.store, account)
    with (
        WebhookReceiver() as receiver,
        httpx.Client(base_url=hooks_server.url, auth=auth, timeout=10) as http,
    ):
        url, secret = receiver.endpoint()
        wanted = {"url": url, "secret": secret, "events": ["customer.updated", "customer.deleted"]}
        made = http.post("/v2/webhooks", json=wanted)
        assert made.status_code == 201, made.text
        created = http.post("/v2/customers", json={"firstName": "Ann", "lastName": "Lee"})
        assert created.status_code == 201
        customer_id = int(created.headers["resource-id"])
        patched = http.patch(
            f"/v2/customers/{customer_id}",
            json=[{"op": "replace", "path": "/firstName", "value": "Bea"}],
        )
        assert patched.status_code == 204, patched.text
        [updated] = receiver.wait(1)
        assert updated.event == "customer.updated"
        assert updated.headers["x-helpscout-event"] == "customer.updated"
        assert updated.body == http.get(f"/v2/customers/{customer_id}").content
        assert updated.json["firstName"] == "Bea"
        assert is_signed(secret, updated.body, updated.headers["x-helpscout-signature"])
        assert http.delete(f"/v2/customers/{customer_id}").status_code == 204
        _, deleted = receiver.wait(2)
        assert deleted.event == "customer.deleted"
        assert deleted.json == {"id": customer_id}
        assert is_signed(secret, deleted.body, deleted.headers["x-helpscout-signature"])
        # A 410 disables the webhook; a PUT of the same body enables it again (§7).
        receiver.fail_next(1, status=410)
        again = http.post("/v2/customers", json={"firstName": "Cy", "lastName": "Ox"})
        assert again.status_code == 201
        again_id = int(again.headers["resource-id"])
        renamed = [{"op": "replace", "path": "/firstName", "value": "Di"}]
        assert http.patch(f"/v2/customers/{again_id}", json=renamed).status_code == 204
        path = f"/v2/webhooks/{made.headers['resource-id']}"
        eventually(lambda: http.get(path).json()["state"] == "disabled", "the 410 disabled it")
        assert http.put(path, json=wanted).status_code == 204
        assert http.get(path).json()["state"] == "enabled"
        edited = [{"op": "replace", "path": "/lastName", "value": "Oz"}]
        assert http.patch(f"/v2/customers/{again_id}", json=edited).status_code == 204
        last = receiver.wait(3)[-1]
        assert (last.event, last.json["lastName"]) == ("customer.updated", "Oz")
