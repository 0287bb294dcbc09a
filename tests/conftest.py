"""Fixtures shared by every test layer: stores on real databases, real servers on sockets."""

from __future__ import annotations

import functools
import itertools
import os
import secrets
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from openscout import apps, service
from openscout.config import Settings
from openscout.http.app import create_app
from openscout.store import schema
from openscout.store.engine import SqlStore
from openscout.testing import ThreadedServer


class Clock:
    """The server's clock in tests: real time or frozen, and moved on at will."""

    def __init__(self) -> None:
        self.offset = timedelta()
        self.frozen: datetime | None = None

    def __call__(self) -> datetime:
        return (self.frozen or datetime.now(UTC)) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)

    def freeze(self, moment: datetime) -> None:
        self.frozen, self.offset = moment, timedelta()

    def reset(self) -> None:
        self.frozen, self.offset = None, timedelta()


@dataclass
class Server:
    """A real openscout server on a loopback socket, with its store and clock."""

    url: str
    store: SqlStore
    clock: Clock


@dataclass
class Account:
    """A fresh account and a key of it."""

    name: str
    key: str


_accounts = itertools.count(1)


def new_account(store: SqlStore, name: str | None = None) -> Account:
    name = name or f"account-{next(_accounts)}-{time.monotonic_ns()}"
    return Account(name, service.create_key(store, name, "test", datetime.now(UTC)))


def new_app(
    store: SqlStore, account_name: str, *, redirect_uri: str | None = None, name: str = "test"
) -> tuple[str, str]:
    """A new OAuth app of the account (created when new): its client id and secret."""
    client_id, secret = apps.create_app(store, account_name, name, redirect_uri, datetime.now(UTC))
    return client_id, secret


def bearer_token(store: SqlStore, account_name: str, *, now: datetime | None = None) -> str:
    """A live v2 access token of the account (client credentials of a new app), for
    `Authorization: Bearer <token>`; `now` is when it is issued (the server's clock)."""
    client_id, secret = new_app(store, account_name)
    issued = apps.grant_client_credentials(store, client_id, secret, now or datetime.now(UTC))
    return issued.access_token


def migrated_store(url: str) -> SqlStore:
    store = SqlStore(url)
    schema.upgrade(store)
    return store


@contextmanager
def running_server(
    store: SqlStore, settings: Settings | None = None, *, rate_limited: bool = False
) -> Iterator[Server]:
    """Serve `store` on a free loopback port in a background thread (`ThreadedServer`).

    Rate limits are off unless `rate_limited` (tests send far more than 12 writes in 5 seconds
    to one account), and so is the access log unless `settings` turn it on. The settings name
    the store's database, as `serve`'s do (where rate limits are counted depends on it)."""
    clock = Clock()
    settings = settings or Settings(access_log=False)
    settings = replace(
        settings, database_url=store.engine.url.render_as_string(hide_password=False)
    )
    if not rate_limited:
        settings = replace(settings, rate_limit=0, burst_limit=0)
    served = ThreadedServer(create_app(settings, store, clock=clock))
    try:
        yield Server(served.start(), store, clock)
    finally:
        served.stop()


# -- backends: every store and HTTP test runs on SQLite and on PostgreSQL

BACKENDS = ("sqlite", "postgresql")
POSTGRES_URL_VARIABLE = "OPENSCOUT_TEST_POSTGRES_URL"
#: Where a developer's PostgreSQL usually answers (trust auth on loopback).
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _admin_url(url: str) -> URL:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"{POSTGRES_URL_VARIABLE} must be a postgresql:// URL, not {url!r}")
    return parsed.set(drivername="postgresql+psycopg")


@functools.cache
def _postgres() -> tuple[URL | None, str]:
    """The admin URL of a reachable PostgreSQL (one that may create databases), or why not."""
    url = _admin_url(os.environ.get(POSTGRES_URL_VARIABLE) or DEFAULT_POSTGRES_URL)
    engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except sa_exc.DBAPIError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        shown = url.render_as_string(hide_password=True)
        return None, f"PostgreSQL at {shown} cannot be reached ({reason})"
    finally:
        engine.dispose()
    return url, ""


def postgres_admin_url() -> URL:
    """The PostgreSQL to test against; skips the test when there is none (fails when CI=true)."""
    url, problem = _postgres()
    if url is None:
        if in_ci():
            pytest.fail(f"{problem}; CI=true requires the PostgreSQL tests to run", pytrace=False)
        pytest.skip(
            f"PostgreSQL tests skipped: {problem}. To run them, set "
            f"{POSTGRES_URL_VARIABLE}=postgresql://USER@HOST:PORT/DB (a role that may create "
            "databases)"
        )
    return url


