"""The `openscout` command on a database file in tmp_path: keys, database commands, settings
errors, and a server that answers. Commands run in this process (`cli.main(argv)`); one test of
each command family runs them as a real process (`python -m openscout ...`)."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest

from openscout import __version__, keys
from openscout import cli as cli_module
from openscout.cli import main
from openscout.config import Settings, flag, load_settings, settings_fields, variable
from openscout.store import schema
from openscout.store.engine import SqlStore

KEY = re.compile(r"[0-9a-f]{40}")
#: Every wait for a process is bounded by this many seconds.
PATIENCE = 30


@dataclass
class Done:
    """What a command did: its exit status and what it printed."""

    returncode: int
    stdout: str
    stderr: str


@dataclass
class Cli:
    """Runs `openscout` in this process (`cli.main(argv)`), in tmp_path, against its own SQLite
    file; `process` runs it as a real process (`python -m openscout`)."""

    directory: Path
    database_url: str
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]

    def environment(self, **extra: str) -> dict[str, str]:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("OPENSCOUT_")}
        environ["OPENSCOUT_DATABASE_URL"] = self.database_url
        environ.update(extra)
        return environ

    def run(self, *arguments: str, **environ: str) -> Done:
        """`openscout ARGUMENTS` in this process, with these variables and no other
        `OPENSCOUT_*` ones; the environment is restored afterwards (`serve` sets some)."""
        saved = dict(os.environ)
        try:
            os.environ.clear()
            os.environ.update(self.environment(**environ))
            self.monkeypatch.chdir(self.directory)
            self.capsys.readouterr()
            try:
                code = main(list(arguments))
            except SystemExit as exited:  # argparse: usage errors, --help, --version
                code = exited.code if isinstance(exited.code, int) else 1
            out, err = self.capsys.readouterr()
        finally:
            os.environ.clear()
            os.environ.update(saved)
        return Done(code, out, err)

    def process(self, *arguments: str, **environ: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "openscout", *arguments],
            cwd=self.directory,
            env=self.environment(**environ),
            capture_output=True,
            text=True,
            timeout=PATIENCE,
            check=False,
        )

    def ok(self, *arguments: str, **environ: str) -> str:
        """Run a command that must succeed; its stdout."""
        done = self.run(*arguments, **environ)
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
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path, f"sqlite:///{tmp_path / 'openscout.db'}", monkeypatch, capsys)


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


def test_keys_commands_run_as_a_process(cli: Cli) -> None:
    """The keys family as a real process: create, list, revoke, and a usage error."""
    created = cli.process("keys", "create", "--name", "smoke")
    assert created.returncode == 0, created.stderr
    key = created.stdout.splitlines()[-1]
    assert KEY.fullmatch(key)
    listing = cli.process("keys", "list")
    assert listing.returncode == 0, listing.stderr
    key_id = listed_row(listing.stdout, "smoke")[0]
    revoked = cli.process("keys", "revoke", key_id)
    assert (revoked.returncode, revoked.stderr) == (0, "")
    assert account_of(cli, key) is None
    wrong = cli.process("keys", "revoke", "abc")
    assert wrong.returncode == 2
    assert "KEY_ID" in wrong.stderr and "Traceback" not in wrong.stderr


def test_key_and_account_names_are_limited_in_length(cli: Cli) -> None:
    cli.ok("db", "upgrade")
    done = cli.run("keys", "create", "--name", "n" * 201)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "openscout: --name is 201 characters long; at most 200 are kept\n"
    done = cli.run("keys", "create", "--account", "a" * 300)
    assert done.returncode == 2
    assert done.stderr == "openscout: --account is 300 characters long; at most 200 are kept\n"
    assert cli.ok("keys", "list").startswith("No keys yet")
    key = cli.create_key("--name", "n" * 200, "--account", "a" * 200)
    assert account_of(cli, key) is not None


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
    cli.ok("db", "upgrade")
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


def test_db_commands_run_as_a_process(cli: Cli) -> None:
    """The db family as a real process: upgrade, check, seed."""
    head = schema.head_revision()
    upgraded = cli.process("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout == f"Migrated the database from schema none to {head}.\n"
    checked = cli.process("db", "check")
    assert (checked.returncode, checked.stderr) == (0, "")
    seeded = cli.process("db", "seed", "--customers", "20")
    assert seeded.returncode == 0, seeded.stderr
    assert seeded.stdout.startswith("Added 20 customers to account 'default' in ")
    assert "seeded 20 of 20 customers" in seeded.stderr


def test_db_upgrade_migrates_then_says_up_to_date(cli: Cli) -> None:
    head = schema.head_revision()
    assert cli.ok("db", "upgrade").strip() == f"Migrated the database from schema none to {head}."
    assert cli.ok("db", "upgrade").strip() == f"The database is up to date (schema {head})."


def test_db_check_passes_on_a_migrated_database(cli: Cli) -> None:
    cli.ok("db", "upgrade")
    head = schema.head_revision()
    assert cli.ok("db", "check").strip() == f"The database schema matches the code (schema {head})."


def test_db_check_fails_on_a_database_that_was_never_migrated(cli: Cli) -> None:
    (cli.directory / "openscout.db").touch()
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
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    [line] = done.stderr.splitlines()
    assert line == f"openscout: no database at {missing}"
    done = cli.run("keys", "create", "--database-url", f"sqlite:///{missing}")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"openscout: cannot make a database at {missing}: no directory {missing.parent}\n"
    )
    assert not (tmp_path / "no").exists()


def test_an_unreachable_postgresql_is_one_line(cli: Cli) -> None:
    done = cli.run("keys", "list", "--database-url", "postgresql://nobody@127.0.0.1:1/none")
    assert (done.returncode, done.stdout) == (1, "")
    [line] = done.stderr.splitlines()
    assert line.startswith("openscout: the database cannot be reached: ")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--port", "99999"], "--port=99999 is too large (at most 65535)"),
        (["--port", "http"], "--port=http is not a whole number"),
        (["--host", "256.1.1.1"], "--host=256.1.1.1 is not an IP address or a host name"),
        (["--host", "a b"], "--host=a b is not an IP address or a host name"),
        (
            ["--database-url", "notaurl"],
            "--database-url=notaurl is not a database URL: openscout takes sqlite:///PATH or "
            "postgresql://USER@HOST:PORT/DATABASE",
        ),
        (
            ["--database-url", "mysql://root@127.0.0.1/db"],
            "--database-url=mysql://root@127.0.0.1/db names a database openscout does not "
            "support (mysql): it takes sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE",
        ),
        (
            ["--database-url", "postgresql://u@h:port/db"],
            "--database-url=postgresql://u@h:port/db has a port that is not a number from 0 "
            "to 65535",
        ),
        (
            ["--public-url", "example.com"],
            "--public-url=example.com is not a URL starting with http:// or https://",
        ),
        (
            ["--log-level", "trace"],
            "--log-level=trace is not one of critical, error, warning, info, debug",
        ),
    ],
)
def test_a_bad_serve_option_is_one_line_before_the_banner(
    cli: Cli, options: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_module, "_run_granian", _never_served)
    monkeypatch.setattr(cli_module, "_run_uvicorn", _never_served)
    done = cli.run("serve", *options)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"openscout: bad setting: {message}\n"
    assert not (cli.directory / "openscout.db").exists()


def test_a_bad_database_url_is_refused_by_every_command(cli: Cli) -> None:
    for command in (["keys", "list"], ["keys", "create"], ["db", "check"], ["db", "upgrade"]):
        done = cli.run(*command, OPENSCOUT_DATABASE_URL="mysql://root@127.0.0.1/db")
        assert done.returncode == 2, command
        [line] = done.stderr.splitlines()
        assert line.startswith("openscout: bad setting: OPENSCOUT_DATABASE_URL='mysql://"), line
        assert "sqlite:///PATH or postgresql://" in line


def test_serve_takes_a_host_name(cli: Cli, served: list[Served]) -> None:
    output = cli.ok("serve", "--host", "localhost", "--port", "8181")
    [call] = served
    assert call.settings.host == "localhost"
    assert call.address in ("127.0.0.1", "::1")
    assert "at http://localhost:8181/v1/customers.json" in output


def _never_served(*_: object) -> None:
    raise AssertionError("the server was started")


# -- commands that only read write nothing


def test_read_only_commands_make_no_database(cli: Cli) -> None:
    path = cli.directory / "openscout.db"
    for command in (("keys", "list"), ("db", "check"), ("keys", "revoke", "1")):
        done = cli.run(*command)
        assert (done.returncode, done.stdout) == (2, ""), command
        assert done.stderr == f"openscout: no database at {path}\n"
    assert list(cli.directory.iterdir()) == []


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """The file and its directory made read-only, for root too (where the file system allows
    it: `chattr +i`), as on a read-only mount."""
    targets = [path, path.parent]
    for target in targets:
        target.chmod(0o555 if target.is_dir() else 0o444)
    immutable = os.geteuid() == 0
    if immutable:
        done = subprocess.run(
            ["chattr", "+i", *map(str, targets)], capture_output=True, check=False
        )
        if done.returncode != 0:
            for target in targets:
                target.chmod(0o755 if target.is_dir() else 0o644)
            pytest.skip(f"files cannot be made read-only for root here: {done.stderr!r}")
    try:
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", *map(str, targets)], check=True)
        for target in targets:
            target.chmod(0o755 if target.is_dir() else 0o644)


def test_read_only_commands_work_on_a_read_only_database(cli: Cli, tmp_path: Path) -> None:
    cli.create_key("--name", "kept")
    store = cli.store()
    store.close()  # the write-ahead log checkpointed and gone, as after a clean stop
    path = tmp_path / "openscout.db"
    before = path.read_bytes()
    with read_only(path):
        listing = cli.run("keys", "list")
        assert listing.returncode == 0, listing.stderr
        assert "live" in listed_row(listing.stdout, "kept")
        check = cli.run("db", "check")
        assert check.returncode == 0, check.stderr
        assert check.stdout.startswith("The database schema matches the code")
        refused = cli.run("keys", "create")
        assert (refused.returncode, refused.stdout) == (2, "")
        assert refused.stderr == f"openscout: the database at {path} is read-only\n"
    assert path.read_bytes() == before


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


@pytest.mark.parametrize("arguments", [["--version"], ["-V"], ["serve", "--version"]])
def test_version_is_printed(cli: Cli, arguments: list[str]) -> None:
    assert cli.ok(*arguments) == f"openscout {__version__}\n"


def test_help_shows_the_version_option(cli: Cli) -> None:
    assert re.search(r"^\s+-V, --version\s", cli.ok("--help"), re.MULTILINE)
    assert re.search(r"^\s+-V, --version\s", cli.ok("serve", "--help"), re.MULTILINE)


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


@pytest.mark.parametrize("server_name", ["granian", "uvicorn"])
def test_serve_answers_with_its_first_key_and_with_keys_made_later(
    cli: Cli, server_name: str
) -> None:
    """The serve family as a real process, on either HTTP server, stopped by SIGTERM."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with serving(cli, "serve", "--port", str(port), "--server", server_name) as server:
        # Standard output is a pipe: the banner comes as JSON lines, the key in `key`.
        first_key = json.loads(server.line_with("Send it as the user name"))["key"]
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
    # Stopped by SIGTERM: granian exits 0, uvicorn re-raises the signal once it has shut down.
    assert server.popen.poll() in (0, -signal.SIGTERM)
    assert not any("Traceback" in line for line in server.errors), server.errors


