"""The migrations build exactly the schema that tables.py describes (STYLE.md §5)."""

from __future__ import annotations

import ast
import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from openscout import keys
from openscout.store import schema
from openscout.store.engine import SqlStore
from openscout.store.tables import metadata

VERSIONS = Path(schema.__file__).parent / "migrations" / "versions"


@pytest.fixture
def empty_store(empty_database_url: str) -> SqlStore:
    store = SqlStore(empty_database_url)
    yield store  # type: ignore[misc]
    store.close()


def revisions() -> list[tuple[str, str, str | None]]:
    """(file name, revision, down_revision) of every migration, in file-name order."""
    found = []
    for path in sorted(VERSIONS.glob("*.py")):
        if path.name == "__init__.py":
            continue
        values: dict[str, str | None] = {}
        for node in ast.parse(path.read_text("utf-8")).body:
            target = node.targets[0] if isinstance(node, ast.Assign) else None
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                values[target.id] = ast.literal_eval(node.value)  # type: ignore[union-attr]
        found.append((path.name, str(values["revision"]), values["down_revision"]))
    return found


def test_a_new_database_has_no_revision(empty_store: SqlStore) -> None:
    assert schema.current_revision(empty_store) is None


def test_migrating_a_new_database_reaches_the_head_with_no_drift(empty_store: SqlStore) -> None:
    schema.upgrade(empty_store)
    assert schema.current_revision(empty_store) == schema.head_revision()
    assert schema.drift(empty_store) == []
    tables = set(inspect(empty_store.engine).get_table_names())
    assert tables == {*metadata.tables, "alembic_version"}


def test_on_sqlite_the_database_is_a_file_that_the_migrations_create(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    store = SqlStore(f"sqlite:///{path}")
    try:
        schema.upgrade(store)
        assert schema.drift(store) == []
    finally:
        store.close()
    assert path.is_file() and path.stat().st_size > 0


def test_upgrading_twice_is_harmless_and_keeps_the_data(empty_store: SqlStore) -> None:
    schema.upgrade(empty_store)
    key = keys.generate_key()
    with empty_store.writing() as transaction:
        transaction.create_key("acme", "kept", keys.hash_key(key), key[:4], datetime.now(UTC))
    schema.upgrade(empty_store)
    assert schema.current_revision(empty_store) == schema.head_revision()
    assert schema.drift(empty_store) == []
    with empty_store.reading() as transaction:
        assert [k.name for k in transaction.list_keys()] == ["kept"]
        assert transaction.account_for_key(keys.hash_key(key)) is not None


def test_a_column_added_behind_the_codes_back_is_drift(empty_store: SqlStore) -> None:
    """The drift check can fail: `openscout db check` relies on it."""
    schema.upgrade(empty_store)
    with empty_store.writing() as transaction:
        transaction.connection.execute(text("ALTER TABLE customers ADD COLUMN nickname TEXT"))
    differences = schema.drift(empty_store)
    assert differences, "an extra column went unnoticed"
    assert "nickname" in repr(differences)


def test_the_migrations_form_one_chain_in_file_name_order() -> None:
    """File names sort by date (STYLE.md §5); each revises the one before; the last is head."""
    found = revisions()
    assert found, "no migrations"
    assert found[0][2] is None
    for (_, previous, _), (name, _, down) in itertools.pairwise(found):
        assert down == previous, f"{name} revises {down}, not {previous}"
    assert found[-1][1] == schema.head_revision()
