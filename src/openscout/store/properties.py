"""The account's custom fields: property definitions, made and listed (domain/properties.py).
Customers' values of them are written and read with the customers (store/customers.py)."""

from __future__ import annotations

from openscout.domain.properties import PropertyDefinition
from openscout.store import rows
from openscout.store.dialect import OnConnection
from openscout.store.tables import property_definitions


class PropertyRows(OnConnection):
    def define_property(self, account_id: int, definition: PropertyDefinition) -> bool:
        made = self.connection.execute(
            self.dialect.upsert(property_definitions)
            .values(
                account_id=account_id,
                slug=definition.slug,
                name=definition.name,
                type=definition.type.value,
                options=rows.options_text(definition.options),
            )
            .on_conflict_do_nothing(
                index_elements=[property_definitions.c.account_id, property_definitions.c.slug]
            )
            .returning(property_definitions.c.id)
        ).scalar()
        return made is not None

    def property_definitions(self, account_id: int) -> list[PropertyDefinition]:
        columns = property_definitions.c
        return [
            rows.definition(row.slug, row.name, row.type, row.options)
            for row in self.connection.execute(
                property_definitions.select()
                .where(columns.account_id == account_id)
                .order_by(columns.id)
            )
        ]
