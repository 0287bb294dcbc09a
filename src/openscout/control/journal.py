"""The journal middleware: each request of an account with a live key (control requests
excepted) is recorded in the account's journal, and its queued faults are applied to it.

Only the first `JOURNAL_BODY_BYTES` of a body are ever held for the journal: the rest streams
on to the endpoint, which applies its own limit (v1 answers 413 past 100 kB).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import anyio
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openscout.contract.v1 import decode, wire
from openscout.contract.v2 import wire as v2_wire
from openscout.control.state import (
    DEFAULT_RETRY_AFTER_429,
    FAULT_BODIES,
    JOURNAL_BODY_BYTES,
    AccountState,
    ControlState,
    Fault,
    is_control_path,
)
from openscout.domain.errors import Malformed
from openscout.http.auth import principal
from openscout.http.errors import V1, shape_of, status_response
from openscout.http.responses import JsonResponse

#: What a fault of each status says on a v2 path.
V2_FAULT_MESSAGES: Final[dict[int, str]] = {
    429: v2_wire.RATE_LIMITED,
    500: v2_wire.SERVER_ERROR,
    503: v2_wire.UNAVAILABLE,
}
#: Never written to the journal.
_HIDDEN_HEADERS: Final = frozenset({"authorization", "proxy-authorization", "cookie"})


class Journal:
    """ASGI middleware: the journal, the faults and the account clocks of the control API."""

    def __init__(self, app: ASGIApp, control: ControlState) -> None:
        self.app = app
        self.control = control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = principal(scope) if scope["type"] == "http" else None
        if found is None or is_control_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        account = found.account_id
        state = self.control.state(account)
        method: str = scope["method"]
        path: str = scope["path"]
        arrived = self.control.time_of(account)
        messages, body, is_cut = await _first_bytes(receive, JOURNAL_BODY_BYTES)

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
                await self.app(scope, replay, send_status)
            else:
                if fault.processed:
                    await self.app(scope, replay, swallow)
                await fault_response(fault, scope)(scope, replay, send_status)
        finally:
            entry = _recorded(state, scope, arrived, body, is_cut, status, fault, handled)
            state.journal.append(entry)


async def _first_bytes(receive: Receive, limit: int) -> tuple[list[Message], bytes, bool]:
    """Receive a body until it ends or passes `limit` bytes: the messages received (to be
    replayed to the app), the body's first `limit` bytes, and whether there was more."""
    messages: list[Message] = []
    size = 0
    while size <= limit:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            break
    received = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
    return messages, received[:limit], size > limit


def fault_response(fault: Fault, scope: Scope) -> Response:
    """The answer a fault puts in place of the endpoint's, in the request's API version's shape
    (docs/testing.md): v1's bodies, or v2's vnd.error on a v2 path."""
    assert fault.status is not None
    retry_after = fault.retry_after
    if retry_after is None and fault.status == 429:
        retry_after = DEFAULT_RETRY_AFTER_429
    if shape_of(scope) is not V1:
        return status_response(fault.status, V2_FAULT_MESSAGES[fault.status], scope, retry_after)
    headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
    return JsonResponse(FAULT_BODIES[fault.status], fault.status, headers)


def _recorded(
    state: AccountState,
    scope: Scope,
    arrived: datetime,
    body: bytes,
    is_cut: bool,
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
    parsed: Any = None
    if body and not is_cut:  # a cut body is not JSON: the part kept is shown as text
        try:
            parsed = decode.parse_json(body)
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
        "body": body.decode("utf-8", "replace"),
        "bodyTruncated": is_cut,
        "json": parsed,
        "status": status,
        "fault": injected,
    }
