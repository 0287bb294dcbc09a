"""The architecture fences: what each layer may import, and where Help Scout's names may appear.

STYLE.md §1 and §3: `domain/` is pure Python (the standard library and itself), `contract/`
knows nothing of SQL or HTTP, and every Help Scout wire name lives under `contract/`.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "src" / "openscout"
DOMAIN = SOURCE / "domain"
CONTRACT = SOURCE / "contract"


def modules(directory: Path) -> list[Path]:
    found = sorted(directory.rglob("*.py"))
    assert found, f"no modules under {directory}"
    return found


def imported_names(path: Path) -> list[tuple[int, str]]:
    """Every module an import statement of `path` names, with its line."""
    package = path.relative_to(SOURCE.parent).with_suffix("").parts[:-1]
    return imports_in(path.read_text(encoding="utf-8"), package)


def imports_in(source: str, package: tuple[str, ...]) -> list[tuple[int, str]]:
    """Imports anywhere in the module (inside functions too), relative ones made absolute."""
    names: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, *([module] if module else [])])
            names.append((node.lineno, module))
    return names


def test_the_checker_finds_nested_and_relative_imports() -> None:
    source = (
        "import json, os.path\n"
        "from . import customers\n"
        "from ..store import sql\n"
        "def load():\n"
        "    import sqlalchemy\n"
    )
    assert imports_in(source, ("openscout", "domain")) == [
        (1, "json"),
        (1, "os.path"),
        (2, "openscout.domain"),
        (3, "openscout.store"),
        (5, "sqlalchemy"),
    ]


@pytest.mark.parametrize("path", modules(DOMAIN), ids=lambda p: p.name)
def test_the_domain_imports_only_the_standard_library_and_itself(path: Path) -> None:
    for line, name in imported_names(path):
        top = name.split(".")[0]
        allowed = top in sys.stdlib_module_names or name.startswith("openscout.domain")
        assert allowed, f"{path.relative_to(SOURCE)}:{line} imports {name}"


@pytest.mark.parametrize("path", modules(CONTRACT), ids=lambda p: p.name)
def test_the_contract_knows_nothing_of_sql_or_http(path: Path) -> None:
    forbidden = ("sqlalchemy", "alembic", "starlette", "uvicorn", "httpx", "psycopg")
    for line, name in imported_names(path):
        top = name.split(".")[0]
        assert top not in forbidden, f"{path.relative_to(SOURCE)}:{line} imports {name}"
        if top == "openscout":
            assert name.startswith(("openscout.domain", "openscout.contract")), (
                f"{path.relative_to(SOURCE)}:{line} imports {name}"
            )


@pytest.mark.parametrize("wire_name", ['"firstName"', '"socialProfiles"', '"postalCode"'])
def test_help_scout_field_names_appear_only_in_the_contract(wire_name: str) -> None:
    found = [path for path in sorted(SOURCE.rglob("*.py")) if wire_name in path.read_text("utf-8")]
    assert found, f"{wire_name} appears nowhere: the fence checks the wrong thing"
    outside = [str(path.relative_to(SOURCE)) for path in found if CONTRACT not in path.parents]
    assert outside == []


STORE = SOURCE / "store"


def test_sqlalchemy_is_imported_only_inside_the_store() -> None:
    """STYLE.md §5: nothing above the store sees `sqlalchemy` (nor its driver)."""
    outside = [
        f"{path.relative_to(SOURCE)}:{line} imports {name}"
        for path in modules(SOURCE)
        if STORE not in path.parents
        for line, name in imported_names(path)
        if name.split(".")[0] in ("sqlalchemy", "psycopg", "alembic")
    ]
    assert outside == []


@pytest.mark.parametrize("name", ["call_inline", "StoreBusy", "inline_lane", "in_thread"])
def test_where_store_calls_run_is_the_stores_business(name: str) -> None:
    """Callers above the store make one kind of call, `await store.run(use_case, ...)`."""
    outside = [
        str(path.relative_to(SOURCE))
        for path in modules(SOURCE)
        if STORE not in path.parents and name in path.read_text("utf-8")
    ]
    assert outside == []
