"""Core statements compiled once per dialect and run on the driver's cursor: the hot paths.

Loading and saving one customer issues a handful of small statements. Built and executed through
SQLAlchemy's full machinery, most of their cost is Python spent constructing the statement,
computing its cache key and wrapping the result (docs/performance.md has the profile). The
statements here are still written once with SQLAlchemy Core against `tables.py`, and SQLAlchemy
still writes the SQL text for each dialect; only the execution skips the layers in between.
Rows come back as plain tuples, named by `Prepared.Row`.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from sqlalchemy import Connection
from sqlalchemy.sql.expression import ClauseElement


class Prepared:
    """One statement; parameters are passed by name whatever the driver's style."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}
        names = [column.key for column in getattr(statement, "selected_columns", ())]
        self.Row: Any = namedtuple("Row", names) if names else None

    def _sql(self, connection: Connection) -> _Compiled:
        dialect = connection.dialect
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled: Any = self.statement.compile(dialect=dialect)
            order = tuple(compiled.positiontup or ()) if dialect.positional else None
            # Values written into the statement (a literal in a WHERE) are parameters too.
            constants = {k: v for k, v in compiled.params.items() if v is not None}
            found = self._compiled[dialect.name] = _Compiled(compiled.string, order, constants)
        return found

    def _cursor(self, connection: Connection, sql: str, parameters: Any, many: bool) -> Any:
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        if connection.dispatch.before_cursor_execute:
            # Listeners (SQL echo, a test recording statements) see these statements too. Only
            # when there are some: the dispatch itself costs about as much as a SQLite lookup.
            connection.dispatch.before_cursor_execute(
                connection, cursor, sql, parameters, None, many
            )
        return cursor

    def execute(self, connection: Connection, **values: Any) -> Any:
        """Run once; returns the driver's cursor."""
        compiled = self._sql(connection)
        parameters = compiled.bind(values)
        cursor = self._cursor(connection, compiled.sql, parameters, False)
        cursor.execute(compiled.sql, parameters)
        return cursor

    def execute_many(self, connection: Connection, rows: Iterable[Mapping[str, Any]]) -> None:
        compiled = self._sql(connection)
        parameters = [compiled.bind(row) for row in rows]
        self._cursor(connection, compiled.sql, parameters, True).executemany(
            compiled.sql, parameters
        )

    def first(self, connection: Connection, **values: Any) -> Any:
        row = self.execute(connection, **values).fetchone()
        return None if row is None else self.Row._make(row)

    def all(self, connection: Connection, **values: Any) -> list[Any]:
        return [self.Row._make(row) for row in self.execute(connection, **values).fetchall()]

    def scalar(self, connection: Connection, **values: Any) -> Any:
        row = self.execute(connection, **values).fetchone()
        return None if row is None else row[0]


class _Compiled(NamedTuple):
    sql: str
    order: tuple[str, ...] | None  # parameter names by position, for positional drivers
    constants: dict[str, Any]

    def bind(self, values: Mapping[str, Any]) -> Any:
        if self.constants:
            values = {**self.constants, **values}
        return values if self.order is None else tuple(values[name] for name in self.order)
