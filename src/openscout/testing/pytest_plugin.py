"""The pytest plugin that installing openscout installs (entry point `pytest11`; docs/testing.md).

Fixtures: `helpscout_server` (one `HelpScoutServer` per session, so one per pytest-xdist worker)
and `helpscout` (a new account of it with a key of its own for every test, so tests never see
each other's customers, journal, faults or clock). Markers: `helpscout_fixtures(*sources)`,
`helpscout_time(moment, frozen=True)` and `helpscout_own_server(**options)`. Options:
`--helpscout-database-url`, `--helpscout-id-seed` (and the ini settings of the same names), ini
`helpscout_fixtures`.

Loading the plugin only registers these: no server starts unless a test asks for one.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from openscout.testing import HelpScoutAccount, HelpScoutServer

_ACCOUNT = pytest.StashKey["HelpScoutAccount"]()
#: Journal lines shown under a failed test.
_SHOWN_REQUESTS = 50

MARKERS = (
    "helpscout_fixtures(*sources): load these fixtures (JSON files, relative to the test file, "
    "or data) into the account of the `helpscout` fixture",
    "helpscout_time(moment, frozen=True): set the clock of the `helpscout` account to this "
    "moment (a datetime or a timestamp like 2024-05-01T09:30:00Z)",
    "helpscout_own_server(**options): give this test a HelpScoutServer of its own, started "
    "with these options (id_seed=..., time=..., rate_limit=...)",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("openscout", "openscout: Help Scout's v1 API for tests")
    group.addoption(
        "--helpscout-database-url",
        dest="helpscout_database_url",
        metavar="URL",
        help="database of the `helpscout` server (default: a temporary SQLite file per process)",
    )
    group.addoption(
        "--helpscout-id-seed",
        dest="helpscout_id_seed",
        type=int,
        metavar="N",
        help="start the `helpscout` server's ids from this seed (needs a fresh database)",
    )
    parser.addini("helpscout_database_url", "the default of --helpscout-database-url")
    parser.addini("helpscout_id_seed", "the default of --helpscout-id-seed")
    parser.addini(
        "helpscout_fixtures",
        "fixture files loaded into the account of every test (relative to the ini file)",
        type="paths",
    )


def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)


def server_options(config: pytest.Config) -> dict[str, Any]:
    """The `HelpScoutServer` options that the command line and the ini file give."""
    options: dict[str, Any] = {}
    url = config.getoption("helpscout_database_url") or config.getini("helpscout_database_url")
    if url:
        options["database_url"] = url
    seed = config.getoption("helpscout_id_seed")
    if seed is None and config.getini("helpscout_id_seed"):
        seed = int(config.getini("helpscout_id_seed"))
    if seed is not None:
        options["id_seed"] = seed
    return options


@pytest.fixture(scope="session")
def helpscout_server(request: pytest.FixtureRequest) -> Iterator[HelpScoutServer]:
    """An openscout server with the control API, shared by the tests of this process."""
    from openscout.testing import HelpScoutServer

    with _stop_when_unavailable():
        server = HelpScoutServer(**server_options(request.config)).start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def _stop_when_unavailable() -> Iterator[None]:
    """A database that cannot be used stops the whole session with one line: every test after
    would fail the same way."""
    from openscout.testing.server import DatabaseUnavailable

    try:
        yield
    except DatabaseUnavailable as error:
        pytest.exit(f"openscout: {error}", returncode=pytest.ExitCode.USAGE_ERROR)


@pytest.fixture
def helpscout(request: pytest.FixtureRequest) -> Iterator[HelpScoutAccount]:
    """A new account with its own key, on the session's server (or on a server of the test's
    own, with `helpscout_own_server`), seeded as the markers say."""
    from openscout.testing import HelpScoutServer

    own = request.node.get_closest_marker("helpscout_own_server")
    server: HelpScoutServer | None = None
    if own is not None:
        options = server_options(request.config) | dict(own.kwargs)
        options["fixtures"] = [_source(request, s) for s in options.get("fixtures", ())]
        with _stop_when_unavailable():
            server = HelpScoutServer(**options).start()
        account: HelpScoutAccount = server
    else:
        account = request.getfixturevalue("helpscout_server").new_account()
    try:
        timing = request.node.get_closest_marker("helpscout_time")
        if timing is not None:
            account.set_time(*timing.args, **timing.kwargs)
        for path in request.config.getini("helpscout_fixtures"):
            account.load(path)
        # Outermost markers first: a module's fixtures, then a class's, then the test's.
        for marker in reversed(list(request.node.iter_markers("helpscout_fixtures"))):
            for source in marker.args:
                account.load(_source(request, source))
        request.node.stash[_ACCOUNT] = account
        yield account
    finally:
        account.close()
        if server is not None:
            server.stop()


def _source(request: pytest.FixtureRequest, source: Any) -> Any:
    """A fixture file's path is relative to the test file; data is passed on as it is."""
    if isinstance(source, str | Path):
        return Path(request.node.path).parent / source
    return source


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Under a failed test that used `helpscout`, the requests its account received."""
    report = yield
    account = item.stash.get(_ACCOUNT, None)
    if account is not None and report.when == "call" and report.failed:
        try:
            received = account.requests()
        except Exception as error:  # the server may be what failed
            report.sections.append(("openscout requests", f"(could not be read: {error})"))
            return report
        lines = [
            f"{r.seq:>4} {r.method} {r.path}{'?' + r.query if r.query else ''} -> {r.status}"
            + (f" (fault {r.fault['id']})" if r.fault else "")
            for r in received[-_SHOWN_REQUESTS:]
        ]
        report.sections.append(("openscout requests", "\n".join(lines) or "(none)"))
    return report
