"""The control API's endpoints (docs/testing.md): each acts on the account of the caller's key
only. Errors are answered by the app's one table (http/errors.py), in v1's shape."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from openscout import keys, sandbox, service
from openscout.contract.v1 import decode, encode, wire
from openscout.contract.v2 import fixtures
from openscout.contract.v2 import webhooks as v2_webhooks
from openscout.control.state import (
    FAULT_BODIES,
    MAX_ADVANCE_SECONDS,
    MAX_CONTROL_BODY,
    MAX_DELAY_MS,
    MAX_FAULT_COUNT,
    MAX_RETRY_AFTER,
    PREFIX,
    AccountClock,
    ControlState,
    Fault,
    Snapshot,
    within_clock_range,
)
from openscout.domain.errors import Invalid, Malformed, Problem, Reason
from openscout.domain.properties import PropertyDefinition, new_definition
from openscout.domain.webhooks import Webhook
from openscout.http.auth import account_of
from openscout.http.body import read_body
from openscout.http.responses import JsonResponse, empty
from openscout.logs import timestamp
from openscout.store.base import DeliveryRecord, Store
from openscout.webhooks import service as webhooks

P = ParamSpec("P")
T = TypeVar("T")
Handler = Callable[[Request, int], Awaitable[Response]]


def control_routes(control: ControlState, store: Store) -> list[Route]:
    """The 23 routes of the control API."""
    return ControlRoutes(control, store).routes()


class ControlRoutes:
    def __init__(self, control: ControlState, store: Store) -> None:
        self.control = control
        self.store = store

    def routes(self) -> list[Route]:
        def route(path: str, handler: Handler, method: str) -> Route:
            return Route(f"{PREFIX}{path}", _endpoint(handler), methods=[method])

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
            route("/properties", self.list_properties, "GET"),
            route("/properties", self.define_property, "POST"),
            route("/webhooks", self.list_webhooks, "GET"),
            route("/webhooks", self.create_webhook, "POST"),
            route("/webhooks/{webhook_id:id}", self.delete_webhook, "DELETE"),
            route("/webhooks/{webhook_id:id}/deliveries", self.list_deliveries, "GET"),
            route("/deliveries/{event_id}/redeliver", self.redeliver, "POST"),
        ]

    async def create_account(self, _request: Request, account: int) -> Response:
        root = self.control.reserve_account(account)
        try:
            opened = await self.store.run(
                sandbox.open_account, self.store, self.control.server_clock()
            )
        except BaseException:
            self.control.release(root)
            raise
        account_id = await self.store.run(
            service.account_for_key, self.store, keys.hash_key(opened.api_key)
        )
        if account_id is not None:
            self.control.opened_by(account_id, root)
        return JsonResponse(
            {
                "account": opened.name,
                "apiKey": opened.api_key,
                "clientId": opened.client_id,
                "clientSecret": opened.client_secret,
            },
            201,
        )

    async def reset(self, _request: Request, account: int) -> Response:
        removed = await self.store.run(sandbox.reset, self.store, account)
        state = self.control.state(account)
        state.clock = AccountClock()
        state.journal.clear()
        state.recorded = 0
        state.faults.clear()
        return JsonResponse({"removed": removed})

    async def load_fixtures(self, request: Request, account: int) -> Response:
        loaded = fixtures.read_fixtures(await read_body(request, MAX_CONTROL_BODY))
        now = self.control.time_of(account)
        ids = await self.store.run(sandbox.load, self.store, account, loaded, now)
        return JsonResponse({"count": len(ids), "ids": ids}, 201)

    async def list_snapshots(self, _request: Request, account: int) -> Response:
        snapshots = self.control.state(account).snapshots.values()
        return JsonResponse({"snapshots": [snapshot.describe() for snapshot in snapshots]})

    async def take_snapshot(self, _request: Request, account: int) -> Response:
        state = self.control.state(account)
        state.check_room_for_snapshot()
        saved = await self.store.run(sandbox.export, self.store, account)
        snapshot = Snapshot(next(self.control.ids), self.control.time_of(account), tuple(saved))
        state.keep_snapshot(snapshot)
        return JsonResponse(snapshot.describe(), 201)

    async def get_snapshot(self, request: Request, account: int) -> Response:
        snapshot = self.control.state(account).snapshot(request.path_params["snapshot_id"])
        body = snapshot.describe() | {"customers": [encode.full(c) for c in snapshot.customers]}
        return JsonResponse(body)

    async def delete_snapshot(self, request: Request, account: int) -> Response:
        state = self.control.state(account)
        snapshot = state.snapshot(request.path_params["snapshot_id"])
        del state.snapshots[snapshot.id]
        return empty(204)

    async def restore_snapshot(self, request: Request, account: int) -> Response:
        snapshot = self.control.state(account).snapshot(request.path_params["snapshot_id"])
        await self.store.run(sandbox.restore, self.store, account, snapshot.customers)
        return JsonResponse(snapshot.describe())

    async def list_requests(self, _request: Request, account: int) -> Response:
        state = self.control.state(account)
        dropped = state.recorded - len(state.journal)
        return JsonResponse({"requests": list(state.journal), "dropped": dropped})

    async def clear_requests(self, _request: Request, account: int) -> Response:
        state = self.control.state(account)
        state.journal.clear()
        state.recorded = 0
        return empty(204)

    async def list_faults(self, _request: Request, account: int) -> Response:
        faults = self.control.state(account).faults
        return JsonResponse({"faults": [fault.describe() for fault in faults]})

    async def add_fault(self, request: Request, account: int) -> Response:
        fault = _read_fault(next(self.control.ids), await _read_object(request))
        self.control.state(account).faults.append(fault)
        return JsonResponse(fault.describe(), 201)

    async def clear_faults(self, _request: Request, account: int) -> Response:
        self.control.state(account).faults.clear()
        return empty(204)

    async def get_clock(self, _request: Request, account: int) -> Response:
        return self._clock(account)

    async def set_clock(self, request: Request, account: int) -> Response:
        reader = _Reader(await _read_object(request))
        moment = reader.moment("now")
        frozen = reader.flag("frozen", default=True)
        reader.done()
        clock = self.control.state(account).clock
        clock.frozen, clock.offset = None, timedelta()
        if moment is not None and frozen:
            clock.frozen = moment
        elif moment is not None:
            clock.offset = moment - self.control.server_clock()
        return self._clock(account)

    async def advance_clock(self, request: Request, account: int) -> Response:
        reader = _Reader(await _read_object(request))
        seconds = reader.number("seconds", limit=MAX_ADVANCE_SECONDS, required=True)
        step = timedelta(seconds=seconds or 0)
        if not within_clock_range(self.control.time_of(account) + step):
            reader.problem("seconds", reader.body["seconds"])  # the clock would leave its range
        reader.done()
        clock = self.control.state(account).clock
        if clock.frozen is not None:
            clock.frozen += step
        else:
            clock.offset += step
        return self._clock(account)

    async def list_properties(self, _request: Request, account: int) -> Response:
        listed = await self.store.run(service.list_properties, self.store, account)
        return JsonResponse({"properties": [_property(definition) for definition in listed]})

    async def define_property(self, request: Request, account: int) -> Response:
        """A custom property of the account (docs/decisions/v2-property-definitions.md): the
        body's values are checked for their JSON types first, then against the rules."""
        reader = _Reader(await _read_object(request))
        slug, name, kind = (reader.string(field) for field in ("slug", "name", "type"))
        options = reader.strings("options")
        reader.done()
        definition = new_definition(slug, name, kind, options)
        await self.store.run(service.define_property, self.store, account, definition)
        return JsonResponse(_property(definition), 201)

    # -- webhooks (docs/webhooks.md): as /v2/webhooks has them, with the deliveries

    async def list_webhooks(self, _request: Request, account: int) -> Response:
        listed = await self.store.run(webhooks.list_webhooks, self.store, account)
        return JsonResponse({"webhooks": [_webhook(item.webhook) for item in listed]})

    async def create_webhook(self, request: Request, account: int) -> Response:
        wanted = v2_webhooks.read_webhook(await _read_object(request))
        now = self.control.server_clock()
        made = await self.store.run(webhooks.create_webhook, self.store, account, wanted, now)
        return JsonResponse(_webhook(made), 201)

    async def delete_webhook(self, request: Request, account: int) -> Response:
        webhook_id = request.path_params["webhook_id"]
        await self.store.run(webhooks.delete_webhook, self.store, account, webhook_id)
        return empty(204)

    async def list_deliveries(self, request: Request, account: int) -> Response:
        webhook_id = request.path_params["webhook_id"]
        found = await self.store.run(webhooks.webhook_deliveries, self.store, account, webhook_id)
        return JsonResponse({"deliveries": [_delivery(record) for record in found]})

    async def redeliver(self, request: Request, account: int) -> Response:
        now_ms = round(self.control.server_clock().timestamp() * 1000)
        event_id = request.path_params["event_id"]
        await self.store.run(webhooks.redeliver, self.store, account, event_id, now_ms)
        return empty(204)

    def _clock(self, account: int) -> Response:
        now = wire.timestamp(self.control.time_of(account))
        return JsonResponse({"now": now, "frozen": self.control.is_frozen(account)})


