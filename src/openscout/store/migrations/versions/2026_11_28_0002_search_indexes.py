"""Search: name keys, a customer count per account, search terms, an index per filter and order.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28

Existing customers get their keys and terms here, derived as `openscout.store.search` derives
them for new writes (the rules live in `openscout.domain.search`).
"""

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

from openscout.domain.search import email_domain, folded, words

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_BATCH = 5000

#: What SQLite's planner is told about the indexes until `ANALYZE` measures them (the shape of
#: an account with a million customers: `rows, rows per account, rows per account and value`).
#: Without any, it takes the first column of every index to be very selective, which
#: `account_id` is not, and would answer an email filter by walking the whole account in
#: creation order (docs/performance.md).
_SQLITE_STATISTICS = (
    ("customers", "ix_customers_account_created", "1000000 100000 2 1"),
    ("customers", "ix_customers_account_modified", "1000000 100000 2 1"),
    ("customers", "ix_customers_account_first_name", "1000000 100000 300 1"),
    ("customers", "ix_customers_account_last_name", "1000000 100000 300 1"),
    ("entries", "ix_entries_customer", "2000000 2 1"),
    ("entries", "uq_entries_account_email", "1500000 150000 1"),
    ("search_terms", "search_terms", "10000000 10 2 1"),
    ("search_terms", "ix_search_terms_lookup", "10000000 1000000 150000 20 1"),
)


def upgrade() -> None:
    op.add_column(
        "accounts",
        sa.Column("customer_count", sa.BigInteger(), nullable=False, server_default=sa.text("0")),
    )
    op.add_column(
        "customers", sa.Column("first_name_key", sa.Text(), nullable=False, server_default="")
    )
    op.add_column(
        "customers", sa.Column("last_name_key", sa.Text(), nullable=False, server_default="")
    )
    op.create_table(
        "search_terms",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(20), nullable=False),
        sa.Column("term", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "field", "term", name="pk_search_terms"),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name="fk_search_terms_customer_id_customers",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_search_terms_account_id_accounts",
            ondelete="CASCADE",
        ),
        sqlite_with_rowid=False,
    )
    _backfill(op.get_bind())
    op.create_index(
        "ix_search_terms_lookup", "search_terms", ["account_id", "field", "term", "customer_id"]
    )
    op.create_index(
        "ix_customers_account_modified", "customers", ["account_id", "modified_at", "id"]
    )
    op.create_index(
        "ix_customers_account_first_name", "customers", ["account_id", "first_name_key", "id"]
    )
    op.create_index(
        "ix_customers_account_last_name", "customers", ["account_id", "last_name_key", "id"]
    )
    if op.get_bind().dialect.name == "sqlite":
        _planner_statistics(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_customers_account_last_name", "customers")
    op.drop_index("ix_customers_account_first_name", "customers")
    op.drop_index("ix_customers_account_modified", "customers")
    op.drop_table("search_terms")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("last_name_key")
        batch.drop_column("first_name_key")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("customer_count")


def _backfill(connection: sa.Connection) -> None:
    meta = sa.MetaData()
    accounts = sa.Table("accounts", meta, autoload_with=connection)
    customers = sa.Table("customers", meta, autoload_with=connection)
    entries = sa.Table("entries", meta, autoload_with=connection)
    terms = sa.Table("search_terms", meta, autoload_with=connection)
    counts = (
        sa.select(sa.func.count()).where(customers.c.account_id == accounts.c.id).scalar_subquery()
    )
    connection.execute(sa.update(accounts).values(customer_count=counts))
    for batch in _batches(connection, customers):
        ids = [row.id for row in batch]
        emails: dict[int, list[str]] = {}
        for entry in connection.execute(
            sa.select(entries.c.customer_id, entries.c.value).where(
                entries.c.customer_id.in_(ids), entries.c.collection == "emails"
            )
        ):
            emails.setdefault(entry.customer_id, []).append(entry.value)
        connection.execute(
            sa.update(customers)
            .where(customers.c.id == sa.bindparam("customer"))
            .values(first_name_key=sa.bindparam("first"), last_name_key=sa.bindparam("last")),
            [
                {
                    "customer": row.id,
                    "first": folded(row.first_name or ""),
                    "last": folded(row.last_name or ""),
                }
                for row in batch
            ],
        )
        rows = [
            {"customer_id": row.id, "account_id": row.account_id, "field": field, "term": term}
            for row in batch
            for field, term in _terms(row, emails.get(row.id, []))
        ]
        if rows:
            connection.execute(sa.insert(terms), rows)


def _batches(connection: sa.Connection, customers: sa.Table) -> Iterator[list[Any]]:
    last = 0
    while True:
        batch = connection.execute(
            sa.select(customers).where(customers.c.id > last).order_by(customers.c.id).limit(_BATCH)
        ).all()
        if not batch:
            return
        yield list(batch)
        last = batch[-1].id


def _terms(row: Any, emails: list[str]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for field in ("first_name", "last_name", "organization", "job_title"):
        text = getattr(row, field)
        if text:
            found.update((field, word) for word in words(text))
    for field in ("organization", "job_title"):
        text = getattr(row, field)
        if text and folded(text):
            found.add((f"{field}=", folded(text)))
    for address in emails:
        found.update(("email", word) for word in words(address))
        domain = email_domain(address)
        if domain:
            found.add(("email_domain=", domain))
    return found


def _planner_statistics(connection: sa.Connection) -> None:
    """Measure what there is (creating `sqlite_stat1`), then describe the indexes that hold
    too few rows to measure with the shape they will have."""
    connection.exec_driver_sql("ANALYZE")
    stat = sa.table("sqlite_stat1", sa.column("tbl"), sa.column("idx"), sa.column("stat"))
    measured = {row.idx for row in connection.execute(sa.select(stat.c.idx))}
    missing = [
        {"tbl": table, "idx": index, "stat": numbers}
        for table, index, numbers in _SQLITE_STATISTICS
        if index not in measured
    ]
    if missing:
        connection.execute(sa.insert(stat), missing)
