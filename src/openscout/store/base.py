"""The store's protocols, one per aggregate: the only storage names the service layer knows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Final, ParamSpec, Protocol, TypeVar

from openscout.domain.customers import Customer
from openscout.domain.properties import PropertyDefinition
from openscout.domain.search import Found, Search
from openscout.domain.webhooks import Outcome, Webhook

P = ParamSpec("P")
T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., object])

_UNBOUNDED = "__openscout_unbounded__"


def unbounded(function: F) -> F:
    """Mark a use case whose cost is not bounded (a list or a search grows with what it
    matches; a call to another server waits on a network): `Store.run` never runs it on the
    event loop."""
    setattr(function, _UNBOUNDED, True)
    return function


def unbounded_when(is_large: Callable[..., bool]) -> Callable[[F], F]:
    """Mark a use case that is bounded unless `is_large(*args, **kwargs)` says a call of it is
    not (an update carrying thousands of entries): `Store.run` never runs such a call on the
    event loop, where it would hold every other request for its length."""

    def mark(function: F) -> F:
        setattr(function, _UNBOUNDED, is_large)
        return function

    return mark


def is_unbounded(
    function: Callable[..., object],
    args: tuple[object, ...] = (),
    kwargs: dict[str, object] | None = None,
) -> bool:
    """Whether this call of `function` is unbounded (`unbounded`, `unbounded_when`)."""
    mark = getattr(function, _UNBOUNDED, False)
    if callable(mark):
        return bool(mark(*args, **(kwargs or {})))
    return bool(mark)


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key as listed: never the key itself, which is shown once and stored hashed."""

    id: int
    account: str
    name: str | None
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Hit:
    """A request counted against one rate-limit period (spec §4): the fixed window it falls in
    (its start, in seconds since the epoch) and how much it counts (0 only reads the count)."""

    period: str
    start: int
    weight: int = 1


class Keys(Protocol):
    """Accounts and their API keys."""

    def account_for_key(self, key_hash: str) -> int | None:
        """The account of a live (not revoked) key, by the key's hash."""

    def find_account(self, name: str) -> int | None:
        """The id of the account `name`; None when there is none."""

    def ensure_account(self, name: str, now: datetime) -> int:
        """The id of the account `name`, created when new."""

    def create_key(
        self, account: str, name: str | None, key_hash: str, prefix: str, now: datetime
    ) -> ApiKey:
        """Store a new key for `account`, creating the account when it is new."""

    def list_keys(self) -> list[ApiKey]: ...

    def revoke_key(self, key_id: int, now: datetime) -> bool:
        """Revoke a key; False when there is no live key with that id."""

    def count_live_keys(self) -> int: ...


#: The kinds of OAuth token kept (`Token.kind`).
ACCESS: Final = "access"
REFRESH: Final = "refresh"


@dataclass(frozen=True, slots=True)
class App:
    """An OAuth app as listed: never its secret, which is shown once and stored hashed."""

    id: int
    account_id: int
    account: str
    name: str
    client_id: str
    redirect_uri: str | None
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewToken:
    """A token to keep, by its hash. A transition token names the v1 key it was exchanged for
    and the salt that makes it again from that key."""

    kind: str
    token_hash: str
    app_id: int
    account_id: int
    expires_at: datetime | None
    refresh_id: int | None = None
    api_key_id: int | None = None
    key_salt: str | None = None


@dataclass(frozen=True, slots=True)
class Token:
    """A kept token, as found by its hash."""

    id: int
    kind: str
    app_id: int
    account_id: int
    expires_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Code:
    """A kept authorization code, as found by its hash; `redirect_uri` is the one its
    authorization request named (None: it named none)."""

    id: int
    app_id: int
    account_id: int
    redirect_uri: str | None
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True, slots=True)
class LiveKey:
    """A live v1 API key: its id and its account."""

    id: int
    account_id: int


@dataclass(frozen=True, slots=True)
class TransitionPair:
    """The live access token the transition service gave for one key and app, whose refresh
    token is live too: the salt that makes both again, and when the access token expires."""

    key_salt: str
    expires_at: datetime


