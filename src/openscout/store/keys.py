"""Accounts and their API keys (stored hashed; a key is found by its hash)."""

from __future__ import annotations

import hmac
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy import exc as sa_exc

from openscout.store.base import ApiKey
from openscout.store.dialect import OnConnection
from openscout.store.prepared import Prepared
from openscout.store.rows import moment, seconds
from openscout.store.tables import accounts, api_keys

_KEY_ACCOUNT = Prepared(
    select(api_keys.c.account_id, api_keys.c.key_hash).where(
        api_keys.c.key_hash == bindparam("key_hash"), api_keys.c.revoked_at.is_(None)
    )
)


class KeyRows(OnConnection):
    def account_for_key(self, key_hash: str) -> int | None:
        row = _KEY_ACCOUNT.first(self.connection, key_hash=key_hash)
        # The index finds the row; the final comparison takes the same time whatever differs.
        if row is None or not hmac.compare_digest(row.key_hash, key_hash):
            return None
        return int(row.account_id)

    def find_account(self, name: str) -> int | None:
        return self._account_named(name)

    def ensure_account(self, name: str, now: datetime) -> int:
        """The one place accounts are made."""
        found = self._account_named(name)
        if found is not None:
            return found
        try:
            # Another process may be creating the same account (servers starting together on
            # a new database): the unique name lets one in, and the other uses that one.
            with self.connection.begin_nested():
                made = self.connection.execute(
                    insert(accounts)
                    .values(name=name, created_at=seconds(now))
                    .returning(accounts.c.id)
                ).scalar_one()
        except sa_exc.IntegrityError:
            made = self._account_named(name)
            assert made is not None
        return int(made)

    def _account_named(self, name: str) -> int | None:
        found = self.connection.execute(
            select(accounts.c.id).where(accounts.c.name == name)
        ).scalar()
        return None if found is None else int(found)

    def create_key(
        self, account: str, name: str | None, key_hash: str, prefix: str, now: datetime
    ) -> ApiKey:
        key_id = self.connection.execute(
            insert(api_keys)
            .values(
                account_id=self.ensure_account(account, now),
                name=name,
                key_hash=key_hash,
                key_prefix=prefix,
                created_at=seconds(now),
            )
            .returning(api_keys.c.id)
        ).scalar_one()
        return ApiKey(int(key_id), account, name, prefix, now, None)

    def list_keys(self) -> list[ApiKey]:
        rows = self.connection.execute(
            select(api_keys, accounts.c.name.label("account"))
            .join(accounts, accounts.c.id == api_keys.c.account_id)
            .order_by(api_keys.c.id)
        )
        return [
            ApiKey(
                id=row.id,
                account=row.account,
                name=row.name,
                prefix=row.key_prefix,
                created_at=moment(row.created_at),
                revoked_at=None if row.revoked_at is None else moment(row.revoked_at),
            )
            for row in rows
        ]

    def revoke_key(self, key_id: int, now: datetime) -> bool:
        result = self.connection.execute(
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=seconds(now))
        )
        return bool(result.rowcount)

    def count_live_keys(self) -> int:
        return int(
            self.connection.execute(
                select(func.count()).select_from(api_keys).where(api_keys.c.revoked_at.is_(None))
            ).scalar_one()
        )
