"""OAuth apps, their tokens and authorization codes (stored hashed; each found by its hash)."""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, insert, or_, select, update

from openscout.store.base import (
    ACCESS,
    REFRESH,
    App,
    Code,
    LiveKey,
    NewToken,
    Token,
    TransitionPair,
)
from openscout.store.dialect import OnConnection
from openscout.store.prepared import Prepared
from openscout.store.rows import moment, seconds
from openscout.store.tables import accounts, api_keys, oauth_apps, oauth_codes, oauth_tokens

#: How long a used refresh token is kept after it was replaced (then it is unknown, not used).
RETIRED_KEPT_SECONDS = 86_400

# Every request of the v2 API asks this: one indexed read, the app's state joined in.
_TOKEN_ACCOUNT = Prepared(
    select(oauth_tokens.c.account_id, oauth_tokens.c.token_hash)
    .join(oauth_apps, oauth_apps.c.id == oauth_tokens.c.app_id)
    .where(
        oauth_tokens.c.token_hash == bindparam("token_hash"),
        oauth_tokens.c.kind == ACCESS,
        oauth_tokens.c.revoked_at.is_(None),
        oauth_tokens.c.expires_at > bindparam("now"),
        oauth_apps.c.revoked_at.is_(None),
    )
)


class AppRows(OnConnection):
    def create_app(
        self,
        account_id: int,
        name: str,
        client_id: str,
        secret_hash: str,
        redirect_uri: str | None,
        now: datetime,
    ) -> int:
        app_id = self.connection.execute(
            insert(oauth_apps)
            .values(
                account_id=account_id,
                name=name,
                client_id=client_id,
                secret_hash=secret_hash,
                redirect_uri=redirect_uri,
                created_at=seconds(now),
            )
            .returning(oauth_apps.c.id)
        ).scalar_one()
        return int(app_id)

    def list_apps(self) -> list[App]:
        rows = self.connection.execute(_apps().order_by(oauth_apps.c.id))
        return [_app(row) for row in rows]

    def find_app(self, client_id: str) -> tuple[App, str] | None:
        row = self.connection.execute(_apps().where(oauth_apps.c.client_id == client_id)).first()
        return None if row is None else (_app(row), row.secret_hash)

    def revoke_app(self, client_id: str, now: datetime) -> bool:
        result = self.connection.execute(
            update(oauth_apps)
            .where(oauth_apps.c.client_id == client_id, oauth_apps.c.revoked_at.is_(None))
            .values(revoked_at=seconds(now))
        )
        return bool(result.rowcount)

    def add_token(self, token: NewToken, now: datetime) -> int:
        token_id = self.connection.execute(
            insert(oauth_tokens)
            .values(
                token_hash=token.token_hash,
                kind=token.kind,
                app_id=token.app_id,
                account_id=token.account_id,
                created_at=seconds(now),
                expires_at=None if token.expires_at is None else seconds(token.expires_at),
                refresh_id=token.refresh_id,
                api_key_id=token.api_key_id,
                key_salt=token.key_salt,
            )
            .returning(oauth_tokens.c.id)
        ).scalar_one()
        return int(token_id)

    def find_token(self, token_hash: str) -> Token | None:
        row = self.connection.execute(
            select(
                oauth_tokens.c.id,
                oauth_tokens.c.kind,
                oauth_tokens.c.app_id,
                oauth_tokens.c.account_id,
                oauth_tokens.c.expires_at,
                oauth_tokens.c.revoked_at,
            ).where(oauth_tokens.c.token_hash == token_hash)
        ).first()
        if row is None:
            return None
        return Token(
            id=row.id,
            kind=row.kind,
            app_id=row.app_id,
            account_id=row.account_id,
            expires_at=_maybe(row.expires_at),
            revoked_at=_maybe(row.revoked_at),
        )

    def retire_token(self, token_id: int, now: datetime, replaced_by: int | None) -> bool:
        # Only a live token is retired: of two requests using one refresh token at once, the
        # second finds it retired (on PostgreSQL, after waiting for the first to commit).
        result = self.connection.execute(
            update(oauth_tokens)
            .where(oauth_tokens.c.id == token_id, oauth_tokens.c.revoked_at.is_(None))
            .values(revoked_at=seconds(now), replaced_by=replaced_by)
        )
        return bool(result.rowcount)

    def account_for_token(self, token_hash: str, now: datetime) -> int | None:
        row = _TOKEN_ACCOUNT.first(self.connection, token_hash=token_hash, now=seconds(now))
        # The index finds the row; the final comparison takes the same time whatever differs.
        if row is None or not hmac.compare_digest(row.token_hash, token_hash):
            return None
        return int(row.account_id)

    def add_code(
        self,
        code_hash: str,
        app_id: int,
        account_id: int,
        redirect_uri: str | None,
        expires_at: datetime,
        now: datetime,
    ) -> None:
        self.connection.execute(
            insert(oauth_codes).values(
                code_hash=code_hash,
                app_id=app_id,
                account_id=account_id,
                redirect_uri=redirect_uri,
                created_at=seconds(now),
                expires_at=seconds(expires_at),
            )
        )

    def find_code(self, code_hash: str) -> Code | None:
        row = self.connection.execute(
            select(oauth_codes).where(oauth_codes.c.code_hash == code_hash)
        ).first()
        if row is None:
            return None
        return Code(
            id=row.id,
            app_id=row.app_id,
            account_id=row.account_id,
            redirect_uri=row.redirect_uri,
            expires_at=moment(row.expires_at),
            used_at=_maybe(row.used_at),
        )

    def use_code(self, code_id: int, now: datetime) -> bool:
        result = self.connection.execute(
            update(oauth_codes)
            .where(oauth_codes.c.id == code_id, oauth_codes.c.used_at.is_(None))
            .values(used_at=seconds(now))
        )
        return bool(result.rowcount)

    def live_key(self, key_hash: str) -> LiveKey | None:
        row = self.connection.execute(
            select(api_keys.c.id, api_keys.c.account_id, api_keys.c.key_hash).where(
                api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None)
            )
        ).first()
        if row is None or not hmac.compare_digest(row.key_hash, key_hash):
            return None
        return LiveKey(int(row.id), int(row.account_id))

    def transition_pair(self, app_id: int, api_key_id: int, now: datetime) -> TransitionPair | None:
        refresh = oauth_tokens.alias("refresh")
        row = self.connection.execute(
            select(oauth_tokens.c.key_salt, oauth_tokens.c.expires_at)
            .join(refresh, refresh.c.id == oauth_tokens.c.refresh_id)
            .where(
                oauth_tokens.c.api_key_id == api_key_id,
                oauth_tokens.c.app_id == app_id,
                oauth_tokens.c.kind == ACCESS,
                oauth_tokens.c.revoked_at.is_(None),
                oauth_tokens.c.expires_at > seconds(now),
                oauth_tokens.c.key_salt.is_not(None),
                refresh.c.revoked_at.is_(None),
            )
            .order_by(oauth_tokens.c.id.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        return TransitionPair(row.key_salt, moment(row.expires_at))

    def forget_expired(self, app_id: int, now: datetime) -> None:
        at = seconds(now)
        self.connection.execute(
            delete(oauth_tokens).where(
                oauth_tokens.c.app_id == app_id,
                or_(
                    and_(oauth_tokens.c.kind == ACCESS, oauth_tokens.c.expires_at <= at),
                    and_(
                        oauth_tokens.c.kind == REFRESH,
                        oauth_tokens.c.revoked_at < at - RETIRED_KEPT_SECONDS,
                    ),
                ),
            )
        )
        self.connection.execute(
            delete(oauth_codes).where(
                oauth_codes.c.app_id == app_id, oauth_codes.c.expires_at <= at
            )
        )


def _apps() -> Any:
    return select(oauth_apps, accounts.c.name.label("account")).join(
        accounts, accounts.c.id == oauth_apps.c.account_id
    )


def _app(row: Any) -> App:
    return App(
        id=row.id,
        account_id=row.account_id,
        account=row.account,
        name=row.name,
        client_id=row.client_id,
        redirect_uri=row.redirect_uri,
        created_at=moment(row.created_at),
        revoked_at=_maybe(row.revoked_at),
    )


def _maybe(value: int | None) -> datetime | None:
    return None if value is None else moment(value)
