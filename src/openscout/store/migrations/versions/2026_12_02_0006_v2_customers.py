"""v2 customers over the same store: v2-only fields, custom properties, `email:` containment.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

- customers get `organization_id`, `conversation_count` (0) and `draft` (false), which only v2
  shows; `age` becomes free text (v2 writes up to 255 characters; it was VARCHAR(20));
- `property_definitions` (the account's custom fields) and `customer_properties` (a
  customer's values of them);
- every email address gets its `email~` search term, the whole address folded, which v2's
  `email:` search looks inside (store/search.py); existing addresses get theirs here, derived
  as `openscout.store.search.customer_terms` derives them for new writes.

On SQLite, `age` is retyped by adding a column, copying, dropping the old one and renaming:
alembic's batch mode would rebuild `customers`, and dropping the old table with foreign keys
on would delete every entry, address and term with it.
"""

import sqlalchemy as sa
from alembic import op

from openscout.domain.search import folded

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_BATCH = 5000
_CONTAINING = "email~"


def upgrade() -> None:
    connection = op.get_bind()
    op.add_column("customers", sa.Column("organization_id", sa.Integer(), nullable=True))
    op.add_column(
        "customers",
        sa.Column("conversation_count", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.add_column(
        "customers", sa.Column("draft", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    _retype_age(connection, widen=True)
    op.create_table(
        "property_definitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(100), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_property_definitions"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_property_definitions_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("account_id", "slug", name="uq_property_definitions_account_id"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "customer_properties",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(100), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "slug", name="pk_customer_properties"),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name="fk_customer_properties_customer_id_customers",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "slug"],
            ["property_definitions.account_id", "property_definitions.slug"],
            name="fk_customer_properties_account_id_property_definitions",
            ondelete="CASCADE",
        ),
    )
    _add_containing_terms(connection)


def downgrade() -> None:
    connection = op.get_bind()
    terms = sa.table("search_terms", sa.column("field", sa.String))
    connection.execute(sa.delete(terms).where(terms.c.field == _CONTAINING))
    op.drop_table("customer_properties")
    op.drop_table("property_definitions")
    _retype_age(connection, widen=False)
    for name in ("draft", "conversation_count", "organization_id"):
        if connection.dialect.name == "sqlite":
            op.execute(f"ALTER TABLE customers DROP COLUMN {name}")
        else:
            op.drop_column("customers", name)


def _retype_age(connection: sa.Connection, *, widen: bool) -> None:
    """`age` as TEXT (`widen`) or back to VARCHAR(20), cut to 20 characters."""
    if connection.dialect.name != "sqlite":
        op.alter_column(
            "customers",
            "age",
            type_=sa.Text() if widen else sa.String(20),
            existing_type=sa.String(20) if widen else sa.Text(),
            postgresql_using=None if widen else "left(age, 20)",
        )
        return
    kind, value = ("TEXT", "age") if widen else ("VARCHAR(20)", "substr(age, 1, 20)")
    op.execute(f"ALTER TABLE customers ADD COLUMN age_retyped {kind}")
    op.execute(f"UPDATE customers SET age_retyped = {value} WHERE age IS NOT NULL")
    op.execute("ALTER TABLE customers DROP COLUMN age")
    op.execute("ALTER TABLE customers RENAME COLUMN age_retyped TO age")


def _add_containing_terms(connection: sa.Connection) -> None:
    entries = sa.table(
        "entries",
        sa.column("id", sa.Integer),
        sa.column("account_id", sa.Integer),
        sa.column("customer_id", sa.Integer),
        sa.column("collection", sa.String),
        sa.column("value", sa.Text),
    )
    terms = sa.table(
        "search_terms",
        sa.column("customer_id", sa.Integer),
        sa.column("account_id", sa.Integer),
        sa.column("field", sa.String),
        sa.column("term", sa.Text),
    )
    last = 0
    while True:
        batch = connection.execute(
            sa.select(entries.c.id, entries.c.account_id, entries.c.customer_id, entries.c.value)
            .where(entries.c.collection == "emails", entries.c.id > last)
            .order_by(entries.c.id)
            .limit(_BATCH)
        ).all()
        if not batch:
            return
        last = batch[-1].id
        # Two addresses of one customer may fold alike (`ß` and `ss`): one term for both, as
        # `customer_terms` makes a set. Such a pair may straddle two batches: the pair's
        # customer is looked up again then.
        found = {
            (row.customer_id, row.account_id, folded(row.value))
            for row in batch
            if folded(row.value)
        }
        existing = {
            (row.customer_id, row.term)
            for row in connection.execute(
                sa.select(terms.c.customer_id, terms.c.term).where(
                    terms.c.field == _CONTAINING,
                    terms.c.customer_id.in_({customer for customer, _, _ in found}),
                )
            )
        }
        rows = [
            {"customer_id": customer, "account_id": account, "field": _CONTAINING, "term": term}
            for customer, account, term in sorted(found)
            if (customer, term) not in existing
        ]
        if rows:
            connection.execute(sa.insert(terms), rows)
