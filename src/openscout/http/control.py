"""The control API under `/_openscout/`: what a test suite needs from a Help Scout stand-in
(docs/testing.md). Served only with `--control-api`; without it, nothing here is installed.

Every control request is authenticated by a v1 key and acts on that key's account only: reset
its customers, load fixtures, take and restore snapshots, read and clear the journal of its
requests, queue faults for its next requests, set its clock. `POST /_openscout/accounts` opens
a new account (with a key of its own), so that each test can have one.

The customers live in the database. Everything else (journal, faults, clocks, snapshots) lives
in the memory of this process: it is lost on restart and not shared between processes, which is
why `openscout serve` refuses `--control-api` with more than one worker.
"""

from __future__ import annotations

import fnmatch
import itertools
import math
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, ParamSpec, TypeVar

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openscout import sandbox, service
from openscout.contract.v1 import decode, encode, fixtures, wire
from openscout.domain.customers import Customer
from openscout.domain.errors import DomainError, Invalid, Malformed, Problem, Reason
from openscout.http.accesslog import KnownAccounts
from openscout.http.auth import api_key
from openscout.http.errors import error_response
from openscout.http.responses import JsonResponse, empty
from openscout.store.base import Store

P = ParamSpec("P")
T = TypeVar("T")

PREFIX: Final = "/_openscout"
#: Requests kept per account; older ones are dropped (and counted as dropped).
JOURNAL_SIZE: Final = 1000
#: Request bodies are kept in the journal up to this many bytes.
JOURNAL_BODY_BYTES: Final = 100 * 1024
MAX_SNAPSHOTS: Final = 100
MAX_FAULT_COUNT: Final = 10_000
MAX_DELAY_MS: Final = 60_000
MAX_RETRY_AFTER: Final = 86_400
#: Ten years: how far `advance` may move a clock at once.
MAX_ADVANCE_SECONDS: Final = 10 * 366 * 86_400
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
#: Never written to the journal.
_HIDDEN_HEADERS: Final = frozenset({"authorization", "proxy-authorization", "cookie"})

TOO_MANY_SNAPSHOTS: Final = f"This account holds {MAX_SNAPSHOTS} snapshots already; delete one"
UNKNOWN_SNAPSHOT: Final = "This account has no snapshot {}"

#: The account of the request being served (set by the journal middleware): its clock applies.
_current_account: ContextVar[int | None] = ContextVar("openscout_control_account", default=None)


