"""`HelpScoutServer`: a real openscout server in a background thread of this process, on a
free loopback port, with the control API on (docs/testing.md)."""

from __future__ import annotations

import random
import re
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from time import monotonic, sleep
from types import TracebackType
from typing import TYPE_CHECKING, Any

from openscout.testing.client import FixtureSource, HelpScoutAccount

if TYPE_CHECKING:
    from openscout.store.engine import SqlStore

#: Where each id sequence starts for an `id_seed` (plus a multiple of 1000 below 90 million):
#: customers, entries and addresses never share ids, so that a client that mixes them up fails.
ID_RANGES = {"customers": 100_000_000, "entries": 200_000_000, "addresses": 300_000_000}
#: Seconds to wait for the server to start, and to stop.
_PATIENCE = 10
#: Seconds before a failed webhook delivery is first tried again, in tests (not minutes).
WEBHOOK_BACKOFF = 0.05
#: Seconds a webhook receiver has to answer, in tests.
WEBHOOK_TIMEOUT = 5.0


def id_starts(seed: int) -> dict[str, int]:
    """The first customer, entry and address id of a fresh database started with `seed`."""
    draw = random.Random(f"openscout-ids:{seed}")
    return {name: base + draw.randrange(90_000) * 1000 + 1 for name, base in ID_RANGES.items()}


class DatabaseUnavailable(RuntimeError):
    """The server's database cannot be used; the message says why, in one line."""


