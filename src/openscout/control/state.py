"""What the control API keeps in the memory of one server process, per account: its clock,
the journal of its requests, its queued faults and its snapshots; and the bounds of each."""

from __future__ import annotations

import fnmatch
import itertools
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from openscout.contract.v1 import wire
from openscout.domain.customers import Customer
from openscout.domain.errors import LimitReached, SnapshotNotFound

PREFIX: Final = "/_openscout"
#: Requests kept per account; older ones are dropped (and counted as dropped).
JOURNAL_SIZE: Final = 1000
#: Request bodies are kept in the journal up to this many bytes; no more is ever held for it.
JOURNAL_BODY_BYTES: Final = 100 * 1024
MAX_SNAPSHOTS: Final = 100
#: Accounts one account may open (`POST /_openscout/accounts`), counting those opened by the
#: accounts it opened, and by theirs: a key cannot multiply itself past this.
MAX_ACCOUNTS_OPENED = 1000
MAX_FAULT_COUNT: Final = 10_000
MAX_DELAY_MS: Final = 60_000
MAX_RETRY_AFTER: Final = 86_400
#: Ten years: how far `advance` may move a clock at once.
MAX_ADVANCE_SECONDS: Final = 10 * 366 * 86_400
#: An account's clock stays within the years 1970 to 9000: every timestamp it stamps can be
#: written, read back and moved on (Python's dates end with the year 9999).
EARLIEST: Final = datetime(1970, 1, 1, tzinfo=UTC)
LATEST: Final = datetime(9000, 12, 31, 23, 59, 59, tzinfo=UTC)
#: Fixture documents may be larger than v1's 100 kB request limit.
MAX_CONTROL_BODY: Final = 20 * 1024 * 1024
#: The statuses a fault can answer, with v1's body for each (spec §4, §7).
FAULT_BODIES: Final[dict[int, dict[str, Any]]] = {
    429: wire.rate_limited_body(),
    500: wire.error_body(500, wire.SERVER_ERROR),
    503: wire.error_body(503, wire.UNAVAILABLE),
}
#: Help Scout sent `Retry-After` with every 429 (spec §4): a fault sends this unless told.
DEFAULT_RETRY_AFTER_429: Final = 1

TOO_MANY_SNAPSHOTS: Final = f"This account holds {MAX_SNAPSHOTS} snapshots already; delete one"
TOO_MANY_ACCOUNTS: Final = "This account has opened {} accounts already (with those they opened)"


def is_control_path(path: str) -> bool:
    return path == PREFIX or path.startswith(f"{PREFIX}/")


def within_clock_range(moment: datetime) -> bool:
    return EARLIEST <= moment <= LATEST


@dataclass(slots=True)
class AccountClock:
    """An account's clock: a fixed moment, or the server's clock moved by an offset."""

    frozen: datetime | None = None
    offset: timedelta = field(default_factory=timedelta)

    def read(self, server_now: datetime) -> datetime:
        return self.frozen if self.frozen is not None else server_now + self.offset


@dataclass(slots=True)
class Fault:
    """The next `remaining` requests matching `method` and `path` (shell-style wildcards) are
    delayed by `delay_ms`, then answered `status` (None: answered normally). With `processed`,
    the request is carried out first and only its answer is replaced."""

    id: int
    remaining: int
    status: int | None
    method: str | None
    path: str | None
    retry_after: int | None
    delay_ms: int | None
    processed: bool

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path is None or fnmatch.fnmatchcase(path, self.path)
        )

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "remaining": self.remaining,
            "status": self.status,
            "method": self.method,
            "path": self.path,
            "retryAfter": self.retry_after,
            "delayMs": self.delay_ms,
            "processed": self.processed,
        }


@dataclass(frozen=True, slots=True)
class Snapshot:
    id: int
    taken_at: datetime
    customers: tuple[Customer, ...]

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "takenAt": wire.timestamp(self.taken_at),
            "count": len(self.customers),
        }


@dataclass(slots=True)
class AccountState:
    """What the control API keeps in memory for one account."""

    clock: AccountClock = field(default_factory=AccountClock)
    journal: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=JOURNAL_SIZE))
    recorded: int = 0
    faults: list[Fault] = field(default_factory=list)
    snapshots: OrderedDict[int, Snapshot] = field(default_factory=OrderedDict)

    def snapshot(self, snapshot_id: int) -> Snapshot:
        snapshot = self.snapshots.get(snapshot_id)
        if snapshot is None:
            raise SnapshotNotFound(snapshot_id)
        return snapshot

    def check_room_for_snapshot(self) -> None:
        if len(self.snapshots) >= MAX_SNAPSHOTS:
            raise LimitReached(TOO_MANY_SNAPSHOTS)

    def keep_snapshot(self, snapshot: Snapshot) -> None:
        self.check_room_for_snapshot()
        self.snapshots[snapshot.id] = snapshot


class ControlState:
    """The control API's state in one server process: every account's, and the accounts opened
    through it (whose opener, at the root, each counts against)."""

    def __init__(self, server_clock: Callable[[], datetime]) -> None:
        self.server_clock = server_clock
        self.accounts: dict[int, AccountState] = {}
        self.ids = itertools.count(1)
        #: The account at the root of each account opened here, and how many each root opened.
        self.roots: dict[int, int] = {}
        self.opened: dict[int, int] = {}

    def state(self, account: int) -> AccountState:
        state = self.accounts.get(account)
        if state is None:
            state = self.accounts[account] = AccountState()
        return state

    def time_of(self, account: int) -> datetime:
        """The account's time: its own clock, or the server's."""
        state = self.accounts.get(account)
        server_now = self.server_clock()
        return state.clock.read(server_now) if state else server_now

    def is_frozen(self, account: int) -> bool:
        state = self.accounts.get(account)
        return state is not None and state.clock.frozen is not None

    def reserve_account(self, opener: int) -> int:
        """Count one more account opened by `opener` against its root (`LimitReached` past
        the bound); returns the root, to `release` should the account not be made after all."""
        root = self.roots.get(opener, opener)
        if self.opened.get(root, 0) >= MAX_ACCOUNTS_OPENED:
            raise LimitReached(TOO_MANY_ACCOUNTS.format(MAX_ACCOUNTS_OPENED))
        self.opened[root] = self.opened.get(root, 0) + 1
        return root

    def release(self, root: int) -> None:
        self.opened[root] -= 1

    def opened_by(self, account: int, root: int) -> None:
        self.roots[account] = root
