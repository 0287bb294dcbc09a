"""The webhook rules of domain/webhooks.py: what a subscription may be, the signature, the
outcome of an attempt and the retry schedule."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from openscout.domain.errors import Invalid, Reason
from openscout.domain.webhooks import (
    EVENTS,
    FIRED_EVENTS,
    MAX_ATTEMPTS,
    Outcome,
    is_signed,
    new_webhook,
    outcome,
    retry_delay,
    signature,
)


def problems(**wanted: object) -> list[tuple[tuple[str, ...], object, Reason]]:
    arguments: dict[str, object] = {
        "url": "https://example.com/in",
        "secret": "s",
        "events": ["customer.created"],
    }
    arguments.update(wanted)
    with pytest.raises(Invalid) as raised:
        new_webhook(
            arguments.pop("url"),  # type: ignore[arg-type]
            arguments.pop("secret"),  # type: ignore[arg-type]
            arguments.pop("events"),  # type: ignore[arg-type]
            **arguments,  # type: ignore[arg-type]
        )
    return [(p.path, p.value, p.reason) for p in raised.value.problems]


def test_a_webhook_as_help_scouts_example_creates_it() -> None:
    made = new_webhook(
        " https://example.com/helpscout ",
        "mZ9XbGHodX",
        ["convo.assigned", "customer.created", "convo.assigned"],
        label="cool webhook",
    )
    assert made.url == "https://example.com/helpscout"
    assert made.events == ("convo.assigned", "customer.created")
    assert (made.payload_version, made.notification, made.id) == ("V2", False, None)
    assert made.wants("customer.created") and not made.wants("customer.deleted")


def test_the_customer_events_fire_and_every_help_scout_event_is_accepted() -> None:
    assert set(FIRED_EVENTS) == {"customer.created", "customer.updated", "customer.deleted"}
    assert set(FIRED_EVENTS) < EVENTS
    assert {"convo.created", "tag.deleted", "satisfaction.ratings"} < EVENTS
    assert new_webhook("http://x.example", "s", sorted(EVENTS)).events == tuple(sorted(EVENTS))


@pytest.mark.parametrize(
    ("wanted", "found"),
    [
        ({"url": None}, [(("url",), None, Reason.REQUIRED)]),
        ({"url": "  "}, [(("url",), "  ", Reason.REQUIRED)]),
        ({"url": "ftp://example.com"}, [(("url",), "ftp://example.com", Reason.INVALID)]),
        ({"url": "example.com/hook"}, [(("url",), "example.com/hook", Reason.INVALID)]),
        ({"url": "https://"}, [(("url",), "https://", Reason.INVALID)]),
        (
            {"url": "https://a.example:port/"},
            [(("url",), "https://a.example:port/", Reason.INVALID)],
        ),
        ({"url": "https://a b.example/"}, [(("url",), "https://a b.example/", Reason.INVALID)]),
        ({"secret": ""}, [(("secret",), "", Reason.REQUIRED)]),
        ({"secret": "x" * 41}, [(("secret",), "x" * 41, Reason.TOO_LONG)]),
        ({"events": []}, [(("events",), [], Reason.REQUIRED)]),
        ({"events": ["customer.merged"]}, [(("events",), "customer.merged", Reason.INVALID)]),
        ({"label": "l" * 201}, [(("label",), "l" * 201, Reason.TOO_LONG)]),
        ({"payload_version": "V1"}, [(("payload_version",), "V1", Reason.INVALID)]),
        ({"mailbox_ids": [1, 0, True]}, [(("mailbox_ids",), 0, Reason.INVALID)] * 1),
    ],
)
def test_what_help_scout_refuses_is_refused(
    wanted: dict[str, object], found: list[tuple[tuple[str, ...], object, Reason]]
) -> None:
    assert problems(**wanted) == found


def test_every_problem_is_reported_at_once() -> None:
    found = problems(url="mailto:a@b", secret="", events=["nope", "customer.created", "no"])
    assert [(path, reason) for path, _, reason in found] == [
        (("url",), Reason.INVALID),
        (("secret",), Reason.REQUIRED),
        (("events",), Reason.INVALID),
        (("events",), Reason.INVALID),
    ]


def test_a_secret_of_forty_characters_is_the_longest() -> None:
    assert new_webhook("http://x.example", "x" * 40, ["customer.created"]).secret == "x" * 40


def test_the_signature_is_base64_of_hmac_sha1_of_the_raw_body() -> None:
    body = b'{"id":123}'
    expected = base64.b64encode(hmac.new(b"asdfasdf", body, hashlib.sha1).digest()).decode()
    assert signature("asdfasdf", body) == expected
    assert is_signed("asdfasdf", body, expected)
    assert not is_signed("asdfasdf", body + b" ", expected)
    assert not is_signed("other", body, expected)
    assert not is_signed("asdfasdf", body, None)


@pytest.mark.parametrize(
    ("status", "attempts", "expected"),
    [
        (200, 1, Outcome.DELIVERED),
        (204, MAX_ATTEMPTS, Outcome.DELIVERED),
        (299, 3, Outcome.DELIVERED),
        (410, 1, Outcome.GONE),
        (500, 1, Outcome.RETRY),
        (301, 2, Outcome.RETRY),
        (404, MAX_ATTEMPTS - 1, Outcome.RETRY),
        (None, 1, Outcome.RETRY),
        (500, MAX_ATTEMPTS, Outcome.GAVE_UP),
        (None, MAX_ATTEMPTS, Outcome.GAVE_UP),
    ],
)
def test_a_2xx_acknowledges_a_410_disables_anything_else_is_retried_ten_times(
    status: int | None, attempts: int, expected: Outcome
) -> None:
    assert outcome(status, attempts) is expected


def test_retries_back_off_exponentially_with_jitter_between_half_and_all() -> None:
    assert retry_delay(1, 60, 0.0) == 30
    assert retry_delay(1, 60, 0.999999) == pytest.approx(60, rel=1e-5)
    assert retry_delay(3, 60, 0.0) == 120
    assert [retry_delay(n, 1.0, 0.5) for n in range(1, 5)] == [0.75, 1.5, 3.0, 6.0]
