"""Email keys by the comparison rule of docs/decisions/email-uniqueness.md.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

Email entries were keyed by Python's `casefold()` of the whole address; they are now keyed by
`openscout.domain.emails.key`. Both are lower-casing for plain ASCII, so only addresses with
other characters get a new key here. Should an address's new key already belong to another
email of its account (two addresses the old rule told apart, such as a domain written in
full-width letters and in ASCII), the later one keeps its old key: both stay as they were, and
the migration never fails on the unique index.
"""

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

from openscout.domain.emails import key

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _rekey(op.get_bind(), key)


def downgrade() -> None:
    _rekey(op.get_bind(), str.casefold)


def _rekey(connection: sa.Connection, rule: Callable[[str], str]) -> None:
    entries = sa.table(
        "entries",
        sa.column("id", sa.Integer),
        sa.column("account_id", sa.Integer),
        sa.column("collection", sa.String),
        sa.column("value", sa.Text),
        sa.column("value_key", sa.Text),
    )
    if connection.dialect.name == "sqlite":
        non_ascii = sa.func.length(sa.cast(entries.c.value, sa.LargeBinary)) != sa.func.length(
            entries.c.value
        )
    else:
        non_ascii = sa.func.octet_length(entries.c.value) != sa.func.char_length(entries.c.value)
    rows = connection.execute(
        sa.select(entries.c.id, entries.c.account_id, entries.c.value, entries.c.value_key)
        .where(entries.c.collection == "emails", non_ascii)
        .order_by(entries.c.id)
    ).all()
    taken = (
        sa.select(entries.c.id)
        .where(
            entries.c.account_id == sa.bindparam("account"),
            entries.c.collection == "emails",
            entries.c.value_key == sa.bindparam("wanted"),
        )
        .limit(1)
    )
    change = (
        sa.update(entries)
        .where(entries.c.id == sa.bindparam("entry"))
        .values(value_key=sa.bindparam("wanted"))
    )
    for row in rows:
        wanted = rule(row.value)
        if wanted == row.value_key:
            continue
        if connection.execute(taken, {"account": row.account_id, "wanted": wanted}).first():
            continue
        connection.execute(change, {"entry": row.id, "wanted": wanted})
