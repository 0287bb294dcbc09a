"""OAuth 2.0 apps, their tokens and authorization codes (v2 spec §1).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oauth_apps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("client_id", sa.String(32), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_oauth_apps"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_oauth_apps_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("client_id", name="uq_oauth_apps_client_id"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "oauth_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.Column("replaced_by", sa.Integer(), nullable=True),
        sa.Column("refresh_id", sa.Integer(), nullable=True),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("key_salt", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_oauth_tokens"),
        sa.ForeignKeyConstraint(
            ["app_id"],
            ["oauth_apps.id"],
            name="fk_oauth_tokens_app_id_oauth_apps",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_oauth_tokens_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["replaced_by"],
            ["oauth_tokens.id"],
            name="fk_oauth_tokens_replaced_by_oauth_tokens",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["refresh_id"],
            ["oauth_tokens.id"],
            name="fk_oauth_tokens_refresh_id_oauth_tokens",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            name="fk_oauth_tokens_api_key_id_api_keys",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("token_hash", name="uq_oauth_tokens_token_hash"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_oauth_tokens_app_expires", "oauth_tokens", ["app_id", "expires_at"])
    op.create_index("ix_oauth_tokens_api_key", "oauth_tokens", ["api_key_id"])
    op.create_table(
        "oauth_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_oauth_codes"),
        sa.ForeignKeyConstraint(
            ["app_id"],
            ["oauth_apps.id"],
            name="fk_oauth_codes_app_id_oauth_apps",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_oauth_codes_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("code_hash", name="uq_oauth_codes_code_hash"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_oauth_codes_app_expires", "oauth_codes", ["app_id", "expires_at"])


def downgrade() -> None:
    op.drop_table("oauth_codes")
    op.drop_table("oauth_tokens")
    op.drop_table("oauth_apps")
