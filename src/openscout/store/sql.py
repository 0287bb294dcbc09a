"""SqlStore: the Store for SQLite and PostgreSQL through SQLAlchemy Core.

Every dialect difference and every driver error stops in this module: above it nothing sees
`sqlalchemy`. SQLite is opened in WAL mode with one writer at a time (a lock inside the process,
`BEGIN IMMEDIATE` across processes); PostgreSQL locks the customer row for the length of an
update (`SELECT ... FOR UPDATE`), so concurrent updates of one customer queue up instead of
overwriting each other (docs/concurrency.md).
"""

from __future__ import annotations

import hmac
import json
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from openscout.domain.customers import Address, Collection, Customer, Entry
from openscout.domain.errors import EmailTaken, StoreUnavailable
from openscout.store.base import ApiKey
from openscout.store.tables import accounts, addresses, api_keys, customers, entries

_WRITE = "openscout_write"
_SCALARS = (
    "first_name",
    "last_name",
    "organization",
    "job_title",
    "background",
    "location",
    "photo_url",
    "photo_type",
    "gender",
    "age",
)


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def _moment(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _collection_key(collection: Collection, value: str) -> str:
    return collection.key(value)


class SqlStore:
    """A Store on one database URL (`sqlite:///path` or `postgresql://...`)."""

    def __init__(self, url: str, *, pool_size: int = 8) -> None:
        parsed = make_url(url)
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        options: dict[str, Any] = {}
        if not self.is_sqlite:
            options = {"pool_size": pool_size, "max_overflow": 0, "pool_pre_ping": True}
        self.engine: Engine = create_engine(parsed, **options)
        # One writer at a time within this process; BEGIN IMMEDIATE orders the processes.
        self._write_lock: threading.Lock | None = threading.Lock() if self.is_sqlite else None
        if self.is_sqlite:
            _configure_sqlite(self.engine)

    @contextmanager
    def reading(self) -> Iterator[SqlTransaction]:
        with self._translated(), self.engine.connect() as connection, connection.begin():
            yield SqlTransaction(connection, self.is_sqlite)

    @contextmanager
    def writing(self) -> Iterator[SqlTransaction]:
        lock = self._write_lock or nullcontext()
        with self._translated(), lock, self.engine.connect() as connection:
            connection.execution_options(**{_WRITE: True})
            with connection.begin():
                yield SqlTransaction(connection, self.is_sqlite)

    def ping(self) -> None:
        with self._translated(), self.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """Driver errors that mean "the database is not there" become StoreUnavailable."""
        try:
            yield
        except sa_exc.OperationalError as error:
            if self.is_sqlite and "locked" not in str(error.orig):
                raise
            raise StoreUnavailable(str(error.orig)) from error
        except sa_exc.DBAPIError as error:
            if error.connection_invalidated:
                raise StoreUnavailable(str(error.orig)) from error
            raise


def _configure_sqlite(engine: Engine) -> None:
    """WAL, a busy timeout, foreign keys; transactions begun by us (docs/performance.md)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below decide how a transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "busy_timeout=10000",
            "cache_size=-65536",
            "mmap_size=268435456",
            "temp_store=MEMORY",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        is_write = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if is_write else "BEGIN")


class SqlTransaction:
    """A Transaction on one open connection."""

    def __init__(self, connection: Connection, is_sqlite: bool) -> None:
        self.connection = connection
        self.is_sqlite = is_sqlite

    # -- keys and accounts

    def account_for_key(self, key_hash: str) -> int | None:
        row = self.connection.execute(
            select(api_keys.c.account_id, api_keys.c.key_hash).where(
                api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None)
            )
        ).first()
        # The index finds the row; the final comparison takes the same time whatever differs.
        if row is None or not hmac.compare_digest(row.key_hash, key_hash):
            return None
        return int(row.account_id)

    def create_key(
        self, account: str, name: str | None, key_hash: str, prefix: str, now: datetime
    ) -> ApiKey:
        account_id = self.connection.execute(
            select(accounts.c.id).where(accounts.c.name == account)
        ).scalar()
        if account_id is None:
            account_id = self.connection.execute(
                insert(accounts)
                .values(name=account, created_at=_seconds(now))
                .returning(accounts.c.id)
            ).scalar_one()
        key_id = self.connection.execute(
            insert(api_keys)
            .values(
                account_id=account_id,
                name=name,
                key_hash=key_hash,
                key_prefix=prefix,
                created_at=_seconds(now),
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
                created_at=_moment(row.created_at),
                revoked_at=None if row.revoked_at is None else _moment(row.revoked_at),
            )
            for row in rows
        ]

    def revoke_key(self, key_id: int, now: datetime) -> bool:
        result = self.connection.execute(
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=_seconds(now))
        )
        return bool(result.rowcount)

    def count_live_keys(self) -> int:
        return int(
            self.connection.execute(
                select(func.count()).select_from(api_keys).where(api_keys.c.revoked_at.is_(None))
            ).scalar_one()
        )

    # -- customers

    def get_customer(
        self, account_id: int, customer_id: int, *, for_update: bool = False
    ) -> Customer | None:
        query = (
            select(customers, *_ADDRESS_COLUMNS)
            .outerjoin(addresses, addresses.c.customer_id == customers.c.id)
            .where(customers.c.id == customer_id, customers.c.account_id == account_id)
        )
        if for_update:
            query = query.with_for_update(of=customers)
        row = self.connection.execute(query).first()
        if row is None:
            return None
        entry_rows = self.connection.execute(
            select(entries.c.id, entries.c.collection, entries.c.value, entries.c.label)
            .where(entries.c.customer_id == customer_id)
            .order_by(entries.c.id)
        ).all()
        return _customer(row, entry_rows)

    def add_customer(self, account_id: int, customer: Customer) -> Customer:
        customer_id = self.connection.execute(
            insert(customers)
            .values(account_id=account_id, **_customer_values(customer))
            .returning(customers.c.id)
        ).scalar_one()
        blank = Customer(
            id=customer_id, created_at=customer.created_at, modified_at=customer.modified_at
        )
        return self._write(account_id, blank, customer, customer_id, is_new=True)

    def save_customer(self, account_id: int, before: Customer, after: Customer) -> Customer:
        assert before.id is not None
        return self._write(account_id, before, after, before.id, is_new=False)

    def email_owners(
        self, account_id: int, email_keys: Iterable[str], *, besides: int | None
    ) -> dict[str, int]:
        keys = list(email_keys)
        if not keys:
            return {}
        query = select(entries.c.value_key, entries.c.customer_id).where(
            entries.c.account_id == account_id,
            entries.c.collection == Collection.EMAILS.value,
            entries.c.value_key.in_(keys),
        )
        if besides is not None:
            query = query.where(entries.c.customer_id != besides)
        return {row.value_key: row.customer_id for row in self.connection.execute(query)}

    # -- writing one customer

    def _write(
        self, account_id: int, before: Customer, after: Customer, customer_id: int, *, is_new: bool
    ) -> Customer:
        try:
            if not is_new and _customer_values(before) != _customer_values(after):
                self.connection.execute(
                    update(customers)
                    .where(customers.c.id == customer_id)
                    .values(**_customer_values(after))
                )
            address = self._write_address(customer_id, before.address, after.address)
            collections = {
                collection.value: self._write_entries(
                    account_id,
                    customer_id,
                    collection,
                    before.entries(collection),
                    after.entries(collection),
                )
                for collection in Collection
            }
        except sa_exc.IntegrityError as error:
            # Only the unique email index can fail here: another customer took the address
            # between our check and our write.
            raise EmailTaken(_new_email(before, after)) from error
        return Customer(
            **{
                **{name: getattr(after, name) for name in _SCALARS},
                "id": customer_id,
                "created_at": after.created_at,
                "modified_at": after.modified_at,
                "address": address,
                **collections,
            }
        )

    def _write_address(
        self, customer_id: int, before: Address | None, after: Address | None
    ) -> Address | None:
        if after == before:
            return after
        if after is None:
            self.connection.execute(delete(addresses).where(addresses.c.customer_id == customer_id))
            return None
        values = {
            "lines": json.dumps(list(after.lines)),
            "city": after.city,
            "state": after.state,
            "postal_code": after.postal_code,
            "country": after.country,
            "created_at": _seconds(after.created_at or after.modified_at or _epoch),
            "modified_at": None if after.modified_at is None else _seconds(after.modified_at),
        }
        if before is None:
            address_id = self.connection.execute(
                insert(addresses)
                .values(customer_id=customer_id, **values)
                .returning(addresses.c.id)
            ).scalar_one()
            return Address(
                **{**_address_fields(after), "id": int(address_id)},
            )
        self.connection.execute(
            update(addresses).where(addresses.c.customer_id == customer_id).values(**values)
        )
        return after

    def _write_entries(
        self,
        account_id: int,
        customer_id: int,
        collection: Collection,
        before: tuple[Entry, ...],
        after: tuple[Entry, ...],
    ) -> tuple[Entry, ...]:
        if before == after:
            return after
        previous = {entry.id: entry for entry in before}
        kept = {entry.id for entry in after if entry.id is not None}
        gone = [entry_id for entry_id in previous if entry_id not in kept]
        changed = [e for e in after if e.id is not None and previous.get(e.id) != e]
        added = [e for e in after if e.id is None]
        if gone:
            self.connection.execute(delete(entries).where(entries.c.id.in_(gone)))
        if changed:
            if collection is Collection.EMAILS and len(changed) > 1:
                # Two addresses trading places would collide in the unique index mid-way:
                # park the keys first ('#id' is never an email address).
                self.connection.execute(
                    update(entries)
                    .where(entries.c.id == bindparam("entry_id"))
                    .values(value_key=bindparam("parked")),
                    [{"entry_id": e.id, "parked": f"#{e.id}"} for e in changed],
                )
            self.connection.execute(
                update(entries)
                .where(entries.c.id == bindparam("entry_id"))
                .values(
                    value=bindparam("new_value"),
                    value_key=bindparam("new_key"),
                    label=bindparam("new_label"),
                ),
                [
                    {
                        "entry_id": e.id,
                        "new_value": e.value,
                        "new_key": _collection_key(collection, e.value),
                        "new_label": e.label,
                    }
                    for e in changed
                ],
            )
        new_ids: list[int] = []
        if added:
            rows = [
                {
                    "account_id": account_id,
                    "customer_id": customer_id,
                    "collection": collection.value,
                    "value": e.value,
                    "value_key": _collection_key(collection, e.value),
                    "label": e.label,
                }
                for e in added
            ]
            result = self.connection.execute(
                insert(entries).returning(entries.c.id, sort_by_parameter_order=True), rows
            )
            new_ids = [int(row.id) for row in result]
        assigned = iter(new_ids)
        return tuple(
            entry if entry.id is not None else Entry(next(assigned), entry.value, entry.label)
            for entry in after
        )


_epoch = datetime.fromtimestamp(0, UTC)

_ADDRESS_COLUMNS = (
    addresses.c.id.label("address_id"),
    addresses.c.lines.label("address_lines"),
    addresses.c.city.label("address_city"),
    addresses.c.state.label("address_state"),
    addresses.c.postal_code.label("address_postal_code"),
    addresses.c.country.label("address_country"),
    addresses.c.created_at.label("address_created_at"),
    addresses.c.modified_at.label("address_modified_at"),
)


def _customer_values(customer: Customer) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(customer, name) for name in _SCALARS}
    values["created_at"] = _seconds(customer.created_at)
    values["modified_at"] = _seconds(customer.modified_at)
    return values


def _address_fields(address: Address) -> dict[str, Any]:
    return {
        "id": address.id,
        "lines": address.lines,
        "city": address.city,
        "state": address.state,
        "postal_code": address.postal_code,
        "country": address.country,
        "created_at": address.created_at,
        "modified_at": address.modified_at,
    }


def _customer(row: Any, entry_rows: Sequence[Any]) -> Customer:
    grouped: dict[str, list[Entry]] = {collection.value: [] for collection in Collection}
    for entry in entry_rows:
        grouped[entry.collection].append(Entry(entry.id, entry.value, entry.label))
    address = None
    if row.address_id is not None:
        address = Address(
            id=row.address_id,
            lines=tuple(json.loads(row.address_lines)),
            city=row.address_city,
            state=row.address_state,
            postal_code=row.address_postal_code,
            country=row.address_country,
            created_at=_moment(row.address_created_at),
            modified_at=None
            if row.address_modified_at is None
            else _moment(row.address_modified_at),
        )
    values: dict[str, Any] = {name: getattr(row, name) for name in _SCALARS}
    values.update((name, tuple(found)) for name, found in grouped.items())
    return Customer(
        id=row.id,
        created_at=_moment(row.created_at),
        modified_at=_moment(row.modified_at),
        address=address,
        **values,
    )


def _new_email(before: Customer, after: Customer) -> str:
    known = {Collection.EMAILS.key(entry.value) for entry in before.emails}
    fresh = [e.value for e in after.emails if Collection.EMAILS.key(e.value) not in known]
    return fresh[0] if fresh else ""
