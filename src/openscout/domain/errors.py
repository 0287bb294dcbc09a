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
