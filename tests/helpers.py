"""Assertions shared by the HTTP tests."""

from __future__ import annotations

from typing import Any

import httpx

JSON = "application/json; charset=utf-8"


def assert_error(response: httpx.Response, code: int, message: str | None = None) -> dict[str, Any]:
    """Every error answers in v1's shape: the status, `{"code", "error"}` with a string error,
    the JSON media type (spec §7). Returns the body for further checks."""
    assert response.status_code == code, response.text
    assert response.headers["content-type"] == JSON
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert isinstance(body["error"], str) and body["error"]
    if message is not None:
        assert body["error"] == message
    return body


def assert_invalid(response: httpx.Response, *expected: tuple[str, str | None, str]) -> None:
    """A 400 listing exactly these (property, value, message) problems, in any order."""
    body = assert_error(response, 400, "Input could not be validated")
    found = [(e["property"], e["value"], e["message"]) for e in body["validationErrors"]]
    assert sorted(found, key=repr) == sorted(expected, key=repr)


def customer_id(response: httpx.Response) -> int:
    """The id from a create's `Location`, read the way clients read it (spec §9.4)."""
    location = response.headers["location"]
    assert location.endswith(".json")
    return int(location.rsplit("/", 1)[1].removesuffix(".json"))