def _endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def handle(request: Request) -> Response:
        return await handler(request, account_of(request))

    handle.__name__ = handler.__name__
    return handle


def _property(definition: PropertyDefinition) -> dict[str, Any]:
    return {
        "slug": definition.slug,
        "name": definition.name,
        "type": definition.type.value,
        "options": [
            {"id": option_id, "label": label} for option_id, label in definition.options.items()
        ],
    }


async def _read_object(request: Request) -> dict[str, Any]:
    """A control request's JSON object; an empty body is an empty object."""
    body = await read_body(request, MAX_CONTROL_BODY)
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


def _webhook(webhook: Webhook) -> dict[str, Any]:
    """A webhook as the control API shows it: v2's fields (never its secret), and when it was
    made."""
    return {
        **v2_webhooks.fields(webhook),
        "createdAt": wire.timestamp(webhook.created_at) if webhook.created_at else None,
    }


def _delivery(record: DeliveryRecord) -> dict[str, Any]:
    def moment(value: datetime | None) -> str | None:
        return None if value is None else timestamp(value)

    return {
        "eventId": record.event_id,
        "event": record.event,
        "customerId": record.customer_id,
        "createdAt": moment(record.created_at),
        "state": record.state,
        "attempts": record.attempts,
        "lastStatus": record.last_status,
        "nextAttemptAt": moment(record.next_attempt_at),
        "deliveredAt": moment(record.delivered_at),
        "tries": [
            {
                "at": moment(attempt.at),
                "status": attempt.status,
                "durationMs": attempt.duration_ms,
                "error": attempt.error,
            }
            for attempt in record.tries
        ],
    }


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

    def string(self, name: str) -> str:
        """A required string, as sent ("" when it is not one: reported)."""
        value = self.body.get(name)
        if not isinstance(value, str):
            self.problem(name, value, Reason.REQUIRED if value is None else Reason.INVALID)
            return ""
        return value

    def strings(self, name: str) -> list[str]:
        """A list of strings; null or missing means none."""
        value = self.body.get(name)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.problem(name, value)
            return []
        return value

    def flag(self, name: str, *, default: bool) -> bool:
        value = self.body.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problem(name, value)
            return default
        return value

    def moment(self, name: str) -> datetime | None:
        """A v1 timestamp (`2024-05-01T09:30:00Z`) within the years 1970 to 9000; null or
        missing means none."""
        value = self.body.get(name)
        if value is None:
            return None
        moment = wire.parse_timestamp(value) if isinstance(value, str) else None
        if moment is None or not within_clock_range(moment):
            self.problem(name, value)
            return None
        return moment
