"""The control API's customer properties over real HTTP: `POST` and `GET /_openscout/properties`
(docs/testing.md; docs/decisions/v2-property-definitions.md), scoped to the caller's account,
errors in v1's shape, absent unless the control API is on."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import JSON, assert_error, assert_invalid, route_not_found

PATH = "/_openscout/properties"
PLAN = {"slug": "plan", "name": "Plan", "type": "dropdown", "options": ["Free", "Plus"]}


def ok(response: httpx.Response, code: int = 200) -> Any:
    assert response.status_code == code, response.text
    assert response.headers["content-type"] == JSON
    return response.json()


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_properties_are_not_served_unless_the_control_api_is_on(
    client: httpx.Client, method: str
) -> None:
    assert_error(client.request(method, PATH, json=PLAN), 404, route_not_found(PATH))


def test_a_property_is_defined_and_listed_for_the_callers_account_only(
    http: httpx.Client, other: httpx.Client
) -> None:
    assert ok(http.get(PATH)) == {"properties": []}
    car = ok(http.post(PATH, json={"slug": "car", "name": " Car ", "type": "text"}), 201)
    assert car == {"slug": "car", "name": "Car", "type": "text", "options": []}
    plan = ok(http.post(PATH, json=PLAN), 201)
    assert plan["options"] == [{"id": 1, "label": "Free"}, {"id": 2, "label": "Plus"}]
    assert ok(http.get(PATH)) == {"properties": [car, plan]}
    assert ok(other.get(PATH)) == {"properties": []}
    assert ok(other.post(PATH, json=PLAN), 201) == plan  # the slug is the account's own


def test_a_taken_slug_is_a_400_and_changes_nothing(http: httpx.Client) -> None:
    ok(http.post(PATH, json=PLAN), 201)
    again = http.post(PATH, json={"slug": "plan", "name": "Other", "type": "text"})
    assert_invalid(again, ("slug", "plan", "Value is not valid"))
    assert [p["name"] for p in ok(http.get(PATH))["properties"]] == ["Plan"]


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        (
            {},
            [
                ("slug", None, "Value is required"),
                ("name", None, "Value is required"),
                ("type", None, "Value is required"),
            ],
        ),
        (
            {"slug": 7, "name": ["Car"], "type": "text", "options": "Free"},
            [
                ("slug", "7", "Value is not valid"),
                ("name", '["Car"]', "Value is not valid"),
                ("options", "Free", "Value is not valid"),
            ],
        ),
        (
            {"slug": "Car Make", "name": "n" * 256, "type": "colour"},
            [
                ("type", "colour", "Value is not valid"),
                ("slug", "Car Make", "Value is not valid"),
                ("name", "n" * 256, "Value is too long"),
            ],
        ),
        (
            {"slug": "plan", "name": "Plan", "type": "dropdown", "options": ["a", "A"]},
            [("options:2", "A", "Value is already an entry of this customer")],
        ),
        (
            {"slug": "plan", "name": "Plan", "type": "dropdown"},
            [("options", None, "Value is required")],
        ),
    ],
)
def test_a_bad_definition_is_a_400_listing_every_problem(
    http: httpx.Client, body: dict[str, Any], problems: list[tuple[str, str | None, str]]
) -> None:
    assert_invalid(http.post(PATH, json=body), *problems)
    assert ok(http.get(PATH)) == {"properties": []}


def test_a_body_that_is_not_an_object_is_malformed(http: httpx.Client) -> None:
    response = http.post(PATH, content=b"[1]", headers={"content-type": "application/json"})
    assert_error(response, 400, "The request was not formatted correctly")


def test_defined_properties_outlive_a_reset(http: httpx.Client) -> None:
    ok(http.post(PATH, json=PLAN), 201)
    ok(http.post("/_openscout/reset"))
    assert [p["slug"] for p in ok(http.get(PATH))["properties"]] == ["plan"]
