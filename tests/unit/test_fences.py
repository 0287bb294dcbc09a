"""The architecture fences: what each layer may import, and where Help Scout's names may appear.

STYLE.md §1 and §3: `domain/` is pure Python (the standard library and itself), `contract/`
knows nothing of SQL or HTTP, and every Help Scout wire name lives under `contract/`.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from openscout.extras import EXTRAS

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


@pytest.mark.parametrize(
    "wire_name", ['"firstName"', '"socialProfiles"', '"postalCode"', '"updatedAt"', '"logRef"']
)
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


def unguarded_optional_imports(source: str) -> list[tuple[int, str]]:
    """Imports of an extra's module (extras.py) not preceded, in the same function, by
    `extras.require(<that extra>)`; every such import at module level."""
    wanted = {extra.module: name for name, extra in EXTRAS.items()}
    tree = ast.parse(source)
    found: list[tuple[int, str]] = []
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    inside = {id(node) for f in functions for node in ast.walk(f) if node is not f}
    for function in [None, *functions]:
        required: set[str] = set()
        body = tree.body if function is None else function.body
        for statement in body:
            for node in ast.walk(statement):
                if function is None and id(node) in inside:
                    continue
                if (
                    isinstance(node, ast.Call)
                    and ast.unparse(node.func) == "extras.require"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                ):
                    required.add(str(node.args[0].value))
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level:
                    names = [node.module or ""]
                for name in names:
                    top = name.split(".")[0]
                    if top in wanted and (function is None or wanted[top] not in required):
                        found.append((node.lineno, name))
    return sorted(found)


def test_the_checker_finds_optional_imports_not_asked_for() -> None:
    source = (
        "import redis\n"
        "def ok():\n"
        "    extras.require('redis')\n"
        "    import redis\n"
        "def wrong_extra():\n"
        "    extras.require('redis')\n"
        "    import psycopg\n"
        "def not_asked():\n"
        "    from granian import server\n"
    )
    assert unguarded_optional_imports(source) == [(1, "redis"), (7, "psycopg"), (9, "granian")]


@pytest.mark.parametrize("path", modules(SOURCE), ids=lambda p: str(p.relative_to(SOURCE)))
def test_an_extra_is_imported_only_after_asking_for_it(path: Path) -> None:
    """A plain install has no database driver, Redis client or uvicorn's parser (pyproject's
    extras): importing one must come after `extras.require`, which names the extra to install;
    and no module needs a YAML parser (the OpenAPI document ships as JSON)."""
    source = path.read_text("utf-8")
    assert unguarded_optional_imports(source) == [], path.relative_to(SOURCE)
    yaml = [line for line, name in imported_names(path) if name.split(".")[0] == "yaml"]
    assert yaml == [], path.relative_to(SOURCE)


@pytest.mark.parametrize("path", [SOURCE / "service.py", SOURCE / "webhooks" / "events.py"])
def test_writes_record_webhook_events_without_the_contract_or_the_web(path: Path) -> None:
    """docs/architecture.md: the web layer renders the bodies of events (http/webhooks.py);
    the service and what it calls only record them."""
    for line, name in imported_names(path):
        top = name.split(".")[0]
        assert top not in ("starlette", "httpx", "msgspec"), f"{path.name}:{line} imports {name}"
        assert not name.startswith(("openscout.contract", "openscout.http")), (
            f"{path.relative_to(SOURCE)}:{line} imports {name}"
        )
