"""Customers and their entries, as openscout keeps them whatever API version speaks of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from openscout.domain import emails


class Collection(StrEnum):
    """The five entry collections of a customer."""

    EMAILS = "emails"
    PHONES = "phones"
    CHATS = "chats"
    SOCIAL_PROFILES = "social_profiles"
    WEBSITES = "websites"

    @property
    def default_label(self) -> str | None:
        """The label a new entry gets when none is given (Help Scout's defaults, spec §8.3)."""
        return _DEFAULT_LABELS[self]

    def key(self, value: str) -> str:
        """What makes two values the same entry: email addresses are the same address
        (`emails.key`: case aside, and the domain as DNS reads it), other values are exact."""
        return emails.key(value) if self is Collection.EMAILS else value


_DEFAULT_LABELS: dict[Collection, str | None] = {
    Collection.EMAILS: "work",
    Collection.PHONES: "work",
    Collection.CHATS: "other",
    Collection.SOCIAL_PROFILES: "other",
    Collection.WEBSITES: None,
}


@dataclass(frozen=True, slots=True)
class Entry:
    """One email, phone, chat, social profile or website of a customer.

    `label` is the entry's location (emails, phones) or type (chats, social profiles); websites
    have none. `id` is None until the store assigns one.
    """

    id: int | None
    value: str
    label: str | None = None


@dataclass(frozen=True, slots=True)
class Address:
    """A customer's postal address; a customer has at most one."""

    id: int | None
    lines: tuple[str, ...] = ()
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None
    created_at: datetime | None = None
    modified_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Property:
    """The value of one of the account's custom fields on a customer (Help Scout v2's
    "customer properties"). `type` is the field's kind (`text`, `number`, `url`, `date`,
    `dropdown`); `value` is stored as text, `text` is how it reads (a dropdown option's label)."""

    slug: str
    name: str
    type: str
    value: str
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Customer:
    """A customer with everything that belongs to it. Timestamps are UTC, whole seconds."""

    id: int | None
    created_at: datetime
    modified_at: datetime
    first_name: str | None = None
    last_name: str | None = None
    organization: str | None = None
    job_title: str | None = None
    background: str | None = None
    location: str | None = None
    photo_url: str | None = None
    photo_type: str | None = None
    gender: str = "unknown"
    age: str | None = None
    address: Address | None = None
    emails: tuple[Entry, ...] = ()
    phones: tuple[Entry, ...] = ()
    chats: tuple[Entry, ...] = ()
    social_profiles: tuple[Entry, ...] = ()
    websites: tuple[Entry, ...] = ()
    # Known to v2 only (v1 never shows them); openscout keeps no organizations, conversations
    # or drafts, so these keep their defaults until it does.
    organization_id: int | None = None
    conversation_count: int = 0
    draft: bool = False
    properties: tuple[Property, ...] = ()

    @property
    def full_name(self) -> str | None:
        """First and last name joined by a space, skipping a missing part (spec §8.4)."""
        parts = [part for part in (self.first_name, self.last_name) if part]
        return " ".join(parts) or None

    def entries(self, collection: Collection) -> tuple[Entry, ...]:
        result: tuple[Entry, ...] = getattr(self, collection.value)
        return result


#: The customer's own text fields that an API may write (the rest is enrichment or computed).
WRITABLE_FIELDS = ("first_name", "last_name", "organization", "job_title", "background")

#: The address fields, in the order they are reported.
ADDRESS_FIELDS = ("lines", "city", "state", "postal_code", "country")

#: Address fields that a written address must end up having (spec §10.5).
REQUIRED_ADDRESS_FIELDS = ("city", "state", "postal_code", "country")
