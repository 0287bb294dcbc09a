"""Bulk loads (`db seed`, fixtures): many new customers written at once, with COPY on
PostgreSQL and one prepared INSERT on SQLite; and PostgreSQL's keys and indexes set aside
while a load fills empty tables (docs/performance.md)."""

from __future__ import annotations

from collections.abc import Sequence

from openscout.domain.customers import Customer
from openscout.domain.errors import EmailTaken
from openscout.store import rows
from openscout.store.customers import count_new_customers
from openscout.store.dialect import OnConnection
from openscout.store.search import customer_terms, term_rows
from openscout.store.tables import (
    addresses,
    customer_properties,
    customers,
    entries,
    search_terms,
)

#: The tables a bulk load fills, parents first.
LOADED_TABLES = (customers, entries, addresses, search_terms)


class BulkRows(OnConnection):
    def add_customers(self, account_id: int, new: Sequence[Customer]) -> list[int]:
        # Ids drawn first, in order, then the rows written with them in bulk: an INSERT ...
        # RETURNING of thousands of rows spent most of a seed's time building and parsing its
        # statement, in SQLAlchemy and the driver (docs/performance.md).
        ids = self.dialect.next_ids(self.connection, customers, len(new))
        owned = list(zip(ids, new, strict=True))
        insert_many = self.dialect.insert_many
        insert_many(
            self.connection,
            customers,
            [
                {"id": customer_id, "account_id": account_id, **rows.customer_values(customer)}
                for customer_id, customer in owned
            ],
        )
        entry_rows = [
            row
            for customer_id, customer in owned
            for row in rows.all_entry_rows(account_id, customer_id, customer)
        ]
        address_rows = [
            {"customer_id": customer_id, **rows.address_values(customer.address)}
            for customer_id, customer in owned
            if customer.address is not None
        ]
        terms = [
            row
            for customer_id, customer in owned
            for row in term_rows(account_id, customer_id, customer_terms(customer))
        ]
        try:
            insert_many(self.connection, entries, entry_rows)
            insert_many(self.connection, addresses, address_rows)
        except self._integrity_errors as error:
            raise EmailTaken("") from error
        insert_many(self.connection, search_terms, terms)
        insert_many(
            self.connection,
            customer_properties,
            [
                row
                for customer_id, customer in owned
                for row in rows.property_rows(account_id, customer_id, customer.properties)
            ],
        )
        count_new_customers(self.connection, account_id, len(ids))
        return ids

    # -- PostgreSQL: checks set aside while a load fills empty tables

    def set_aside_checks(self) -> list[str]:
        """When the customer tables are empty, lock them and drop their foreign keys and
        non-unique indexes. Returns the statements that make them again (indexes first), or []
        when the tables hold rows and nothing was dropped."""
        run = self.connection.exec_driver_sql
        holds_customers = "SELECT EXISTS (SELECT 1 FROM customers)"
        if run(holds_customers).scalar():
            return []  # and nothing locked: a server on the database goes on as usual
        names = [table.name for table in LOADED_TABLES]
        run(f"LOCK TABLE {', '.join(names)} IN ACCESS EXCLUSIVE MODE")
        if run(holds_customers).scalar():  # written in between
            return []
        indexes = run(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " WHERE i.indrelid = ANY(%(names)s::regclass[])"
            " AND NOT i.indisunique AND NOT i.indisprimary ORDER BY 1",
            {"names": names},
        ).all()
        references = run(
            "SELECT c.conrelid::regclass::text, quote_ident(c.conname),"
            " pg_get_constraintdef(c.oid) FROM pg_constraint c"
            " WHERE c.contype = 'f' AND c.conrelid = ANY(%(names)s::regclass[]) ORDER BY 1, 2",
            {"names": names},
        ).all()
        for table, name, _definition in references:
            run(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        for name, _definition in indexes:
            run(f"DROP INDEX {name}")
        return [definition for _name, definition in indexes] + [
            f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"
            for table, name, definition in references
        ]

    def restore_checks(self, statements: Sequence[str]) -> None:
        """Run what `set_aside_checks` returned: every loaded row is checked once here."""
        for statement in statements:
            self.connection.exec_driver_sql(statement)
