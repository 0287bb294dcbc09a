"""Request ids and the access log: every response carries its request's id in `Correlation-Id`
(spec §2), and each request can be logged as one line of JSON.

A line holds the time, level and logger of every log line (openscout/logs.py), then the request
id, method, path (never the query string), status, duration in milliseconds and the account id;
never a key, a header or a body. It is written after the response has gone out, in batches by a
thread of its own (`log_to`), so a slow terminal or pipe never holds up a request.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Final, TextIO

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openscout import logs
from openscout.contract.v1 import wire
from openscout.contract.v2 import wire as v2_wire
from openscout.http.auth import principal
from openscout.http.openapi import OPENAPI_PATH, V2_OPENAPI_PATH

log = logging.getLogger("openscout.access")

_SCOPE_KEY: Final = "openscout.request"
_CORRELATION_ID: Final = wire.CORRELATION_ID.lower().encode()
#: How often the access log's lines are written out, in seconds.
_FLUSH_SECONDS: Final = 0.1
#: Paths are cut to this many characters in the log.
_MAX_PATH: Final = 1000
#: API paths served without a credential: never counted, their accounts never looked up.
_OPEN_PATHS: Final = frozenset({OPENAPI_PATH, V2_OPENAPI_PATH})


@dataclass(slots=True)
class RequestInfo:
    """What the middlewares learn about a request: its id."""

    request_id: str


def request_info(scope: Scope) -> RequestInfo | None:
    info: RequestInfo | None = scope.get(_SCOPE_KEY)
    return info


def is_api_path(path: str) -> bool:
    """Paths of the v1 and v2 APIs, where a credential names an account (served or not: an
    unknown v1 or v2 path is an API request too, answered 404). OAuth's paths are not: they
    are how a credential is had."""
    is_api = path.startswith("/v1/") or v2_wire.is_v2_path(path)
    return is_api and path not in _OPEN_PATHS


class AccessLog:
    """ASGI middleware: a request id for every request, sent back as `Correlation-Id`, and a
    log line for every request when `logs` (with the account of its principal: http/auth.py)."""

    def __init__(self, app: ASGIApp, *, logs: bool) -> None:
        self.app = app
        self.logs = logs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        info = RequestInfo(uuid.uuid4().hex)
        scope[_SCOPE_KEY] = info
        status = 500  # what the client gets when the app fails before answering
        finished: float | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status, finished
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (_CORRELATION_ID, info.request_id.encode()),
                ]
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                finished = time.perf_counter()

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.logs:
                ended = finished if finished is not None else time.perf_counter()
                _log(scope, info, status, (ended - started) * 1000)


def _log(scope: Scope, info: RequestInfo, status: int, duration: float) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    found = principal(scope)
    fields: dict[str, Any] = {
        "request_id": info.request_id,
        "method": scope["method"],
        "path": scope["path"][:_MAX_PATH],
        "status": status,
        "duration_ms": round(duration, 3),
        "account_id": found.account_id if found else None,
    }
    message = logs.line("info", log.name, fields)
    if _writer is not None:
        # `openscout serve`'s own writer (`log_to`) takes the line as it is: a log record per
        # request cost a busy server a tenth of a GET (docs/performance.md).
        _writer.add(message)
        return
    # As log.info would, without its search of the stack for the caller (a good part of the
    # cost of a line, and never shown: the format is the message alone).
    log.handle(log.makeRecord(log.name, logging.INFO, __file__, 0, message, (), None))


class BatchedWriter(logging.Handler):
    """A logging handler that collects lines and writes them in batches from a thread of its
    own, a few times a second: a request costs a list append, not a hand-off to a thread (which,
    once per request, cost a busy server about as much as the request: docs/performance.md)."""

    def __init__(self, stream: TextIO, interval: float = _FLUSH_SECONDS) -> None:
        super().__init__()
        self.stream = stream
        self.interval = interval
        self.lines: list[str] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="openscout-access-log", daemon=True)
        self.thread.start()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())  # under self.lock (Handler.handle takes it)

    def add(self, line: str) -> None:
        """Take one line, as `emit` does a record's message."""
        with self.lock:  # type: ignore[union-attr]
            self.lines.append(line)

    def flush(self) -> None:
        """Write what has been collected so far."""
        with self.lock:  # type: ignore[union-attr]
            lines, self.lines = self.lines, []
        if lines:
            try:
                self.stream.write("\n".join(lines) + "\n")
                self.stream.flush()
            except (OSError, ValueError):  # a closed or broken stream: the lines are dropped
                pass

    def close(self) -> None:
        """Stop the thread, then write the last lines."""
        self.stopping.set()
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(timeout=5)
        self.flush()
        super().close()

    def _run(self) -> None:
        while not self.stopping.wait(self.interval):
            self.flush()


_writer: BatchedWriter | None = None


def flush() -> None:
    """Write out the lines collected so far (the app does at shutdown: a server may end its
    worker processes without running their exit handlers)."""
    if _writer is not None:
        _writer.flush()


def log_to(stream: TextIO) -> None:
    """Write the access log to `stream`, one line per request, from a thread of its own."""
    global _writer
    if _writer is not None:
        return
    _writer = BatchedWriter(stream)
    atexit.register(_writer.close)
    log.addHandler(_writer)
    log.setLevel(logging.INFO)
    log.propagate = False