class Refused(DomainError):
    """A control request that cannot be carried out: answered with this status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


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

    def response(self) -> Response:
        assert self.status is not None
        retry_after = self.retry_after
        if retry_after is None and self.status == 429:
            retry_after = DEFAULT_RETRY_AFTER_429
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        return JsonResponse(FAULT_BODIES[self.status], self.status, headers)


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


Handler = Callable[[Request, int], Awaitable[Response]]


class Control:
    """The control API of one server process: its routes, its middleware and its state."""

    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.server_clock = clock
        self.accounts = KnownAccounts(store)
        self.states: dict[int, AccountState] = {}
        self.ids = itertools.count(1)

    # -- clocks

    def now(self) -> datetime:
        """The time for the request being served: its account's clock (the app's clock)."""
        return self.time_of(_current_account.get())

    def time_of(self, account: int | None) -> datetime:
        state = self.states.get(account) if account is not None else None
        server_now = self.server_clock()
        return state.clock.read(server_now) if state else server_now

    def state(self, account: int) -> AccountState:
        state = self.states.get(account)
        if state is None:
            state = self.states[account] = AccountState()
        return state

    # -- routes

    def routes(self) -> list[Route]:
        def route(path: str, handler: Handler, method: str) -> Route:
            return Route(f"{PREFIX}{path}", self._endpoint(handler), methods=[method])

        return [
            route("/accounts", self.create_account, "POST"),
            route("/reset", self.reset, "POST"),
            route("/fixtures", self.load_fixtures, "POST"),
            route("/snapshots", self.list_snapshots, "GET"),
            route("/snapshots", self.take_snapshot, "POST"),
            route("/snapshots/{snapshot_id:id}", self.get_snapshot, "GET"),
            route("/snapshots/{snapshot_id:id}", self.delete_snapshot, "DELETE"),
            route("/snapshots/{snapshot_id:id}/restore", self.restore_snapshot, "POST"),
            route("/requests", self.list_requests, "GET"),
            route("/requests", self.clear_requests, "DELETE"),
            route("/faults", self.list_faults, "GET"),
            route("/faults", self.add_fault, "POST"),
            route("/faults", self.clear_faults, "DELETE"),
            route("/clock", self.get_clock, "GET"),
            route("/clock", self.set_clock, "PUT"),
            route("/clock/advance", self.advance_clock, "POST"),
        ]

    async def create_account(self, _request: Request, _account: int) -> Response:
        name, key = await self.store.run(sandbox.open_account, self.store, self.server_clock())
        return JsonResponse({"account": name, "apiKey": key}, 201)

    async def reset(self, _request: Request, account: int) -> Response:
        removed = await self.store.run(sandbox.reset, self.store, account)
        state = self.state(account)
        state.clock = AccountClock()
        state.journal.clear()
        state.recorded = 0
        state.faults.clear()
        return JsonResponse({"removed": removed})

    async def load_fixtures(self, request: Request, account: int) -> Response:
        loaded = fixtures.read_fixtures(await _read_body(request))
        ids = await self.store.run(sandbox.load, self.store, account, loaded, self.time_of(account))
        return JsonResponse({"count": len(ids), "ids": ids}, 201)

    async def list_snapshots(self, _request: Request, account: int) -> Response:
        snapshots = self.state(account).snapshots.values()
        return JsonResponse({"snapshots": [snapshot.describe() for snapshot in snapshots]})

    async def take_snapshot(self, _request: Request, account: int) -> Response:
        state = self.state(account)
        if len(state.snapshots) >= MAX_SNAPSHOTS:
            raise Refused(409, TOO_MANY_SNAPSHOTS)
        saved = await self.store.run(sandbox.export, self.store, account)
        snapshot = Snapshot(next(self.ids), self.time_of(account), tuple(saved))
        state.snapshots[snapshot.id] = snapshot
        return JsonResponse(snapshot.describe(), 201)

    async def get_snapshot(self, request: Request, account: int) -> Response:
        snapshot = self._snapshot(request, account)
        body = snapshot.describe() | {"customers": [encode.full(c) for c in snapshot.customers]}
        return JsonResponse(body)

    async def delete_snapshot(self, request: Request, account: int) -> Response:
        snapshot = self._snapshot(request, account)
        del self.state(account).snapshots[snapshot.id]
        return empty(204)

    async def restore_snapshot(self, request: Request, account: int) -> Response:
        snapshot = self._snapshot(request, account)
        await self.store.run(sandbox.restore, self.store, account, snapshot.customers)
        return JsonResponse(snapshot.describe())

    def _snapshot(self, request: Request, account: int) -> Snapshot:
        snapshot_id: int = request.path_params["snapshot_id"]
        snapshot = self.state(account).snapshots.get(snapshot_id)
        if snapshot is None:
            raise Refused(404, UNKNOWN_SNAPSHOT.format(snapshot_id))
        return snapshot

    async def list_requests(self, _request: Request, account: int) -> Response:
        state = self.state(account)
        dropped = state.recorded - len(state.journal)
        return JsonResponse({"requests": list(state.journal), "dropped": dropped})

    async def clear_requests(self, _request: Request, account: int) -> Response:
        state = self.state(account)
        state.journal.clear()
        state.recorded = 0
        return empty(204)

    async def list_faults(self, _request: Request, account: int) -> Response:
        return JsonResponse({"faults": [fault.describe() for fault in self.state(account).faults]})

    async def add_fault(self, request: Request, account: int) -> Response:
        fault = _read_fault(next(self.ids), await _read_object(request))
        self.state(account).faults.append(fault)
        return JsonResponse(fault.describe(), 201)

    async def clear_faults(self, _request: Request, account: int) -> Response:
        self.state(account).faults.clear()
        return empty(204)

    async def get_clock(self, _request: Request, account: int) -> Response:
        return self._clock(account)

    async def set_clock(self, request: Request, account: int) -> Response:
        body = await _read_object(request)
        reader = _Reader(body)
        moment = reader.moment("now")
        frozen = reader.flag("frozen", default=True)
        reader.done()
        clock = self.state(account).clock
        clock.frozen, clock.offset = None, timedelta()
        if moment is not None and frozen:
            clock.frozen = moment
        elif moment is not None:
            clock.offset = moment - self.server_clock()
        return self._clock(account)

    async def advance_clock(self, request: Request, account: int) -> Response:
        reader = _Reader(await _read_object(request))
        seconds = reader.number("seconds", limit=MAX_ADVANCE_SECONDS, required=True)
        reader.done()
        assert seconds is not None
        clock = self.state(account).clock
        step = timedelta(seconds=seconds)
        if clock.frozen is not None:
            clock.frozen += step
        else:
            clock.offset += step
        return self._clock(account)

    def _clock(self, account: int) -> Response:
        state = self.states.get(account)
        frozen = state is not None and state.clock.frozen is not None
        return JsonResponse({"now": wire.timestamp(self.time_of(account)), "frozen": frozen})

    # -- plumbing

    def _endpoint(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            try:
                account = await self.store.run(service.authenticate, self.store, api_key(request))
                return await handler(request, account)
            except Refused as error:
                return JsonResponse(wire.error_body(error.status, error.message), error.status)
            except sandbox.FixtureEmailTaken as error:
                body = wire.error_body(409, wire.EMAIL_TAKEN)
                body["property"] = wire.property_name(fixtures.item_path(error.index, ("emails",)))
                body["value"] = error.email
                return JsonResponse(body, 409)
            except DomainError as error:
                return error_response(error)

        handle.__name__ = handler.__name__
        return handle

    # -- the middleware

    def journaled(self, app: ASGIApp) -> ASGIApp:
        """`app` with the journal, the faults and the account clocks applied to every request
        with a live key (control requests excepted)."""

        async def recording(scope: Scope, receive: Receive, send: Send) -> None:
            path: str = scope.get("path", "")
            if scope["type"] != "http" or path == PREFIX or path.startswith(f"{PREFIX}/"):
                await app(scope, receive, send)
                return
            account = await self.accounts.account_of(scope)
            if account is None:
                await app(scope, receive, send)
                return
            token = _current_account.set(account)
            try:
                await self._serve(app, scope, receive, send, account)
            finally:
                _current_account.reset(token)

        return recording

    async def _serve(
        self, app: ASGIApp, scope: Scope, receive: Receive, send: Send, account: int
    ) -> None:
        state = self.state(account)
        method: str = scope["method"]
        path: str = scope["path"]
        arrived = self.time_of(account)
        messages: list[Message] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        fault = next((f for f in state.faults if f.matches(method, path)), None)
        if fault is not None:
            fault.remaining -= 1
            if fault.remaining <= 0:
                state.faults.remove(fault)
        status = 500  # what the client gets when the app fails before answering
        handled: int | None = None

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        async def swallow(message: Message) -> None:
            nonlocal handled
            if message["type"] == "http.response.start":
                handled = message["status"]

        try:
            if fault is not None and fault.delay_ms:
                await anyio.sleep(fault.delay_ms / 1000)
            if fault is None or fault.status is None:
                await app(scope, replay, send_status)
            else:
                if fault.processed:
                    await app(scope, replay, swallow)
                await fault.response()(scope, replay, send_status)
        finally:
            state.journal.append(_recorded(state, scope, arrived, body, status, fault, handled))


def _recorded(
    state: AccountState,
    scope: Scope,
    arrived: datetime,
    body: bytes,
    status: int,
    fault: Fault | None,
    handled: int | None,
) -> dict[str, Any]:
    """A journal entry: never a key, an `Authorization` header or a cookie."""
    state.recorded += 1
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").lower()
        if name in _HIDDEN_HEADERS:
            continue
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    kept = body[:JOURNAL_BODY_BYTES]
    try:
        parsed: Any = decode.parse_json(body) if body else None
    except Malformed:
        parsed = None
    injected = None
    if fault is not None:
        injected = {
            "id": fault.id,
            "status": fault.status,
            "delayMs": fault.delay_ms,
            "processed": fault.processed,
            "handledStatus": handled,
        }
    return {
        "seq": state.recorded,
        "time": wire.timestamp(arrived),
        "method": scope["method"],
        "path": scope["path"],
        "query": scope.get("query_string", b"").decode("latin-1"),
        "headers": headers,
        "body": kept.decode("utf-8", "replace"),
        "bodyTruncated": len(body) > len(kept),
        "json": parsed,
        "status": status,
        "fault": injected,
    }


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_CONTROL_BODY:
        raise Refused(413, wire.TOO_LARGE)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_CONTROL_BODY:
            raise Refused(413, wire.TOO_LARGE)
        chunks.append(chunk)
    return b"".join(chunks)


async def _read_object(request: Request) -> dict[str, Any]:
    """A control request's JSON object; an empty body is an empty object."""
    body = await _read_body(request)
    document = decode.parse_json(body) if body.strip() else {}
    if not isinstance(document, dict):
        raise Malformed("the body is not a JSON object")
    return document