class Apps(Protocol):
    """OAuth apps, the tokens issued to them and their authorization codes."""

    def create_app(
        self,
        account_id: int,
        name: str,
        client_id: str,
        secret_hash: str,
        redirect_uri: str | None,
        now: datetime,
    ) -> int:
        """Store a new app of the account; its id."""

    def list_apps(self) -> list[App]: ...

    def find_app(self, client_id: str) -> tuple[App, str] | None:
        """The app with this client id, live or revoked, and the hash of its secret."""

    def revoke_app(self, client_id: str, now: datetime) -> bool:
        """Revoke an app (its tokens die with it); False when no live app has this id."""

    def add_token(self, token: NewToken, now: datetime) -> int:
        """Keep a new token; its id."""

    def find_token(self, token_hash: str) -> Token | None: ...

    def retire_token(self, token_id: int, now: datetime, replaced_by: int | None) -> bool:
        """Revoke a token unless it is revoked already (False then: another request used it
        first)."""

    def account_for_token(self, token_hash: str, now: datetime) -> int | None:
        """The account of a live access token of a live app, by the token's hash."""

    def add_code(
        self,
        code_hash: str,
        app_id: int,
        account_id: int,
        redirect_uri: str | None,
        expires_at: datetime,
        now: datetime,
    ) -> None: ...

    def find_code(self, code_hash: str) -> Code | None: ...

    def use_code(self, code_id: int, now: datetime) -> bool:
        """Mark a code used unless it is used already (False then)."""

    def live_key(self, key_hash: str) -> LiveKey | None:
        """The live v1 key with this hash."""

    def transition_pair(self, app_id: int, api_key_id: int, now: datetime) -> TransitionPair | None:
        """The newest live pair the transition service gave for this key and app."""

    def forget_expired(self, app_id: int, now: datetime) -> None:
        """Delete the app's access tokens and codes past their expiry, and its refresh tokens
        retired more than a day ago: what can never be used again."""


class Customers(Protocol):
    """One account's customers, one at a time, and the lists and searches over them."""

    def get_customer(
        self, account_id: int, customer_id: int, *, for_update: bool = False
    ) -> Customer | None:
        """The customer with everything it has (its property values in the order the account
        defined the properties), or None when the account has no such customer."""

    def add_customer(self, account_id: int, customer: Customer) -> Customer:
        """Insert a new customer; returns it with every id assigned."""

    def save_customer(self, account_id: int, before: Customer, after: Customer) -> Customer:
        """Write the difference between two states of one customer (its own fields, v2's
        included, address, entries and property values); returns `after` with ids."""

    def delete_customer(self, account_id: int, customer_id: int) -> bool:
        """Delete the customer and everything it has (its email addresses are free again);
        False when the account has no such customer."""

    def email_owners(
        self, account_id: int, email_keys: Iterable[str], *, besides: int | None
    ) -> dict[str, int]:
        """Which of these email keys belong to customers of the account other than `besides`."""

    def find_customers(
        self,
        account_id: int,
        search: Search,
        *,
        with_emails: bool = False,
        with_entries: bool = False,
    ) -> Found:
        """The account's customers meeting `search.criteria`: how many in all, and the page
        asked for in its order. Customers carry their own fields, and their emails
        `with_emails`, or everything they have `with_entries` (entries, address, property
        values: a few queries for the whole page, not some per customer)."""


class Properties(Protocol):
    """The account's custom fields (Help Scout v2's customer properties)."""

    def define_property(self, account_id: int, definition: PropertyDefinition) -> bool:
        """Add a property to the account's; False, and nothing changed, when the account has
        one with that slug already."""

    def property_definitions(self, account_id: int) -> list[PropertyDefinition]:
        """The account's properties, in the order they were defined."""


class RateLimits(Protocol):
    """The counters of Help Scout's rate limits (spec §4), shared by every process."""

    def count_hits(self, account_id: int, hits: Sequence[Hit]) -> dict[str, int]:
        """Add each hit to the account's counter for its period, which starts again from 0 in
        a later window, in one atomic step; the count of each period afterwards."""


class Bulk(Protocol):
    """Many new customers at once (`db seed`, the control API's fixtures)."""

    def add_customers(self, account_id: int, new: Sequence[Customer]) -> list[int]:
        """Insert many new customers at once; returns their ids in order. The caller vouches
        that their email addresses are free (a clash raises `EmailTaken` for the whole batch)."""


class Snapshots(Protocol):
    """One account's customers as a whole, to save and restore (the control API)."""

    def account_customers(self, account_id: int) -> list[Customer]:
        """Every customer of the account with everything it has, in id order."""

    def clear_customers(self, account_id: int) -> int:
        """Delete every customer of the account; returns how many there were. The account's
        property definitions stay."""

    def put_customers(self, account_id: int, saved: Sequence[Customer]) -> None:
        """Insert customers with the ids they carry (theirs, their entries' and address's), as
        a restore of the account's own earlier state does; nothing checks those ids are free."""


@dataclass(frozen=True, slots=True)
class ListedWebhook:
    """A webhook with the name of its account (the owner's list of every account's)."""

    account: str
    webhook: Webhook


@dataclass(frozen=True, slots=True)
class Subscriber:
    """An enabled webhook that wants an event: what recording a delivery for it needs."""

    webhook_id: int
    notification: bool


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """One event for one webhook, as it enters the outbox: `body` is what is signed and sent."""

    event_id: str
    webhook_id: int
    event: str
    customer_id: int
    body: bytes


@dataclass(frozen=True, slots=True)
class Claim:
    """A delivery claimed by a deliverer (its lease), with what sending it takes."""

    delivery_id: int
    event_id: str
    event: str
    customer_id: int
    body: bytes
    #: Attempts made before this one.
    attempts: int
    webhook_id: int
    url: str
    secret: str


