"""What `make dist` builds installs and works: the sdist and the wheel (built from the sdist, so
the sdist lacks nothing the wheel needs) are made the way `make dist` makes them, and the wheel
goes into a fresh virtual environment WITHOUT extras, as a project using openscout in its tests
installs it. There openscout serves on SQLite (in-thread and from the command line), needs no
YAML parser, database driver or Redis client, and asking for PostgreSQL, Redis or granian says
in one line which extra to install.

It installs openscout's dependencies from the package index (pip's own configuration).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: `make dist`'s command, with the directory to write to last.
BUILD = [sys.executable, "-m", "build", "--no-isolation", "--outdir"]

pytestmark = [pytest.mark.dist, pytest.mark.timeout(600)]

#: Run by the fresh environment's Python: the testing toolkit's server on a temporary SQLite
#: file, a create and a read over HTTP, and the modules that must not have been imported.
SMOKE = """
import json, sys, urllib.request, base64
from openscout.testing import HelpScoutServer

with HelpScoutServer() as hs:
    def call(method, path, body=None):
        request = urllib.request.Request(hs.url(path), method=method, data=body)
        token = base64.b64encode(f"{hs.api_key}:X".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()

    health = call("GET", "/healthz")[0]
    created = call("POST", "/v1/customers.json", b'{"firstName": "Ann", "lastName": "Lee"}')
    read = call("GET", created[1]["Location"].removeprefix(hs.base_url))
    document = json.loads(call("GET", "/v1/openapi.json")[2])
    v2_document = json.loads(call("GET", "/v2/openapi.json")[2])
    docs = call("GET", "/docs/")[0]

try:
    HelpScoutServer(database_url="postgresql://postgres@127.0.0.1:1/none").start()
    postgres = "started"
except Exception as error:
    postgres = f"{type(error).__name__}: {error}"

print(json.dumps({
    "health": health,
    "created": created[0],
    "name": json.loads(read[2])["item"]["fullName"],
    "openapi": document["openapi"],
    "v2 openapi": v2_document["openapi"],
    "docs": docs,
    "postgres": postgres,
    "imported": sorted({"yaml", "psycopg", "redis", "granian"} & set(sys.modules)),
}))
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sdist and the wheel, built as `make dist` builds them, from a copy of the source
    without the build's leftovers (setuptools adds the files a stale `*.egg-info` lists)."""
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("dist")
    for name in ("pyproject.toml", "MANIFEST.in", "README.md", "CHANGELOG.md"):
        shutil.copy2(ROOT / name, source / name)
    leftovers = shutil.ignore_patterns("*.egg-info", "__pycache__")
    shutil.copytree(ROOT / "src", source / "src", ignore=leftovers)
    subprocess.run([*BUILD, str(out), str(source)], check=True, capture_output=True, timeout=300)
    (sdist,) = out.glob("openscout-*.tar.gz")
    (wheel,) = out.glob("openscout-*-py3-none-any.whl")
    return sdist, wheel


@pytest.fixture(scope="module")
def installed(built: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed, no extras; its bin directory."""
    home = tmp_path_factory.mktemp("venv")
    venv.create(home, with_pip=False)
    python = home / "bin" / "python"
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
    subprocess.run(
        [*install, "--no-compile", str(built[1])], check=True, capture_output=True, timeout=500
    )
    return home / "bin"


def test_the_wheel_ships_the_json_document_and_asks_for_no_extra(
    built: tuple[Path, Path],
) -> None:
    sdist, wheel = built
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = Parser().parsestr(
            archive.read("openscout-0.1.0.dist-info/METADATA").decode("utf-8")
        )
    for version in ("v1", "v2"):
        assert f"openscout/contract/{version}/openapi.json" in names
        assert f"openscout/contract/{version}/openapi.yaml" not in names
    assert "openscout/store/migrations/versions/2026_11_28_0001_customers.py" in names
    assert "openscout/py.typed" in names
    assert {"postgres", "redis", "granian", "dev"} <= set(metadata.get_all("Provides-Extra"))
    always = [r for r in metadata.get_all("Requires-Dist") if "extra ==" not in r]
    for optional in ("psycopg", "redis", "pyyaml", "granian"):
        assert not [r for r in always if r.lower().startswith(optional)], optional
    with tarfile.open(sdist) as archive:
        members = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"CHANGELOG.md", "README.md", "pyproject.toml"} <= members
    for version in ("v1", "v2"):
        assert f"src/openscout/contract/{version}/openapi.json" in members
        assert f"src/openscout/contract/{version}/openapi.yaml" in members  # the source


def test_the_installed_wheel_serves_on_sqlite_without_extras(installed: Path) -> None:
    absent = subprocess.run(
        [installed / "python", "-c", "import psycopg"], capture_output=True, text=True
    )
    assert "No module named 'psycopg'" in absent.stderr  # no extras: no driver
    run = subprocess.run(
        [installed / "python", "-c", SMOKE], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result == {
        "health": 200,
        "created": 201,
        "name": "Ann Lee",
        "openapi": "3.1.0",
        "v2 openapi": "3.1.0",
        "docs": 200,
        "postgres": "MissingExtra: PostgreSQL needs its driver (psycopg), which is not "
        "installed: pip install 'openscout[postgres]'",
        "imported": [],
    }


def test_the_installed_command_runs_and_names_each_missing_extra(
    installed: Path, tmp_path: Path
) -> None:
    helped = subprocess.run(
        [installed / "openscout", "--help"], capture_output=True, text=True, timeout=60
    )
    assert helped.returncode == 0, helped.stderr
    assert "serve" in helped.stdout
    database = f"sqlite:///{tmp_path / 'smoke.db'}"
    for arguments, line in [
        (
            ["db", "upgrade", "--database-url", "postgresql://postgres@127.0.0.1:1/none"],
            "PostgreSQL needs its driver (psycopg), which is not installed: "
            "pip install 'openscout[postgres]'",
        ),
        (
            ["serve", "--database-url", database, "--port", "1", "--server", "granian"],
            "--server granian needs granian, which is not installed: "
            "pip install 'openscout[granian]'",
        ),
        (
            ["serve", "--database-url", database, "--port", "1", "--redis-url", "redis://x"],
            "Counting rate limits in Redis (--redis-url) needs its client, which is not "
            "installed: pip install 'openscout[redis]'",
        ),
    ]:
        run = subprocess.run(
            [installed / "openscout", *arguments], capture_output=True, text=True, timeout=60
        )
        assert (run.returncode, run.stderr, run.stdout) == (1, f"openscout: {line}\n", ""), (
            arguments
        )
