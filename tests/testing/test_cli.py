"""The command line of the testing features: `db seed --from FILE` and `serve --control-api`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from openscout import cli
from openscout.cli import main
from openscout.config import Settings
from openscout.testing import HelpScoutAccount
from tests.conftest import BACKENDS, fresh_database, migrated_store, new_account, running_server

PATIENCE = 60
VERA = {
    "firstName": "Vera",
    "lastName": "Lind",
    "createdAt": "2015-03-01T10:00:00Z",
    "emails": [{"id": 3, "value": "vera@example.com", "location": "home"}],
}


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path) as database:
        yield database


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def openscout(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Done]:
    """`openscout ARGUMENTS` in this process, with these `OPENSCOUT_*` variables only."""

    def run(*arguments: str, **environ: str) -> Done:
        with monkeypatch.context() as patch:
            for name in [name for name in os.environ if name.startswith("OPENSCOUT_")]:
                patch.delenv(name)
            for name, value in environ.items():
                patch.setenv(name, value)
            capsys.readouterr()
            try:
                code = main(list(arguments))
            except SystemExit as exited:
                code = exited.code if isinstance(exited.code, int) else 1
            out, err = capsys.readouterr()
        return Done(code, out, err)

    return run


def test_seed_from_a_fixture_file(url: str, tmp_path: Path, openscout: Callable[..., Done]) -> None:
    fixture = tmp_path / "customers.json"
    fixture.write_text(json.dumps({"customers": [VERA, {"firstName": "Bo", "lastName": "Ek"}]}))
    done = openscout(
        "db", "seed", "--from", str(fixture), "--account", "demo", "--database-url", url
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"Added 2 customers from {fixture} to account 'demo'.\n"
    store = migrated_store(url)
    try:
        account = new_account(store, "demo")
        with running_server(store) as server:
            listed = httpx.get(server.url + "/v1/customers.json", auth=(account.key, "X")).json()
            assert [i["fullName"] for i in listed["items"]] == ["Bo Ek", "Vera Lind"]
            vera = listed["items"][1]
            assert vera["createdAt"] == "2015-03-01T10:00:00Z"
    finally:
        store.close()
    again = openscout(
        "db", "seed", "--from", str(fixture), "--account", "demo", "--database-url", url
    )
    assert again.returncode == 1
    assert again.stderr == (
        f"openscout: {fixture}: nothing was added; customers[0] has the email address "
        "'vera@example.com', which another customer of account 'demo' has\n"
    )


def test_seed_from_a_file_reports_every_problem_and_adds_nothing(
    tmp_path: Path, openscout: Callable[..., Done]
) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    fixture = tmp_path / "bad.json"
    fixture.write_text(json.dumps([VERA, {"firstName": "", "emails": [{"value": "nope"}]}]))
    done = openscout("db", "seed", "--from", str(fixture), "--database-url", url)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-4:] == [
        f"openscout: {fixture}: nothing was added; these values are not valid:",
        "  customers[1]:firstName = None: Value is required",
        "  customers[1]:lastName = None: Value is required",
        "  customers[1]:emails:value = 'nope': Value is not a valid email address",
    ]
    fixture.write_text('{"firstName": "Ann"}')
    done = openscout("db", "seed", "--from", str(fixture), "--database-url", url)
    assert (done.returncode, done.stderr) == (
        2,
        f'openscout: {fixture} is not a JSON list of customers (or {{"customers": [...]}})\n',
    )
    missing = tmp_path / "missing.json"
    done = openscout("db", "seed", "--from", str(missing), "--database-url", url)
    assert (done.returncode, done.stderr) == (
        2,
        f"openscout: cannot read {missing}: No such file or directory\n",
    )
    done = openscout("db", "seed", "--from", str(fixture), "--customers", "3")
    assert done.returncode == 2
    assert "not allowed with argument" in done.stderr


def test_the_control_api_needs_a_single_worker(
    tmp_path: Path, openscout: Callable[..., Done]
) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    done = openscout("serve", "--control-api", "--workers", "2", "--database-url", url)
    assert (done.returncode, done.stderr) == (
        2,
        "openscout: --control-api needs a single worker (--workers 1)\n",
    )
    done = openscout("serve", "--database-url", url, OPENSCOUT_CONTROL_API="maybe")
    assert done.returncode == 2
    assert "OPENSCOUT_CONTROL_API='maybe' is not true or false" in done.stderr


def test_the_control_api_is_switched_on_by_its_variable(
    tmp_path: Path, openscout: Callable[..., Done], monkeypatch: pytest.MonkeyPatch
) -> None:
    served: list[Settings] = []
    for runner in ("_run_uvicorn", "_run_granian"):
        monkeypatch.setattr(cli, runner, lambda settings, _address: served.append(settings))
    url = f"sqlite:///{tmp_path / 'x.db'}"
    done = openscout("serve", "--port", "8125", "--database-url", url, OPENSCOUT_CONTROL_API="true")
    assert done.returncode == 0, done.stderr
    control = "Control API for tests: http://127.0.0.1:8125/_openscout/ (docs/testing.md)"
    # Standard output is not a terminal: the banner comes as JSON lines.
    assert control in [json.loads(line)["message"] for line in done.stdout.splitlines()]
    [settings] = served
    assert settings.control_api


def test_serve_with_the_control_api(tmp_path: Path) -> None:
    """As a real process."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    arguments = ["serve", "--port", str(port), "--database-url", f"sqlite:///{tmp_path / 'x.db'}"]
    arguments.append("--control-api")
    environ = {"OPENSCOUT_ACCESS_LOG": "false"}
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENSCOUT_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "openscout", *arguments],
        env={**clean, **environ},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        # Standard output is a pipe: the banner comes as JSON lines.
        lines: list[dict[str, str]] = []
        while not lines or not lines[-1]["message"].startswith("Database:"):  # printed last
            lines.append(json.loads(process.stdout.readline()))
            assert len(lines) < 10, lines
        key = lines[0]["key"]
        control = f"Control API for tests: http://127.0.0.1:{port}/_openscout/ (docs/testing.md)"
        assert control in [line["message"] for line in lines]
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + PATIENCE
        while True:
            try:
                httpx.get(base + "/healthz")
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.05)
        account = HelpScoutAccount(base, key)
        assert account.load([VERA])
        assert [r.path for r in account.requests()] == []
        httpx.get(base + "/v1/customers.json", auth=account.auth)
        assert [(r.path, r.status) for r in account.requests()] == [("/v1/customers.json", 200)]
        tenant = account.new_account()
        assert httpx.get(base + "/v1/customers.json", auth=tenant.auth).json()["count"] == 0
    finally:
        process.terminate()
        process.communicate(timeout=PATIENCE)