@dataclass(frozen=True, slots=True)
class Claimed:
    """What a claim found: the deliveries now leased, and when (milliseconds since the epoch)
    the earliest of the others falls due, if any."""

    claims: list[Claim]
    next_due_ms: int | None


@dataclass(frozen=True, slots=True)
class Attempt:
    """One attempt to deliver, as it ended: `status` None when nothing answered (`error`)."""

    claim: Claim
    owner: str
    at_ms: int
    status: int | None
    duration_ms: int
    error: str | None = None


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """An attempt as the delivery log shows it."""

    at: datetime
    status: int | None
    duration_ms: int
    error: str | None


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """One event for one webhook as the delivery log shows it. `state` is `pending` (with its
    next try), `delivered` or `failed` (given up, or dropped when its webhook was disabled)."""

    event_id: str
    event: str
    customer_id: int
    created_at: datetime
    state: str
    attempts: int
    last_status: int | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    tries: tuple[AttemptRecord, ...]


class Webhooks(Protocol):
    """An account's webhooks, and the outbox of their deliveries (docs/webhooks.md). Where a
    method takes `account_id: int | None`, None means every account's (the owner's command
    line); an id, only that account's (an account's own API)."""

    def add_webhook(self, account_id: int, webhook: Webhook, now: datetime) -> Webhook:
        """Store a new, enabled webhook; returns it with its id."""

    def get_webhook(self, account_id: int | None, webhook_id: int) -> Webhook | None: ...

    def list_webhooks(self, account_id: int | None) -> list[ListedWebhook]:
        """Webhooks in id order."""

    def replace_webhook(self, account_id: int | None, webhook_id: int, webhook: Webhook) -> bool:
        """Overwrite a webhook's settings and enable it again; False when there is none."""

    def delete_webhook(self, account_id: int | None, webhook_id: int) -> bool:
        """Delete a webhook and its deliveries; False when there is none."""

    def webhooks_for(self, account_id: int, event: str) -> list[Subscriber]:
        """The account's enabled webhooks that want `event`: one indexed query, run by every
        customer write (nearly free for an account without webhooks)."""

    def add_deliveries(self, deliveries: Sequence[NewDelivery], now_ms: int) -> None:
        """Put deliveries in the outbox, due at once."""

    def claim_deliveries(self, owner: str, now_ms: int, lease_ms: int, limit: int) -> Claimed:
        """Lease up to `limit` due deliveries of enabled webhooks to `owner` until `now_ms +
        lease_ms`, earliest due first; none that another deliverer holds (or is claiming at
        the same moment), and none of a customer and webhook whose earlier event is still
        pending."""

    def finish_attempt(
        self, attempt: Attempt, outcome: Outcome, next_attempt_ms: int | None
    ) -> None:
        """Log an attempt and apply its outcome: delivered; tried again at `next_attempt_ms`
        (and the customer's later events for the webhook not before it); given up; or, gone,
        the webhook disabled and its pending deliveries dropped."""

    def redeliver(self, account_id: int | None, event_id: str, now_ms: int) -> bool:
        """Make a delivery due now: a finished one again from its first attempt. False when
        there is no such event."""

    def prune_deliveries(self, before_ms: int, limit: int) -> int:
        """Delete up to `limit` deliveries finished before `before_ms`, with their attempts;
        how many."""

    def drop_disabled_deliveries(self, now_ms: int) -> int:
        """Finish, undelivered, the deliveries still pending for disabled webhooks (recorded
        by a write that met the webhook enabled while a 410 was disabling it); how many."""

    def webhook_backlog(self, limit: int) -> int:
        """How many deliveries of enabled webhooks are pending, counted up to `limit`."""

    def webhook_deliveries(
        self, account_id: int | None, webhook_id: int, limit: int
    ) -> list[DeliveryRecord] | None:
        """The webhook's last `limit` deliveries, oldest first, each with its attempts; None
        when there is no such webhook."""


class Transaction(
    Keys, Apps, Customers, Properties, RateLimits, Bulk, Snapshots, Webhooks, Protocol
):
    """One database transaction: everything done through it commits or rolls back together.
    Use cases name the narrower protocol they need."""

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once this transaction has committed (never if it rolls back), in
        the thread that ran it."""


class Store(Protocol):
    """Opens transactions, and decides where calls run. Writes are serialized per customer (or
    per database on SQLite)."""

    def run(self, use_case: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Awaitable[T]:
        """`await store.run(use_case, ...)`: the one way to call the store from async code.
        The store runs the call where it is cheapest without holding up the event loop: a
        use case is one transaction, and those marked `unbounded` never run on the loop."""

    def reading(self) -> AbstractContextManager[Transaction]: ...

    def writing(self) -> AbstractContextManager[Transaction]: ...

    def ping(self) -> None:
        """Raise `StoreUnavailable` unless the database answers."""

    def close(self) -> None: ...
