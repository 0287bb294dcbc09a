"""Customers one at a time (their address, entries, property values and search terms with them),
and the lists and searches over an account's customers (docs/performance.md)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import (
    Connection,
    Text,
    and_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal_column,
    null,
    select,
    union_all,
    update,
)

from openscout.domain.customers import Address, Collection, Customer, Entry, Property
from openscout.domain.errors import EmailTaken
from openscout.domain.search import EVERYTHING, Found, Search
from openscout.store import rows
from openscout.store.dialect import OnConnection
from openscout.store.prepared import Prepared
from openscout.store.search import condition, customer_terms, ordering, term_rows
from openscout.store.tables import (
    accounts,
    addresses,
    customer_properties,
    customers,
    entries,
    property_definitions,
    search_terms,
)


class CustomerRows(OnConnection):
    def get_customer(
        self, account_id: int, customer_id: int, *, for_update: bool = False
    ) -> Customer | None:
        load = _LOAD_FOR_UPDATE if for_update else _LOAD
        row = load.first(self.connection, customer_id=customer_id, account_id=account_id)
        if row is None:
            return None
        return rows.customer(
            row,
            _ENTRIES.all(self.connection, customer_id=customer_id),
            address=rows.joined_address(row),
        )

    def add_customer(self, account_id: int, customer: Customer) -> Customer:
        customer_id = self.connection.execute(
            insert(customers)
            .values(account_id=account_id, **rows.customer_values(customer))
            .returning(customers.c.id)
        ).scalar_one()
        count_new_customers(self.connection, account_id, 1)
        blank = Customer(
            id=customer_id, created_at=customer.created_at, modified_at=customer.modified_at
        )
        return self._write(account_id, blank, customer, customer_id, is_new=True)

    def save_customer(self, account_id: int, before: Customer, after: Customer) -> Customer:
        assert before.id is not None
        return self._write(account_id, before, after, before.id, is_new=False)

    def delete_customer(self, account_id: int, customer_id: int) -> bool:
        # Its entries, address, property values and search terms go with it (ON DELETE
        # CASCADE, each through an index that starts with the customer's id).
        deleted = _DELETE_CUSTOMER.scalar(
            self.connection, customer_id=customer_id, account_id=account_id
        )
        if deleted is None:
            return False
        count_new_customers(self.connection, account_id, -1)
        return True

    def email_owners(
        self, account_id: int, email_keys: Iterable[str], *, besides: int | None
    ) -> dict[str, int]:
        owners: dict[str, int] = {}
        for key in email_keys:  # usually one or two: one indexed lookup each
            owner = _EMAIL_OWNER.scalar(self.connection, account_id=account_id, value_key=key)
            if owner is not None and owner != besides:
                owners[key] = owner
        return owners

    # -- lists and searches (docs/performance.md)

    def find_customers(
        self,
        account_id: int,
        search: Search,
        *,
        with_emails: bool = False,
        with_entries: bool = False,
    ) -> Found:
        where = and_(customers.c.account_id == account_id, condition(account_id, search.criteria))
        count: int | None = None
        if search.criteria == EVERYTHING:
            count = self._customer_count(account_id)
        elif search.offset > 0:
            count = self._count(where)
        if count is not None and search.offset >= count:
            return Found(count, [])  # past the end: no need to skip through every match
        found = self.connection.execute(
            select(*rows.LISTED_COLUMNS)
            .where(where)
            .order_by(*ordering(search.sort))
            .limit(search.page_size)
            .offset(search.offset)
        ).all()
        if count is None:
            # A first page that is not full holds every match: counting them again is waste.
            count = len(found) if len(found) < search.page_size else self._count(where)
        if with_entries and found:
            return Found(count, self._whole([row.id for row in found], found))
        emails = self._emails_of([row.id for row in found]) if with_emails and found else {}
        return Found(count, [rows.listed(row, emails.get(row.id, ())) for row in found])

    def _whole(self, customer_ids: list[int], found: Sequence[Any]) -> list[Customer]:
        """The customers of a page with everything they have: one query for all their
        entries, one for their addresses, one for their property values."""
        owned: dict[int, list[Any]] = {customer_id: [] for customer_id in customer_ids}
        for entry in self.connection.execute(
            select(
                entries.c.id,
                entries.c.customer_id,
                entries.c.collection,
                entries.c.value,
                entries.c.label,
            )
            .where(entries.c.customer_id.in_(customer_ids))
            .order_by(entries.c.id)
        ):
            owned[entry.customer_id].append(entry)
        located = {
            row.customer_id: rows.joined_address(row)
            for row in self.connection.execute(
                select(addresses.c.customer_id, *rows.ADDRESS_COLUMNS).where(
                    addresses.c.customer_id.in_(customer_ids)
                )
            )
        }
        valued = property_values(
            self.connection, customer_properties.c.customer_id.in_(customer_ids)
        )
        return [
            rows.customer(
                row,
                owned[row.id],
                valued.get(row.id, ()),
                address=located.get(row.id),
            )
            for row in found
        ]

    def _customer_count(self, account_id: int) -> int:
        count = self.connection.execute(
            select(accounts.c.customer_count).where(accounts.c.id == account_id)
        ).scalar()
        return int(count or 0)

    def _count(self, where: Any) -> int:
        return int(
            self.connection.execute(
                select(func.count()).select_from(customers).where(where)
            ).scalar_one()
        )

    def _emails_of(self, customer_ids: list[int]) -> dict[int, list[Entry]]:
        found: dict[int, list[Entry]] = {}
        for row in self.connection.execute(
            select(entries.c.id, entries.c.customer_id, entries.c.value, entries.c.label)
            .where(
                entries.c.customer_id.in_(customer_ids),
                entries.c.collection == Collection.EMAILS.value,
            )
            .order_by(entries.c.id)
        ):
            found.setdefault(row.customer_id, []).append(Entry(row.id, row.value, row.label))
        return found

    # -- writing one customer

    def _write(
        self, account_id: int, before: Customer, after: Customer, customer_id: int, *, is_new: bool
    ) -> Customer:
        try:
            # Before the pipeline: SQLAlchemy reads its statements' answers at once.
            address = self._write_address(customer_id, before.address, after.address)
            with self.dialect.pipelined(self.connection):
                if not is_new and (values := rows.customer_values(after)) != rows.customer_values(
                    before
                ):
                    _UPDATE_CUSTOMER.execute(
                        self.connection,
                        customer=customer_id,
                        **{f"new_{name}": value for name, value in values.items()},
                    )
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
                self._write_properties(account_id, customer_id, before.properties, after.properties)
                self._write_terms(account_id, customer_id, before, after)
        except self._integrity_errors as error:
            # Only the unique email index can fail here: another customer took the address
            # between our check and our write. (A property value names a defined property:
            # the service checked, and definitions are never removed.)
            raise EmailTaken(rows.new_email(before, after)) from error
        return replace(after, id=customer_id, address=address, **collections)  # type: ignore[arg-type]

    def _write_address(
        self, customer_id: int, before: Address | None, after: Address | None
    ) -> Address | None:
        if after == before:
            return after
        if after is None:
            self.connection.execute(delete(addresses).where(addresses.c.customer_id == customer_id))
            return None
        values = rows.address_values(after)
        if before is None:
            address_id = self.connection.execute(
                insert(addresses)
                .values(customer_id=customer_id, **values)
                .returning(addresses.c.id)
            ).scalar_one()
            return Address(**{**rows.address_fields(after), "id": int(address_id)})
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
            _DELETE_ENTRY.execute_many(self.connection, [{"entry_id": id_} for id_ in gone])
        if changed:
            if collection is Collection.EMAILS and len(changed) > 1:
                # Two addresses trading places would collide in the unique index mid-way:
                # park the keys first ('#id' is never an email address).
                _PARK_ENTRY.execute_many(
                    self.connection, [{"entry_id": e.id, "parked": f"#{e.id}"} for e in changed]
                )
            _UPDATE_ENTRY.execute_many(
                self.connection,
                [
                    {
                        "entry_id": e.id,
                        "new_value": e.value,
                        "new_key": collection.key(e.value),
                        "new_label": e.label,
                    }
                    for e in changed
                ],
            )
        return _with_ids(after, self._insert_entries(account_id, customer_id, collection, added))

    def _insert_entries(
        self, account_id: int, customer_id: int, collection: Collection, added: list[Entry]
    ) -> list[int]:
        """Insert new entries; their ids, in order. One entry (most writes): one INSERT that
        returns its id. More: their ids drawn first, then one statement run for every row (the
        drivers return no ids from an executemany), not a statement per entry."""
        if not added:
            return []
        new = rows.entry_rows(account_id, customer_id, collection, added)
        if len(new) == 1:
            return [int(_INSERT_ENTRY.scalar(self.connection, **new[0]))]
        ids = self.dialect.next_ids(self.connection, entries, len(new))
        _INSERT_ENTRY_WITH_ID.execute_many(
            self.connection, [{**row, "id": id_} for id_, row in zip(ids, new, strict=True)]
        )
        return ids

    def _write_properties(
        self,
        account_id: int,
        customer_id: int,
        before: tuple[Property, ...],
        after: tuple[Property, ...],
    ) -> None:
        if before == after:
            return
        old = {item.slug: item.value for item in before}
        new = {item.slug: item.value for item in after}
        if gone := [slug for slug in old if slug not in new]:
            _DELETE_PROPERTY.execute_many(
                self.connection, [{"owner": customer_id, "old_slug": slug} for slug in gone]
            )
        if changed := [slug for slug, value in new.items() if old.get(slug, value) != value]:
            _UPDATE_PROPERTY.execute_many(
                self.connection,
                [{"owner": customer_id, "old_slug": s, "new_value": new[s]} for s in changed],
            )
        if added := [item for item in after if item.slug not in old]:
            _INSERT_PROPERTY.execute_many(
                self.connection, rows.property_rows(account_id, customer_id, added)
            )

    def _write_terms(
        self, account_id: int, customer_id: int, before: Customer, after: Customer
    ) -> None:
        """Keep `search_terms` equal to what `after` is found by."""
        old, new = customer_terms(before), customer_terms(after)
        if gone := old - new:
            _DELETE_TERM.execute_many(
                self.connection,
                [
                    {"owner": customer_id, "old_field": field, "old_term": term}
                    for field, term in gone
                ],
            )
        if added := new - old:
            _INSERT_TERM.execute_many(
                self.connection, term_rows(account_id, customer_id, sorted(added))
            )


def count_new_customers(connection: Connection, account_id: int, added: int) -> None:
    """Keep the account's count of customers (a list of everything reads it, not a COUNT);
    `added` is negative for removed ones."""
    _COUNT_CUSTOMERS.execute(connection, account_id=account_id, added=added)


def property_values(connection: Connection, where: Any) -> dict[int, list[Property]]:
    """The property values of the customers `where` selects (on `customer_properties`), by
    customer, each customer's in the order the account defined the properties."""
    found: dict[int, list[Property]] = {}
    for row in connection.execute(
        select(
            customer_properties.c.customer_id,
            customer_properties.c.value,
            *_DEFINITION_COLUMNS,
        )
        .join(property_definitions, _DEFINED)
        .where(where)
        .order_by(property_definitions.c.id)
    ):
        found.setdefault(row.customer_id, []).append(
            rows.property_value(row.slug, row.name, row.type, row.options, row.value)
        )
    return found


