"""Domain errors: facts about a request or the data, carrying data, never HTTP codes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class Reason(StrEnum):
    """Why a value was refused."""

    REQUIRED = "required"
    INVALID = "invalid"
    TOO_LONG = "too_long"
    NOT_AN_EMAIL = "not_an_email"
    UNKNOWN_ENTRY = "unknown_entry"
    DUPLICATE_ENTRY = "duplicate_entry"
    MALFORMED = "malformed"


@dataclass(frozen=True, slots=True)
class Problem:
    """One refused value. `path` names the field in domain terms, e.g. ("emails", "id")."""

    path: tuple[str, ...]
    value: object
    reason: Reason


class DomainError(Exception):
    """Base of every error that the domain and the service raise on purpose."""


class Invalid(DomainError):
    """The request cannot be applied; every problem found is listed, nothing was written."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = tuple(problems)


class PropertyExists(Invalid):
    """The account has a property with this slug already: one more of that slug is refused,
    as a value that is not valid."""

    def __init__(self, slug: str) -> None:
        super().__init__([Problem(("slug",), slug, Reason.INVALID)])
        self.slug = slug


class Malformed(DomainError):
    """The request body is not a JSON object at all."""


class CustomerNotFound(DomainError):
    """No customer with this id in the caller's account."""

    def __init__(self, customer_id: int) -> None:
        super().__init__(f"customer {customer_id} not found")
        self.customer_id = customer_id


class EmailTaken(DomainError):
    """An email address already belongs to another customer of the account."""

    def __init__(self, email: str) -> None:
        super().__init__(f"email {email!r} belongs to another customer")
        self.email = email


class Unauthorized(DomainError):
    """No API key, or one that is unknown or revoked."""


# -- OAuth 2.0 (v2 spec §1): each is one of RFC 6749's error codes, as a fact


class UnknownClient(DomainError):
    """An OAuth client that cannot be authenticated: no client id, no live app with it, or a
    secret that is not the app's. Which of these is not told."""

    def __init__(self) -> None:
        super().__init__("Client authentication failed")


class UnknownApp(DomainError):
    """No live OAuth app has this client id (where no secret is asked: the approval page, the
    transition service)."""

    def __init__(self, client_id: str) -> None:
        super().__init__("No live app has this client id")
        self.client_id = client_id


class InvalidGrant(DomainError):
    """A grant that is not (or no longer) good: an authorization code that is unknown, used,
    expired or another app's, a redirect URI other than the code's, a refresh token that is
    unknown, revoked or already used. The message says which, in words a client may read."""


class UnsupportedGrant(DomainError):
    """A grant type openscout issues no tokens for."""

    def __init__(self, grant_type: str) -> None:
        super().__init__(f"grant_type {grant_type[:100]!r} is not supported")
        self.grant_type = grant_type


class RedirectNotRegistered(DomainError):
    """A redirect URI that is not the one registered for the app (or the app registered none):
    never redirected to (RFC 6749 §4.1.2.1)."""

    def __init__(self, redirect_uri: str | None) -> None:
        super().__init__("The redirect URI is not the one registered for this app")
        self.redirect_uri = redirect_uri


class KeyRefused(DomainError):
    """A v1 API key that cannot approve an app or be exchanged for a token: unknown, revoked,
    or (to approve an app) of another account than the app's. `key` is what was sent."""

    def __init__(self, key: str) -> None:
        super().__init__("The API key is not a live key that may do this")
        self.key = key


class StoreUnavailable(DomainError):
    """The database cannot be reached right now."""


class MailboxNotFound(DomainError):
    """No mailbox with this id in the caller's account (openscout has no mailboxes yet)."""

    def __init__(self, mailbox_id: int) -> None:
        super().__init__(f"mailbox {mailbox_id} not found")
        self.mailbox_id = mailbox_id


class UnreadableQuery(DomainError):
    """A search query its API version's language cannot read: where (1-based) and why."""

    def __init__(self, position: int, detail: str) -> None:
        super().__init__(f"at position {position}: {detail}")
        self.position = position
        self.detail = detail


class FixtureEmailTaken(EmailTaken):
    """A customer of a fixture document has an email address that another customer has
    already: one of the account's, or one earlier in the same document (`index`: 0-based)."""

    def __init__(self, index: int, email: str) -> None:
        super().__init__(email)
        self.index = index


class BodyTooLarge(DomainError):
    """A request body is longer than its endpoint takes (`limit` bytes)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the body is longer than {limit} bytes")
        self.limit = limit


class SnapshotNotFound(DomainError):
    """No snapshot with this id among the account's (control API)."""

    def __init__(self, snapshot_id: int) -> None:
        super().__init__(f"This account has no snapshot {snapshot_id}")
        self.snapshot_id = snapshot_id


class WebhookNotFound(DomainError):
    """No webhook with this id (among the caller's account's, when there is one)."""

    def __init__(self, webhook_id: int) -> None:
        super().__init__(f"webhook {webhook_id} not found")
        self.webhook_id = webhook_id


class EventNotFound(DomainError):
    """No webhook event with this id (among the caller's account's, when there is one)."""

    def __init__(self, event_id: str) -> None:
        super().__init__(f"event {event_id} not found")
        self.event_id = event_id


class LimitReached(DomainError):
    """Something counted has reached its bound (the message names it), so nothing more of it
    is made until some is let go."""


class RateLimited(DomainError):
    """An account has used up a rate limit; it may try again in `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limit reached; retry after {retry_after} s")
        self.retry_after = retry_after