@dataclass
class Served:
    """What `serve` handed the HTTP server, in this process (the server itself not started)."""

    server: str
    settings: Settings
    address: str
    environ: dict[str, str]


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[Served]:
    calls: list[Served] = []

    def runner(name: str) -> Callable[[Settings, str], None]:
        def run(settings: Settings, address: str) -> None:
            environ = {k: v for k, v in os.environ.items() if k.startswith("OPENSCOUT_")}
            calls.append(Served(name, settings, address, environ))

        return run

    monkeypatch.setattr(cli_module, "_run_granian", runner("granian"))
    monkeypatch.setattr(cli_module, "_run_uvicorn", runner("uvicorn"))
    return calls


def test_openscout_alone_means_serve(cli: Cli, served: list[Served]) -> None:
    cli.create_key()  # a key exists: no first-start key is printed
    output = cli.ok(OPENSCOUT_PORT="8123", OPENSCOUT_HOST="127.0.0.1")
    # Standard output is not a terminal: the banner comes as JSON lines.
    assert json.loads(output.splitlines()[0])["message"] == (
        f"openscout {__version__} serving the Help Scout v1 API at "
        "http://127.0.0.1:8123/v1/customers.json"
    )
    [call] = served
    # uvicorn is the default server (config.SERVERS).
    assert (call.server, call.address, call.settings.port) == ("uvicorn", "127.0.0.1", 8123)