def _admin(sql: str) -> None:
    engine = create_engine(postgres_admin_url(), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(sql))
    finally:
        engine.dispose()


@contextmanager
def fresh_database(backend: str, directory: Path) -> Iterator[str]:
    """The URL of a new, empty database: a file in `directory`, or a PostgreSQL database made
    for the occasion (`openscout_test_<random>`) and dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / f'openscout-{secrets.token_hex(4)}.db'}"
        return
    admin = postgres_admin_url()
    name = f"openscout_test_{secrets.token_hex(6)}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(drivername="postgresql", database=name).render_as_string(
            hide_password=False
        )
    finally:
        # FORCE: a server process killed by a test may leave a connection behind for a moment.
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One database per backend for the whole session (tests isolate by account)."""
    with fresh_database(request.param, tmp_path_factory.mktemp("db")) as url:
        yield url


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgresql: the test runs against PostgreSQL")
    config.addinivalue_line(
        "markers",
        "stops_postgres: the test stops the local PostgreSQL server for a moment "
        '(deselect with -m "not stops_postgres")',
    )
    config.addinivalue_line(
        "markers",
        "dist: the test builds the sdist and wheel and installs the wheel into a fresh virtual "
        'environment from the package index (deselect with -m "not dist")',
    )


def backend_of(item: pytest.Item) -> str | None:
    """`sqlite` or `postgresql` for a test parametrized by backend, else None."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    for name in ("database_url", "backend"):
        if name in callspec.params:
            return str(callspec.params[name])
    return None


_notes: list[str] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the PostgreSQL tests; without a PostgreSQL (and outside CI) leave them out, with one
    line in the summary saying how to run them."""
    on_postgres = [item for item in items if backend_of(item) == "postgresql"]
    for item in on_postgres:
        item.add_marker(pytest.mark.postgresql)
    if not on_postgres or in_ci():
        return
    url, problem = _postgres()
    if url is None:
        config.hook.pytest_deselected(items=on_postgres)
        items[:] = [item for item in items if backend_of(item) != "postgresql"]
        _notes.append(
            f"{len(on_postgres)} PostgreSQL tests skipped: {problem}. To run them, set "
            f"{POSTGRES_URL_VARIABLE}=postgresql://USER@HOST:PORT/DB (a role that may create "
            "databases)."
        )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for note in _notes:
        terminalreporter.write_line(note, yellow=True)


_passed: dict[str, int] = dict.fromkeys(BACKENDS, 0)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Each report says its backend: pytest-xdist hands reports, not items, to the process
    that counts them."""
    report = yield
    backend = backend_of(item)
    if backend is not None:
        report.user_properties.append(("backend", backend))
    return report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed:
        for name, value in report.user_properties:
            if name == "backend" and value in _passed:
                _passed[str(value)] += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI, a run whose SQLite tests passed but no PostgreSQL test did is a failure (judged
    where every report arrives: not in a pytest-xdist worker)."""
    if hasattr(session.config, "workerinput"):
        return
    if in_ci() and _passed["sqlite"] and not _passed["postgresql"]:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        _notes.append(
            f"FAILED: no PostgreSQL test ran; CI=true requires them ({POSTGRES_URL_VARIABLE} "
            "selects the server)."
        )


@pytest.fixture(scope="session")
def store(database_url: str) -> Iterator[SqlStore]:
    store = migrated_store(database_url)
    yield store
    store.close()


@pytest.fixture(scope="session")
def server(store: SqlStore) -> Iterator[Server]:
    with running_server(store) as running:
        yield running


@pytest.fixture
def clock(server: Server) -> Iterator[Clock]:
    """The shared server's clock, back to real time after the test."""
    yield server.clock
    server.clock.reset()


@pytest.fixture
def account(server: Server) -> Account:
    """A fresh account of the shared server: tests never see each other's customers."""
    return new_account(server.store)


@pytest.fixture
def client(server: Server, account: Account) -> Iterator[httpx.Client]:
    """An HTTP client of the shared server, authenticated as a fresh account."""
    with httpx.Client(base_url=server.url, auth=(account.key, "X"), timeout=10) as http:
        yield http


@pytest.fixture
def anonymous(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        yield http


@pytest.fixture
def other_client(server: Server) -> Iterator[httpx.Client]:
    """An HTTP client of the shared server for a second fresh account: one whose customers the
    `client` must never see or touch."""
    other = new_account(server.store)
    with httpx.Client(base_url=server.url, auth=(other.key, "X"), timeout=10) as http:
        yield http
