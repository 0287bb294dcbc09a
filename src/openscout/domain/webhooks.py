"""Webhooks as Help Scout has them (spec helpscout-v2-customers.md §7, docs/webhooks.md): what an
account subscribes to, which events exist and which of them fire, how a subscription is checked,
how a delivery is signed, and how its failures are retried.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

from openscout.domain.errors import Invalid, Problem, Reason

CUSTOMER_CREATED = "customer.created"
CUSTOMER_UPDATED = "customer.updated"
CUSTOMER_DELETED = "customer.deleted"

#: The events openscout fires: the customer events (§7).
FIRED_EVENTS = (CUSTOMER_CREATED, CUSTOMER_UPDATED, CUSTOMER_DELETED)

#: Every event Help Scout's webhooks offer (its "Create Webhook" page). The events of objects
#: openscout does not keep (conversations, tags, ratings, ...) are accepted and stored, as Help
#: Scout would, and never fire.
EVENTS = frozenset(
    {
        "beacon.chat.created",
        "beacon.chat.customer.replied",
        "convo.agent.reply.created",
        "convo.assigned",
        "convo.created",
        "convo.custom-fields",
        "convo.customer.reply.created",
        "convo.deleted",
        "convo.merged",
        "convo.moved",
        "convo.note.created",
        "convo.status",
        "convo.tags",
        *FIRED_EVENTS,
        "message.survey.response.received",
        "organization.created",
        "organization.deleted",
        "organization.updated",
        "satisfaction.ratings",
        "tag.created",
        "tag.deleted",
        "tag.updated",
        "user.status.changed",
    }
)

#: A secret is at most 40 characters long (§7).
MAX_SECRET_LENGTH = 40
#: Longer URLs and labels are refused (openscout's bounds; Help Scout states none).
MAX_URL_LENGTH = 2048
MAX_LABEL_LENGTH = 200
#: The payload versions a webhook may ask for: v2's, the default and the only one (§7).
PAYLOAD_VERSIONS = ("V2",)
#: Webhook ids are 32-bit numbers, as customers' (spec §2): a larger one is simply not found.
MAX_WEBHOOK_ID = 2**31 - 1
#: Deliveries of one event to one webhook are tried this many times at most (§7).
MAX_ATTEMPTS = 10


class State(StrEnum):
    """Whether a webhook fires: a `410 Gone` from its receiver disables it (§7)."""

    ENABLED = "enabled"
    DISABLED = "disabled"


@dataclass(frozen=True, slots=True)
class Webhook:
    """An account's subscription: where events go, which ones, signed with which secret.
    `notification` webhooks get the resource's URI instead of the object (§7)."""

    id: int | None
    url: str
    secret: str
    events: tuple[str, ...]
    notification: bool = False
    label: str | None = None
    payload_version: str = PAYLOAD_VERSIONS[0]
    mailbox_ids: tuple[int, ...] = ()
    state: State = State.ENABLED
    created_at: datetime | None = None

    def wants(self, event: str) -> bool:
        return self.state is State.ENABLED and event in self.events


def new_webhook(
    url: str | None,
    secret: str | None,
    events: Iterable[str] | None,
    *,
    notification: bool = False,
    label: str | None = None,
    payload_version: str | None = None,
    mailbox_ids: Iterable[int] = (),
) -> Webhook:
    """A webhook as an account asks for it, checked as Help Scout checks a "Create Webhook"
    (§7): an http or https URL, a secret of 1 to 40 characters, at least one event, each of
    Help Scout's (`EVENTS`); `Invalid` lists every problem at once. Events keep their first
    order, once each."""
    problems: list[Problem] = []
    if not url or not url.strip():
        problems.append(Problem(("url",), url, Reason.REQUIRED))
    elif not is_web_url(url):
        problems.append(Problem(("url",), url, Reason.INVALID))
    elif len(url) > MAX_URL_LENGTH:
        problems.append(Problem(("url",), url, Reason.TOO_LONG))
    if not secret:
        problems.append(Problem(("secret",), secret, Reason.REQUIRED))
    elif len(secret) > MAX_SECRET_LENGTH:
        problems.append(Problem(("secret",), secret, Reason.TOO_LONG))
    names = tuple(dict.fromkeys(events or ()))
    if not names:
        problems.append(Problem(("events",), list(names), Reason.REQUIRED))
    problems.extend(
        Problem(("events",), name, Reason.INVALID) for name in names if name not in EVENTS
    )
    if label is not None and len(label) > MAX_LABEL_LENGTH:
        problems.append(Problem(("label",), label, Reason.TOO_LONG))
    version = PAYLOAD_VERSIONS[0] if payload_version is None else payload_version
    if version not in PAYLOAD_VERSIONS:
        problems.append(Problem(("payload_version",), payload_version, Reason.INVALID))
    mailboxes = tuple(dict.fromkeys(mailbox_ids))
    problems.extend(
        Problem(("mailbox_ids",), mailbox, Reason.INVALID)
        for mailbox in mailboxes
        if isinstance(mailbox, bool) or not isinstance(mailbox, int) or mailbox <= 0
    )
    if problems:
        raise Invalid(problems)
    assert url is not None and secret is not None
    return Webhook(
        id=None,
        url=url.strip(),
        secret=secret,
        events=names,
        notification=notification,
        label=label,
        payload_version=version,
        mailbox_ids=mailboxes,
    )


def is_web_url(text: str) -> bool:
    """An absolute http or https URL with a host (and a port, if any, that is a number)."""
    if any(character.isspace() for character in text.strip()):
        return False
    try:
        parts = urlsplit(text.strip())
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def signature(secret: str, body: bytes) -> str:
    """`X-HelpScout-Signature`: base64 of the HMAC-SHA1 of the raw body, keyed with the
    webhook's secret (§7). A receiver computes the same over the bytes it got."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def is_signed(secret: str, body: bytes, signed: str | None) -> bool:
    """Whether `signed` is the signature of `body` with `secret` (compared in constant time)."""
    return signed is not None and hmac.compare_digest(signature(secret, body), signed.strip())


class Outcome(StrEnum):
    """What an attempt to deliver makes of the delivery (§7, docs/webhooks.md)."""

    #: Any 2xx: acknowledged, never sent again (unless redelivered).
    DELIVERED = "delivered"
    #: Anything else, a timeout or a connection error: tried again later.
    RETRY = "retry"
    #: The same, at the last attempt: not tried again.
    GAVE_UP = "gave_up"
    #: 410 Gone: the webhook is disabled at once, and its pending deliveries with it.
    GONE = "gone"


def outcome(status: int | None, attempts: int) -> Outcome:
    """The outcome of an attempt answered `status` (None: no answer), the `attempts`-th."""
    if status is not None and 200 <= status < 300:
        return Outcome.DELIVERED
    if status == 410:
        return Outcome.GONE
    if attempts >= MAX_ATTEMPTS:
        return Outcome.GAVE_UP
    return Outcome.RETRY


def retry_delay(attempts: int, base: float, draw: float) -> float:
    """Seconds to wait after the `attempts`-th failed attempt (1 or more): exponential backoff
    with jitter. The base delay doubles with each attempt, and a `draw` (uniform in [0, 1))
    takes the wait somewhere between half of that and all of it, so that deliveries that failed
    together do not all come back together."""
    return float(base * 2.0 ** (attempts - 1) * (0.5 + draw / 2))
