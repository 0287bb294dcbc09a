"""The `openscout` command, run as a real process (`python -m openscout ...`) on a database file
in tmp_path: keys, database commands, settings errors, and a server that answers."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from openscout import keys
from openscout.store import schema
from openscout.store.engine import SqlStore

KEY = re.compile(r"[0-9a-f]{40}")
#: Every wait for a process is bounded by this many seconds.
PATIENCE = 30


@dataclass
class Cli:
    """Runs `openscout` in tmp_path against its own SQLite file."""

    directory: Path
    database_url: str

    def environment(self, **extra: str) -> dict[str, str]:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("OPENSCOUT_")}
        environ["OPENSCOUT_DATABASE_URL"] = self.database_url
        environ.update(extra)
        return environ

    def run(self, *arguments: str, **environ: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "openscout", *arguments],
            cwd=self.directory,
            env=self.environment(**environ),
            capture_output=True,
            text=True,
            timeout=PATIENCE,
            check=False,
        )

    def ok(self, *arguments: str) -> str:
        """Run a command that must succeed; its stdout."""
        done = self.run(*arguments)
        assert done.returncode == 0, (done.stdout, done.stderr)
        return done.stdout

    def create_key(self, *options: str) -> str:
        output = self.ok("keys", "create", *options)
        key = output.splitlines()[-1]
        assert KEY.fullmatch(key), output
        return key

    def store(self) -> SqlStore:
        return SqlStore(self.database_url)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path, f"sqlite:///{tmp_path / 'openscout.db'}")


def account_of(cli: Cli, key: str) -> int | None:
    store = cli.store()
    try:
        with store.reading() as transaction:
            return transaction.account_for_key(keys.hash_key(key))
    finally:
        store.close()


def listed_row(listing: str, name: str) -> list[str]:
    """The `keys list` row of the key named `name`, split into its columns."""
    rows = [line.split() for line in listing.splitlines()[1:] if line.rstrip().endswith(name)]
    assert len(rows) == 1, listing
    return rows[0]


# -- keys ------------------------------------------------------------------------------------


def test_keys_create_prints_the_key_alone_on_the_last_line(cli: Cli) -> None:
    done = cli.run("keys", "create", "--name", "ci")
    assert done.returncode == 0, done.stderr
    *explanation, last = done.stdout.splitlines()
    assert KEY.fullmatch(last)
    assert explanation, "a line saying the key is shown once"
    assert last not in "\n".join(explanation)
    assert account_of(cli, last) is not None


def test_the_first_command_on_a_new_database_migrates_it(cli: Cli) -> None:
    done = cli.run("keys", "create")
    assert done.returncode == 0, done.stderr
    assert "Migrated" in done.stderr
    again = cli.run("keys", "create")
    assert again.returncode == 0
    assert again.stderr == ""


def test_keys_of_one_account_share_it_and_account_makes_another(cli: Cli) -> None:
    first, second = cli.create_key(), cli.create_key()
    other = cli.create_key("--account", "acme")
    assert account_of(cli, first) == account_of(cli, second)
    assert account_of(cli, other) not in (None, account_of(cli, first))
    accounts = {row.split()[2] for row in cli.ok("keys", "list").splitlines()[1:]}
    assert accounts == {"default", "acme"}


def test_a_blank_account_is_refused(cli: Cli) -> None:
    done = cli.run("keys", "create", "--account", "  ")
    assert done.returncode != 0
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert "--account" in done.stderr


def test_keys_list_shows_prefixes_never_the_keys(cli: Cli) -> None:
    assert cli.ok("keys", "list").strip().startswith("No keys yet")
    first = cli.create_key("--name", "first")
    second = cli.create_key("--account", "acme", "--name", "second")
    listing = cli.ok("keys", "list")
    assert first not in listing and second not in listing
    for key, name, account in ((first, "first", "default"), (second, "second", "acme")):
        row = listed_row(listing, name)
        assert row[1] == key[: keys.PREFIX_LENGTH] + "…"
        assert row[2] == account
        assert "live" in row


def test_keys_revoke_revokes_at_once(cli: Cli) -> None:
    kept = cli.create_key("--name", "kept")
    doomed = cli.create_key("--name", "doomed")
    key_id = listed_row(cli.ok("keys", "list"), "doomed")[0]
    output = cli.ok("keys", "revoke", key_id)
    assert key_id in output
    assert account_of(cli, doomed) is None
    assert account_of(cli, kept) is not None
    listing = cli.ok("keys", "list")
    assert "revoked" in listed_row(listing, "doomed")
    assert "live" in listed_row(listing, "kept")


@pytest.mark.parametrize("key_id", ["999", "0", "-3"])
def test_revoking_an_unknown_key_fails_with_one_clear_line(cli: Cli, key_id: str) -> None:
    cli.create_key()
    done = cli.run("keys", "revoke", "--", key_id)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.strip() == f"openscout: no live key with id {key_id}"


def test_revoking_a_key_twice_fails_the_second_time(cli: Cli) -> None:
    cli.create_key("--name", "once")
    key_id = listed_row(cli.ok("keys", "list"), "once")[0]
    cli.ok("keys", "revoke", key_id)
    done = cli.run("keys", "revoke", key_id)
    assert done.returncode == 1
    assert done.stderr.strip() == f"openscout: no live key with id {key_id}"


def test_a_key_id_that_is_not_a_number_is_a_usage_error(cli: Cli) -> None:
    done = cli.run("keys", "revoke", "abc")
    assert done.returncode == 2
    assert "KEY_ID" in done.stderr and "abc" in done.stderr


# -- the database ----------------------------------------------------------------------------


def test_db_upgrade_migrates_then_says_up_to_date(cli: Cli) -> None:
    head = schema.head_revision()
    assert cli.ok("db", "upgrade").strip() == f"Migrated the database from schema none to {head}."
    assert cli.ok("db", "upgrade").strip() == f"The database is up to date (schema {head})."


def test_db_check_passes_on_a_migrated_database(cli: Cli) -> None:
    cli.ok("db", "upgrade")
    head = schema.head_revision()
    assert cli.ok("db", "check").strip() == f"The database schema matches the code (schema {head})."


def test_db_check_fails_on_a_database_that_was_never_migrated(cli: Cli) -> None:
    done = cli.run("db", "check")
    assert done.returncode == 1
    assert "openscout db upgrade" in done.stdout


def test_a_database_url_option_wins_over_the_environment(cli: Cli, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.db"
    done = cli.run("db", "upgrade", "--database-url", f"sqlite:///{elsewhere}")
    assert done.returncode == 0, done.stderr
    assert elsewhere.is_file()
    assert not (tmp_path / "openscout.db").exists()


# -- settings ------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [("keys", "list"), ("db", "check"), ("serve",)])
def test_a_bad_setting_gives_one_clear_line_and_exit_2(cli: Cli, command: tuple[str, ...]) -> None:
    done = cli.run(*command, OPENSCOUT_PORT="abc")
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line == "openscout: bad setting: OPENSCOUT_PORT='abc' is not a whole number"


def test_a_bad_option_gives_one_clear_line_and_exit_2_before_anything_starts(cli: Cli) -> None:
    done = cli.run("serve", "--workers", "0", "--port", str(free_port()))
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line == "openscout: bad setting: --workers=0 is too small"


def test_every_bad_setting_is_reported_at_once(cli: Cli) -> None:
    done = cli.run("keys", "list", OPENSCOUT_PORT="abc", OPENSCOUT_WORKERS="0")
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert "OPENSCOUT_PORT='abc'" in line and "OPENSCOUT_WORKERS='0'" in line


def test_an_unreachable_database_is_one_line_not_a_traceback(cli: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "directory" / "x.db"
    done = cli.run("keys", "list", "--database-url", f"sqlite:///{missing}")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith("openscout: ")


# -- help ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_lists_the_commands(cli: Cli, flag: str) -> None:
    output = cli.ok(flag)
    for command in ("serve", "keys", "db"):
        assert re.search(rf"^\s+{command}\s+\S", output, re.MULTILINE), output
    assert "default command" in output


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (("keys", "--help"), ("create", "list", "revoke")),
        (("db", "--help"), ("upgrade", "check")),
        (("serve", "--help"), ("--host", "--port", "--workers", "--database-url")),
    ],
)
def test_each_command_explains_its_options(
    cli: Cli, arguments: tuple[str, ...], words: tuple[str, ...]
) -> None:
    output = cli.ok(*arguments)
    for word in words:
        assert word in output


def test_version_is_printed(cli: Cli) -> None:
    assert re.fullmatch(r"openscout \d+\.\d+\.\d+\S*", cli.ok("--version").strip())


# -- a real server -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Process:
    """A running `openscout` whose output lines are read as they come."""

    def __init__(self, arguments: list[str], cwd: Path, environ: Mapping[str, str]) -> None:
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "openscout", *arguments],
            cwd=cwd,
            env=dict(environ),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.errors: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(self.popen.stdout, self.lines.put)),
            threading.Thread(target=self._read, args=(self.popen.stderr, self.errors.append)),
        ]
        for reader in self._readers:
            reader.daemon = True
            reader.start()

    @staticmethod
    def _read(stream: object, keep: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            keep(line.rstrip("\n"))  # type: ignore[operator]

    def next_line(self) -> str:
        """The next line of stdout; waits a bounded time for it."""
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            try:
                return self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.popen.poll() is not None and self.lines.empty():
                    break
        raise AssertionError(f"no more output; stderr: {self.errors}")

    def line_with(self, marker: str) -> str:
        """The first stdout line from here on that contains `marker`."""
        seen: list[str] = []
        while marker not in (line := self.next_line()):
            seen.append(line)
            assert len(seen) < 100, seen
        return line

    def line_after(self, marker: str) -> str:
        self.line_with(marker)
        return self.next_line()

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)
        for reader in self._readers:
            reader.join(timeout=5)
        for stream in (self.popen.stdout, self.popen.stderr):
            if stream is not None:
                stream.close()


@contextmanager
def serving(cli: Cli, *arguments: str, **environ: str) -> Iterator[Process]:
    process = Process(list(arguments), cli.directory, cli.environment(**environ))
    try:
        yield process
    finally:
        process.stop()


def wait_until_it_answers(process: Process, url: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        assert process.popen.poll() is None, f"the server exited: {process.errors}"
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the server did not answer within {PATIENCE} s: {process.errors}")


def test_serve_answers_with_its_first_key_and_with_keys_made_later(cli: Cli) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with serving(cli, "serve", "--port", str(port)) as server:
        first_key = server.line_after("Send it as the user name").strip()
        assert KEY.fullmatch(first_key), first_key
        wait_until_it_answers(server, url)

        with httpx.Client(base_url=url, auth=(first_key, "X"), timeout=10) as http:
            created = http.post(
                "/v1/customers.json",
                json={"firstName": "Ann", "lastName": "Lee", "emails": [{"value": "a@x.example"}]},
            )
            assert created.status_code == 201, created.text
            location = created.headers["location"]
            assert re.fullmatch(rf"{re.escape(url)}/v1/customers/\d+\.json", location)
            path = location.removeprefix(url)
            got = http.get(path)
            assert got.status_code == 200
            assert got.json()["item"]["fullName"] == "Ann Lee"

        later_key = cli.create_key("--name", "smoke")
        with httpx.Client(base_url=url, auth=(later_key, "X"), timeout=10) as http:
            assert http.get(path).json()["item"]["emails"][0]["value"] == "a@x.example"
            other = http.post("/v1/customers.json", json={"firstName": "Bo", "lastName": "Ek"})
            assert other.status_code == 201

            cli.ok("keys", "revoke", listed_row(cli.ok("keys", "list"), "smoke")[0])
            refused = http.get(path)
            assert refused.status_code == 401
            assert refused.json() == {"code": 401, "error": "Invalid API Key"}
            assert refused.headers["www-authenticate"].startswith("Basic")

        with httpx.Client(base_url=url, auth=(first_key, "X"), timeout=10) as http:
            assert http.get(path).status_code == 200
    assert server.popen.poll() is not None
    assert not any("Traceback" in line for line in server.errors), server.errors


def test_openscout_alone_means_serve(cli: Cli) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cli.create_key()  # a key exists: no first-start key is printed
    with serving(cli, OPENSCOUT_PORT=str(port), OPENSCOUT_HOST="127.0.0.1") as server:
        assert f"at {url}/v1/customers.json" in server.line_with("serving the Help Scout v1 API")
        wait_until_it_answers(server, url)
        assert httpx.get(f"{url}/v1/customers/1.json", timeout=10).status_code == 401
    assert server.popen.poll() is not None


@pytest.mark.parametrize("server_name", ["granian", "uvicorn"])
def test_serve_runs_on_either_http_server_and_stops_cleanly(cli: Cli, server_name: str) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    key = cli.create_key()
    with serving(cli, "serve", "--port", str(port), "--server", server_name) as server:
        wait_until_it_answers(server, url)
        with httpx.Client(base_url=url, auth=(key, "X"), timeout=10) as http:
            created = http.post(
                "/v1/customers.json?reload=true",
                json={"firstName": "Ann", "lastName": "Lee", "phones": [{"value": "555"}]},
            )
            assert created.status_code == 201, created.text
            customer_id = created.json()["item"]["id"]
            assert created.headers["location"] == f"{url}/v1/customers/{customer_id}.json"
            assert created.headers["content-type"] == "application/json; charset=utf-8"
            assert created.headers["access-control-allow-origin"] == "*"
            changed = http.put(f"/v1/customers/{customer_id}.json", json={"firstName": "Bea"})
            assert (changed.status_code, changed.content) == (200, b"")
            assert http.get(f"/v1/customers/{customer_id}.json").json()["item"]["firstName"] == (
                "Bea"
            )
    # Stopped by SIGTERM: granian exits 0, uvicorn re-raises the signal once it has shut down.
    assert server.popen.poll() in (0, -signal.SIGTERM)
    assert not any("Traceback" in line for line in server.errors), server.errors


def test_serve_refuses_an_unknown_http_server(cli: Cli) -> None:
    done = cli.run("serve", "--server", "gunicorn")
    assert done.returncode == 2
    assert "--server" in done.stderr
    done = cli.run("serve", OPENSCOUT_SERVER="gunicorn")
    assert done.returncode == 2
    assert "OPENSCOUT_SERVER='gunicorn' is not one of granian, uvicorn" in done.stderr