def _read_fault(fault_id: int, body: dict[str, Any]) -> Fault:
    reader = _Reader(body)
    count = reader.integer("count", 1, MAX_FAULT_COUNT, default=1)
    status = reader.integer("status", 0, 999, default=503, nullable=True)
    if status is not None and status not in FAULT_BODIES:
        reader.problem("status", status)
    method = reader.text("method")
    path = reader.text("path")
    if path is not None and not path.startswith(("/", "*")):
        reader.problem("path", path)
    retry_after = reader.integer("retryAfter", 0, MAX_RETRY_AFTER)
    delay_ms = reader.integer("delayMs", 0, MAX_DELAY_MS)
    processed = reader.flag("processed", default=False)
    if status is None and not delay_ms and "status" not in reader.problems_at:
        reader.problem("status", None, Reason.REQUIRED)  # a fault must do something
    if processed and status is None:
        reader.problem("processed", True)
    reader.done()
    assert count is not None
    return Fault(
        fault_id,
        count,
        status,
        method.upper() if method else None,
        path,
        retry_after,
        delay_ms,
        processed,
    )


class _Reader:
    """Reads a control request's fields, reporting every problem at once (as v1 does)."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.problems: list[Problem] = []
        self.problems_at: set[str] = set()

    def problem(self, name: str, value: object, reason: Reason = Reason.INVALID) -> None:
        self.problems.append(Problem((name,), value, reason))
        self.problems_at.add(name)

    def done(self) -> None:
        if self.problems:
            raise Invalid(self.problems)

    def integer(
        self,
        name: str,
        low: int,
        high: int,
        *,
        default: int | None = None,
        nullable: bool = False,
    ) -> int | None:
        if name not in self.body:
            return default
        value = self.body[name]
        if value is None and nullable:
            return None
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.problem(name, value)
            return default
        return value

    def number(self, name: str, *, limit: float, required: bool) -> float | None:
        value = self.body.get(name)
        if value is None:
            if required:
                self.problem(name, None, Reason.REQUIRED)
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or abs(value) > limit
        ):
            self.problem(name, value)
            return None
        return float(value)

    def text(self, name: str) -> str | None:
        value = self.body.get(name)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(name, value)
            return None
        return value.strip()

    def flag(self, name: str, *, default: bool) -> bool:
        value = self.body.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problem(name, value)
            return default
        return value

    def moment(self, name: str) -> datetime | None:
        """A v1 timestamp (`2024-05-01T09:30:00Z`); null or missing means none."""
        value = self.body.get(name)
        if value is None:
            return None
        moment = wire.parse_timestamp(value) if isinstance(value, str) else None
        if moment is None:
            self.problem(name, value)
            return None
        return moment