def test_serve_with_keys_says_how_to_get_one(cli: Cli, served: list[Served]) -> None:
    """A key is shown only when it is made: a start that makes none says how to make one,
    with the database it serves."""
    cli.create_key()
    cli.create_key()
    # Standard output is not a terminal: the banner comes as JSON lines.
    messages = [json.loads(line)["message"] for line in cli.ok("serve").splitlines()]
    [line] = [message for message in messages if message.startswith("API keys:")]
    where = f" --database-url {cli.database_url}"
    assert line == (
        f"API keys: 2 live (`openscout keys list{where}`); "
        f"`openscout keys create{where}` makes a new one."
    )
    command = line.split("`")[3].split()  # the `keys create` command the line shows
    assert command[0] == "openscout"
    new_key = cli.ok(*command[1:]).splitlines()[-1]
    assert KEY.fullmatch(new_key)
    assert account_of(cli, new_key) is not None


def test_helpscout_limits_reach_the_worker_processes(cli: Cli, served: list[Served]) -> None:
    cli.ok("serve", "--helpscout-limits")
    cli.ok("serve", OPENSCOUT_HELPSCOUT_LIMITS="true")
    for call in served:
        assert (call.settings.rate_limit, call.settings.burst_limit) == (200, 12)
        assert load_settings(call.environ) == replace(call.settings, workers=1)


