"""The schema as SQLAlchemy Core tables. Alembic migrations build it; tests check they agree.

Timestamps are whole seconds since the Unix epoch, UTC, in BIGINT columns: v1 has no finer
resolution (spec §2), integers compare and index the same on every backend, and they cost
nothing to convert.

Ids are never reused, as Help Scout's sequences never were (spec §2): without AUTOINCREMENT,
SQLite would give the next row the id of a just-deleted newest one, and a client still holding
that id would then update or remove the wrong entry instead of getting a 400.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
    # Kept in the transaction that adds a customer, so that an unfiltered list never counts.
    Column("customer_count", BigInteger, nullable=False, server_default=text("0")),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=True),
    # SHA-256 of the key, hex: keys are 160 random bits, so a fast hash is enough.
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("key_prefix", String(8), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
)

customers = Table(
    "customers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("first_name", Text),
    Column("last_name", Text),
    Column("organization", Text),
    Column("job_title", Text),
    Column("background", Text),
    Column("location", Text),
    Column("photo_url", Text),
    Column("photo_type", String(20)),
    Column("gender", String(20), nullable=False),
    # A free string: v2 writes up to 255 characters (docs/decisions/v2-written-fields.md).
    Column("age", Text),
    Column("created_at", BigInteger, nullable=False),
    Column("modified_at", BigInteger, nullable=False),
    # Known to v2 only (domain.customers.Customer): openscout keeps no organizations,
    # conversations or drafts yet, so nothing writes these but a restore.
    Column("organization_id", Integer),
    Column("conversation_count", Integer, nullable=False, server_default=text("0")),
    Column("draft", Boolean, nullable=False, server_default=false()),
    # The names as search compares and sorts them (openscout.domain.search.folded); '' when
    # missing, so that they sort the same on every backend.
    Column("first_name_key", Text, nullable=False, server_default=""),
    Column("last_name_key", Text, nullable=False, server_default=""),
    Index("ix_customers_account_created", "account_id", "created_at", "id"),
    # One per list filter and search order (docs/performance.md).
    Index("ix_customers_account_modified", "account_id", "modified_at", "id"),
    Index("ix_customers_account_first_name", "account_id", "first_name_key", "id"),
    Index("ix_customers_account_last_name", "account_id", "last_name_key", "id"),
    sqlite_autoincrement=True,
)

addresses = Table(
    "addresses",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "customer_id",
        ForeignKey("customers.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column("lines", Text, nullable=False),  # a JSON array of strings
    Column("city", Text),
    Column("state", Text),
    Column("postal_code", Text),
    Column("country", Text),
    Column("created_at", BigInteger, nullable=False),
    Column("modified_at", BigInteger),
    sqlite_autoincrement=True,
)

# The five collections share one table: a customer and all its entries load in two queries.
entries = Table(
    "entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("collection", String(20), nullable=False),
    Column("value", Text, nullable=False),
    # What makes two values the same entry (Collection.key): email addresses in lowercase.
    Column("value_key", Text, nullable=False),
    Column("label", String(20)),
    Index("ix_entries_customer", "customer_id", "id"),
    # An email address identifies at most one customer of an account (spec §10.6).
    Index(
        "uq_entries_account_email",
        "account_id",
        "value_key",
        unique=True,
        sqlite_where=text("collection = 'emails'"),
        postgresql_where=text("collection = 'emails'"),
    ),
    sqlite_autoincrement=True,
)

# What search looks up by word or by whole value, one row per (customer, field, term): words
# of names, emails, organization and job title under the field's name; the whole organization,
# job title and email domain under "<field>=". Derived from the customer on every write.
search_terms = Table(
    "search_terms",
    metadata,
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
    Column("field", String(20), primary_key=True),
    Column("term", Text, primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Index("ix_search_terms_lookup", "account_id", "field", "term", "customer_id"),
    # The rows are their key: on SQLite, no separate rowid b-tree to keep.
    sqlite_with_rowid=False,
)

# The account's custom fields (Help Scout v2's customer properties, domain/properties.py), in
# the order they were defined: customers show their values in that order.
property_definitions = Table(
    "property_definitions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("slug", String(100), nullable=False),
    Column("name", Text, nullable=False),
    Column("type", String(20), nullable=False),
    # A dropdown's options as a JSON array of [id, label] pairs, in their order; else [].
    Column("options", Text, nullable=False),
    UniqueConstraint("account_id", "slug"),
    sqlite_autoincrement=True,
)

# A customer's value of one property, as text (domain.customers.Property). The definition
# must exist: values reach it by (account, slug), and go with it.
customer_properties = Table(
    "customer_properties",
    metadata,
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
    Column("slug", String(100), primary_key=True),
    Column("account_id", Integer, nullable=False),
    Column("value", Text, nullable=False),
    ForeignKeyConstraint(
        ["account_id", "slug"],
        ["property_definitions.account_id", "property_definitions.slug"],
        ondelete="CASCADE",
    ),
)

# Rate-limit counters (spec §4), one row per account and period ("minute", "burst"): the
# requests counted in the fixed window that starts at `period_start`. A request in a later
# window starts the count again, so the table never grows past two rows per account.
rate_limits = Table(
    "rate_limits",
    metadata,
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("period", String(10), primary_key=True),
    Column("period_start", BigInteger, nullable=False),
    Column("hits", BigInteger, nullable=False),
)

# OAuth 2.0 apps (v2 spec §1), each of one account: the client id in clear (it is public), the
# secret as SHA-256 hex like API keys (it is random).
oauth_apps = Table(
    "oauth_apps",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("client_id", String(32), nullable=False, unique=True),
    Column("secret_hash", String(64), nullable=False),
    Column("redirect_uri", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
    sqlite_autoincrement=True,
)

# Access and refresh tokens, by their SHA-256 hex. An access token is live until `expires_at`
# unless it or its app is revoked; a refresh token never expires, and is retired (`revoked_at`,
# `replaced_by`) when it is used. The transition service's tokens name the v1 key they were
# exchanged for and keep the salt that, with that key, makes them again (apps.py).
oauth_tokens = Table(
    "oauth_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("kind", String(10), nullable=False),
    Column("app_id", ForeignKey("oauth_apps.id", ondelete="CASCADE"), nullable=False),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=True),
    Column("revoked_at", BigInteger, nullable=True),
    Column("replaced_by", ForeignKey("oauth_tokens.id", ondelete="SET NULL"), nullable=True),
    # An access token's refresh token, issued with it.
    Column("refresh_id", ForeignKey("oauth_tokens.id", ondelete="SET NULL"), nullable=True),
    Column("api_key_id", ForeignKey("api_keys.id", ondelete="CASCADE"), nullable=True),
    Column("key_salt", String(32), nullable=True),
    # An app's tokens by expiry: those past it are deleted as the app gets new ones.
    Index("ix_oauth_tokens_app_expires", "app_id", "expires_at"),
    Index("ix_oauth_tokens_api_key", "api_key_id"),
    sqlite_autoincrement=True,
)

# Authorization codes (RFC 6749 §4.1), by their SHA-256 hex: single use, ten minutes.
# `redirect_uri` is the one the authorization request named, if it named one.
oauth_codes = Table(
    "oauth_codes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code_hash", String(64), nullable=False, unique=True),
    Column("app_id", ForeignKey("oauth_apps.id", ondelete="CASCADE"), nullable=False),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("redirect_uri", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("used_at", BigInteger, nullable=True),
    Index("ix_oauth_codes_app_expires", "app_id", "expires_at"),
    sqlite_autoincrement=True,
)

# -- webhooks (docs/webhooks.md) --------------------------------------------------------------

#: The id of the outbox's rows: 64-bit on PostgreSQL (an outbox goes through ids fast);
#: SQLite's INTEGER PRIMARY KEY is 64-bit already.
_OUTBOX_ID = BigInteger().with_variant(Integer, "sqlite")
_PENDING = "next_attempt_ms IS NOT NULL"

# An account's subscriptions. The secret is kept as given: signing needs it.
webhooks = Table(
    "webhooks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("url", Text, nullable=False),
    Column("secret", String(40), nullable=False),
    Column("events", Text, nullable=False),  # a JSON array of event names
    Column("notification", Boolean, nullable=False),
    Column("label", Text),
    Column("payload_version", String(10), nullable=False),
    Column("mailbox_ids", Text, nullable=False),  # a JSON array of ids
    Column("state", String(10), nullable=False),  # enabled, disabled
    Column("created_at", BigInteger, nullable=False),
    # What every customer write asks: the account's enabled webhooks (webhooks_for).
    Index("ix_webhooks_account_state", "account_id", "state"),
    sqlite_autoincrement=True,
)

# The outbox: one row per event and webhook, written in the transaction of the change, with
# the body exactly as it is signed and sent. Times in milliseconds since the epoch (retries
# come sooner than a second apart in tests). A row is pending while `next_attempt_ms` is set;
# delivered (`delivered_ms`) or given up, it is finished (`finished_ms`) and pruned later.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", _OUTBOX_ID, primary_key=True),
    # Sent as X-OpenScout-Event-Id, the same on every attempt: receivers drop duplicates by it.
    Column("event_id", String(36), nullable=False, unique=True),
    Column("webhook_id", ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False),
    Column("event", String(64), nullable=False),
    # No foreign key: a deleted customer's events are still delivered.
    Column("customer_id", Integer, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_ms", BigInteger),
    # A deliverer's claim: nobody else tries the row until the lease ends.
    Column("lease_owner", String(64)),
    Column("lease_until_ms", BigInteger),
    Column("last_status", Integer),
    Column("delivered_ms", BigInteger),
    Column("finished_ms", BigInteger),
    # The due rows, in the order they are claimed.
    Index(
        "ix_webhook_deliveries_due",
        "next_attempt_ms",
        sqlite_where=text(_PENDING),
        postgresql_where=text(_PENDING),
    ),
    # Whether an earlier event of the same customer waits for the same webhook.
    Index(
        "ix_webhook_deliveries_order",
        "webhook_id",
        "customer_id",
        "id",
        sqlite_where=text(_PENDING),
        postgresql_where=text(_PENDING),
    ),
    # A webhook's delivery log (and the cascade when the webhook goes).
    Index("ix_webhook_deliveries_webhook", "webhook_id", "id"),
    # What pruning deletes.
    Index(
        "ix_webhook_deliveries_finished",
        "finished_ms",
        sqlite_where=text("finished_ms IS NOT NULL"),
        postgresql_where=text("finished_ms IS NOT NULL"),
    ),
)

# Every attempt to deliver, for the delivery log.
webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", _OUTBOX_ID, primary_key=True),
    Column("delivery_id", ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("status", Integer),  # None: no answer (a timeout, a refused connection)
    Column("duration_ms", Integer, nullable=False),
    Column("error", Text),
    Index("ix_webhook_attempts_delivery", "delivery_id", "id"),
)
