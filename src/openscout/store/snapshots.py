"""One account's customers as a whole: read, cleared and put back (the control API's
snapshots and resets, docs/testing.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select, update

from openscout.domain.customers import Customer
from openscout.store import rows
from openscout.store.customers import count_new_customers, property_values
from openscout.store.dialect import OnConnection
from openscout.store.search import customer_terms, term_rows
from openscout.store.tables import (
    accounts,
    addresses,
    customer_properties,
    customers,
    entries,
    search_terms,
)


class SnapshotRows(OnConnection):
    def account_customers(self, account_id: int) -> list[Customer]:
        found = self.connection.execute(
            select(customers, *rows.ADDRESS_COLUMNS)
            .outerjoin(addresses, addresses.c.customer_id == customers.c.id)
            .where(customers.c.account_id == account_id)
            .order_by(customers.c.id)
        ).all()
        owned: dict[int, list[Any]] = {row.id: [] for row in found}
        for entry in self.connection.execute(
            select(
                entries.c.id,
                entries.c.customer_id,
                entries.c.collection,
                entries.c.value,
                entries.c.label,
            )
            .where(entries.c.account_id == account_id)
            .order_by(entries.c.id)
        ):
            # On PostgreSQL each statement reads as of its own start (READ COMMITTED): a customer
            # added between the two reads has entries here but no row above, and is left out.
            if entry.customer_id in owned:
                owned[entry.customer_id].append(entry)
        valued = property_values(self.connection, customer_properties.c.account_id == account_id)
        return [
            rows.customer(
                row, owned[row.id], valued.get(row.id, ()), address=rows.joined_address(row)
            )
            for row in found
        ]

    def clear_customers(self, account_id: int) -> int:
        mine = select(customers.c.id).where(customers.c.account_id == account_id)
        run = self.connection.execute
        run(delete(search_terms).where(search_terms.c.account_id == account_id))
        run(delete(customer_properties).where(customer_properties.c.customer_id.in_(mine)))
        run(delete(entries).where(entries.c.account_id == account_id))
        run(delete(addresses).where(addresses.c.customer_id.in_(mine)))
        removed = run(delete(customers).where(customers.c.account_id == account_id)).rowcount
        run(update(accounts).where(accounts.c.id == account_id).values(customer_count=0))
        return int(removed)

    def put_customers(self, account_id: int, saved: Sequence[Customer]) -> None:
        if not saved:
            return
        run = self.connection.execute
        run(
            insert(customers),
            [
                {"id": customer.id, "account_id": account_id, **rows.customer_values(customer)}
                for customer in saved
            ],
        )
        entry_rows = [
            row
            for customer in saved
            if customer.id is not None
            for row in rows.all_entry_rows(account_id, customer.id, customer, with_ids=True)
        ]
        address_rows = [
            {"id": customer.address.id, "customer_id": customer.id}
            | rows.address_values(customer.address)
            for customer in saved
            if customer.address is not None
        ]
        terms = [
            row
            for customer in saved
            if customer.id is not None
            for row in term_rows(account_id, customer.id, customer_terms(customer))
        ]
        values = [
            row
            for customer in saved
            if customer.id is not None
            for row in rows.property_rows(account_id, customer.id, customer.properties)
        ]
        for table, found in (
            (entries, entry_rows),
            (addresses, address_rows),
            (search_terms, terms),
            (customer_properties, values),
        ):
            if found:
                run(insert(table), found)
        count_new_customers(self.connection, account_id, len(saved))