class ThreadedServer:
    """An ASGI app served by uvicorn in a background thread of this process, on a free loopback
    port: `url = ThreadedServer(app).start()`, then `stop()`. The one way openscout's own tests
    and `HelpScoutServer` run a server in-process."""

    def __init__(self, app: Any, *, name: str = "openscout-server") -> None:
        self.app = app
        self.name = name
        self.url = ""
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> str:
        """Start serving; returns the base URL once the server accepts connections."""
        import uvicorn

        self._socket = sock = socket.create_server(("127.0.0.1", 0))
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on", server_header=False)
        self._server = server = uvicorn.Server(config)
        self._thread = thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=self.name, daemon=True
        )
        thread.start()
        deadline = monotonic() + _PATIENCE
        while not server.started:
            if not thread.is_alive() or monotonic() > deadline:
                self.stop()
                raise RuntimeError("the openscout test server did not start")
            sleep(0.002)
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        return self.url

    def stop(self) -> None:
        """Stop serving and wait for the thread (bounded). Safe to call twice."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=_PATIENCE)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None


class HelpScoutServer(HelpScoutAccount):
    """An openscout server for tests: `with HelpScoutServer() as hs:` serves the v1 API at
    `hs.base_url`; `hs` is also the handle of a first account (`hs.api_key`, `hs.account`),
    with every control operation (`hs.reset()`, `hs.load(...)`, `hs.fail_next(...)`, ...).

    Options: `database_url` (default: a temporary SQLite file, deleted on exit), `time` (the
    server's clock stands still at this moment: a datetime, naive meaning UTC, or a v1
    timestamp), `fixtures` (files or data loaded into the first account), `id_seed` (ids that
    are the same on every run: see `id_starts`; needs a fresh database), `rate_limit` and
    `burst_limit` (Help Scout's limits, off unless given: 200 and 12), `webhook_backoff` (the
    first retry of a failed webhook delivery, in seconds: 0.05) and `webhook_timeout` (5).
    """

    def __init__(
        self,
        *,
        database_url: str | None = None,
        time: datetime | str | None = None,
        fixtures: Iterable[FixtureSource] = (),
        id_seed: int | None = None,
        rate_limit: int = 0,
        burst_limit: int = 0,
        public_url: str | None = None,
        webhook_backoff: float = WEBHOOK_BACKOFF,
        webhook_timeout: float = WEBHOOK_TIMEOUT,
    ) -> None:
        super().__init__("", "", None)
        self.database_url = database_url
        self.time = _utc(time) if time is not None else None
        self.fixtures = list(fixtures)
        self.id_seed = id_seed
        self.rate_limit = rate_limit
        self.burst_limit = burst_limit
        self.public_url = public_url
        self.webhook_backoff = webhook_backoff
        self.webhook_timeout = webhook_timeout
        self._directory: Path | None = None
        self._store: SqlStore | None = None
        self._server: ThreadedServer | None = None

    def __repr__(self) -> str:
        state = self.base_url or "not started"
        return f"<HelpScoutServer {state}>"

    def __enter__(self) -> HelpScoutServer:
        return self.start()

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def is_running(self) -> bool:
        return self._server is not None and self._server.is_running

    def start(self) -> HelpScoutServer:
        """Migrate the database, start serving, open the first account, load the fixtures."""
        if self._server is not None:
            raise RuntimeError("this HelpScoutServer has been started already")
        try:
            self._start()
            for source in self.fixtures:
                self.load(source)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        from openscout import sandbox
        from openscout.config import Settings
        from openscout.http.app import create_app

        url = self.database_url
        if url is None:
            self._directory = Path(tempfile.mkdtemp(prefix="openscout-test-"))
            url = f"sqlite:///{self._directory / 'openscout.db'}"
        self._store = store = _migrated(url)
        if self.id_seed is not None and not store.start_ids(id_starts(self.id_seed)):
            raise ValueError(
                f"id_seed={self.id_seed} needs a fresh database: {url} has handed out ids"
            )
        clock: Callable[[], datetime] = _frozen(self.time) if self.time else _real_time
        opened = sandbox.open_account(store, clock(), prefix="openscout")
        settings = Settings(
            database_url=url,
            pool_size=4,
            public_url=self.public_url,
            rate_limit=self.rate_limit,
            burst_limit=self.burst_limit,
            access_log=False,
            control_api=True,
            webhook_backoff=self.webhook_backoff,
            webhook_timeout=self.webhook_timeout,
        )
        self._server = ThreadedServer(create_app(settings, store, clock=clock))
        HelpScoutAccount.__init__(
            self,
            self._server.start(),
            opened.api_key,
            opened.name,
            client_id=opened.client_id,
            client_secret=opened.client_secret,
        )

    def stop(self) -> None:
        """Stop serving (and the webhook receiver), close the database, delete the temporary
        one. Safe to call twice."""
        self.close()
        if self._server is not None:
            self._server.stop()
        if self._store is not None:
            self._store.close()
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
        self._server = self._store = self._directory = None


def _migrated(url: str) -> SqlStore:
    """The store of `url`, migrated; `DatabaseUnavailable` when it cannot be."""
    from openscout import config
    from openscout.domain.errors import StoreUnavailable
    from openscout.store import schema
    from openscout.store.engine import SqlStore

    try:
        config.database_url(url)
    except ValueError as error:
        raise DatabaseUnavailable(f"the database URL {url!r} {error}") from None
    path = config.sqlite_path(url)
    if path is not None and not path.parent.is_dir():
        raise DatabaseUnavailable(f"no directory {path.parent.absolute()} for the database {url}")
    store = SqlStore(url, pool_size=4)
    try:
        schema.upgrade(store)
    except StoreUnavailable as error:
        store.close()
        reason = (str(error).strip().splitlines() or ["no answer"])[0]
        shown = re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)
        raise DatabaseUnavailable(f"the database {shown} cannot be reached: {reason}") from None
    except BaseException:
        store.close()
        raise
    return store


def _utc(moment: datetime | str) -> datetime:
    if isinstance(moment, str):
        from openscout.contract.v1.wire import parse_timestamp

        parsed = parse_timestamp(moment)
        if parsed is None:
            raise ValueError(f"not a moment: {moment!r} (like 2024-05-01T09:30:00Z)")
        return parsed
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _frozen(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def _real_time() -> datetime:
    return datetime.now(UTC)