def test_serve_hands_every_setting_to_the_worker_processes(cli: Cli, served: list[Served]) -> None:
    cli.ok(
        "serve",
        "--server",
        "uvicorn",
        "--port",
        "8124",
        "--rate-limit",
        "0",
        "--no-access-log",
        "--public-url",
        "https://api.example.com",
        OPENSCOUT_POOL_SIZE="3",
    )
    [call] = served
    assert call.server == "uvicorn"
    # Each worker's app factory reads its settings from the environment (http/asgi.py).
    assert load_settings(call.environ) == replace(call.settings, workers=1)
    assert call.environ["OPENSCOUT_RATE_LIMIT"] == "0"
    assert call.environ["OPENSCOUT_ACCESS_LOG"] == "false"
    assert call.environ["OPENSCOUT_POOL_SIZE"] == "3"
    assert call.environ["OPENSCOUT_PUBLIC_URL"] == "https://api.example.com"
    assert call.environ["OPENSCOUT_WORKERS"] == "1"


def test_every_setting_is_an_option_of_serve(cli: Cli) -> None:
    help_text = cli.ok("serve", "--help")
    for setting in settings_fields():
        assert flag(setting) in help_text
        assert variable(setting) in help_text


def test_serve_refuses_an_unknown_http_server(cli: Cli) -> None:
    done = cli.run("serve", "--server", "gunicorn")
    assert done.returncode == 2
    assert "--server" in done.stderr
    done = cli.run("serve", OPENSCOUT_SERVER="gunicorn")
    assert done.returncode == 2
    assert "OPENSCOUT_SERVER='gunicorn' is not one of uvicorn, granian" in done.stderr
