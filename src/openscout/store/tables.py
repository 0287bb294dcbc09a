"""The schema as SQLAlchemy Core tables. Alembic migrations build it; tests check they agree.

Timestamps are whole seconds since the Unix epoch, UTC, in BIGINT columns: v1 has no finer
resolution (spec §2), integers compare and index the same on every backend, and they cost
nothing to convert.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
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
    Column("age", String(20)),
    Column("created_at", BigInteger, nullable=False),
    Column("modified_at", BigInteger, nullable=False),
    Index("ix_customers_account_created", "account_id", "created_at", "id"),
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
)