def _with_ids(found: tuple[Entry, ...], new_ids: list[int]) -> tuple[Entry, ...]:
    assigned = iter(new_ids)
    return tuple(
        entry if entry.id is not None else Entry(next(assigned), entry.value, entry.label)
        for entry in found
    )


# -- the hot paths' statements (store/prepared.py) ----------------------------------------------

_ONE_CUSTOMER = (
    select(customers, *rows.ADDRESS_COLUMNS)
    .outerjoin(addresses, addresses.c.customer_id == customers.c.id)
    .where(
        customers.c.id == bindparam("customer_id"),
        customers.c.account_id == bindparam("account_id"),
    )
)
_LOAD = Prepared(_ONE_CUSTOMER)
_LOAD_FOR_UPDATE = Prepared(_ONE_CUSTOMER.with_for_update(of=customers))
_DEFINED = and_(
    property_definitions.c.account_id == customer_properties.c.account_id,
    property_definitions.c.slug == customer_properties.c.slug,
)
_DEFINITION_COLUMNS = (
    property_definitions.c.slug,
    property_definitions.c.name,
    property_definitions.c.type,
    property_definitions.c.options,
)
# A customer's entries and property values in one round trip: a property value is a row of
# the `rows.PROPERTIES` collection, its slug as label, with its definition's columns (null for
# entries). Ordered by the entry's id, or the definition's (the order the account defined the
# properties in): each kind keeps its own order.
_ENTRIES = Prepared(
    union_all(
        select(
            entries.c.id,
            entries.c.collection,
            entries.c.value,
            entries.c.label,
            *(cast(null(), Text).label(name) for name in ("name", "type", "options")),
        ).where(entries.c.customer_id == bindparam("customer_id")),
        select(
            property_definitions.c.id,
            literal_column(f"'{rows.PROPERTIES}'"),
            customer_properties.c.value,
            property_definitions.c.slug,
            property_definitions.c.name,
            property_definitions.c.type,
            property_definitions.c.options,
        )
        .join(property_definitions, _DEFINED)
        .where(customer_properties.c.customer_id == bindparam("customer_id")),
    ).order_by(literal_column("id"))
)
_DELETE_CUSTOMER = Prepared(
    delete(customers)
    .where(
        customers.c.id == bindparam("customer_id"),
        customers.c.account_id == bindparam("account_id"),
    )
    .returning(customers.c.id)
)
_EMAIL_OWNER = Prepared(
    select(entries.c.customer_id).where(
        entries.c.account_id == bindparam("account_id"),
        entries.c.collection == Collection.EMAILS.value,
        entries.c.value_key == bindparam("value_key"),
    )
)
_UPDATE_CUSTOMER = Prepared(
    update(customers)
    .where(customers.c.id == bindparam("customer"))
    .values(
        {
            name: bindparam(f"new_{name}")
            for name in (
                *rows.SCALARS,
                "created_at",
                "modified_at",
                "first_name_key",
                "last_name_key",
            )
        }
    )
)
_COUNT_CUSTOMERS = Prepared(
    update(accounts)
    .where(accounts.c.id == bindparam("account_id"))
    .values(customer_count=accounts.c.customer_count + bindparam("added"))
)
_DELETE_ENTRY = Prepared(delete(entries).where(entries.c.id == bindparam("entry_id")))
_PARK_ENTRY = Prepared(
    update(entries)
    .where(entries.c.id == bindparam("entry_id"))
    .values(value_key=bindparam("parked"))
)
_UPDATE_ENTRY = Prepared(
    update(entries)
    .where(entries.c.id == bindparam("entry_id"))
    .values(
        value=bindparam("new_value"),
        value_key=bindparam("new_key"),
        label=bindparam("new_label"),
    )
)
_ENTRY_VALUES: dict[str, Any] = {
    name: bindparam(name)
    for name in ("account_id", "customer_id", "collection", "value", "value_key", "label")
}
_INSERT_ENTRY = Prepared(insert(entries).values(_ENTRY_VALUES).returning(entries.c.id))
_INSERT_ENTRY_WITH_ID = Prepared(insert(entries).values(id=bindparam("id"), **_ENTRY_VALUES))
_OWN_PROPERTY = (
    customer_properties.c.customer_id == bindparam("owner"),
    customer_properties.c.slug == bindparam("old_slug"),
)
_DELETE_PROPERTY = Prepared(delete(customer_properties).where(*_OWN_PROPERTY))
_UPDATE_PROPERTY = Prepared(
    update(customer_properties).where(*_OWN_PROPERTY).values(value=bindparam("new_value"))
)
_INSERT_PROPERTY = Prepared(
    insert(customer_properties).values(
        {name: bindparam(name) for name in ("customer_id", "account_id", "slug", "value")}
    )
)
_DELETE_TERM = Prepared(
    delete(search_terms).where(
        search_terms.c.customer_id == bindparam("owner"),
        search_terms.c.field == bindparam("old_field"),
        search_terms.c.term == bindparam("old_term"),
    )
)
_INSERT_TERM = Prepared(
    insert(search_terms).values(
        customer_id=bindparam("customer_id"),
        account_id=bindparam("account_id"),
        field=bindparam("field"),
        term=bindparam("term"),
    )
)
