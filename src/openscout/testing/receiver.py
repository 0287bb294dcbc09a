"""`WebhookReceiver`: an HTTP endpoint on loopback, in a thread of this process, that takes
webhook deliveries as a real receiver would: it checks each one's signature, keeps it, and
answers; tests wait for deliveries and make the receiver fail on purpose (docs/testing.md).

Standard library only, like the rest of `openscout.testing`'s client side.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
import socket
import threading
import time
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

#: What an endpoint answers a good delivery.
ACCEPTED = 200
#: What it answers a delivery whose signature does not match its secret.
BAD_SIGNATURE = 401
#: Seconds `wait` waits unless told otherwise.
PATIENCE = 10.0


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One request the receiver got: the event, the raw body as it came, the headers (names in
    lower case), whether the signature was right, what the receiver answered (None: it dropped
    the connection without an answer, as asked), and where from."""

    event: str | None
    body: bytes
    headers: Mapping[str, str]
    signature_valid: bool
    status: int | None
    endpoint: str
    received_at: datetime
    #: The sender's address and port: deliveries over one kept-alive connection share it.
    remote: str = ""

    @property
    def event_id(self) -> str | None:
        """openscout's `X-OpenScout-Event-Id`: the same on every attempt of one delivery."""
        return self.headers.get("x-openscout-event-id")

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def is_acknowledged(self) -> bool:
        """Answered 2xx: the sender counts it delivered."""
        return self.status is not None and 200 <= self.status < 300


@dataclass
class _Failure:
    remaining: int
    status: int | None  # None: drop the connection without answering
    delay: float


@dataclass
class _State:
    secrets: dict[str, str] = field(default_factory=dict)  # endpoint path → secret
    received: list[WebhookDelivery] = field(default_factory=list)
    failures: list[_Failure] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)


class WebhookReceiver:
    """Webhook endpoints on 127.0.0.1 (`endpoint(secret)` makes one: a URL to subscribe),
    served by a thread of this process from `start()` to `stop()` (or a `with` block).

    Each request is checked against its endpoint's secret: a good signature is answered 200
    (unless a failure was asked for: `fail_next`, `delay_next`), a bad one 401. Everything is
    kept: `received()` lists every request, `deliveries()` those acknowledged with a good
    signature, and `wait(count)` returns as soon as that many have been."""

    def __init__(self) -> None:
        self._state = _State()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._paths = itertools.count(1)
        self._port = 0
        self.url = ""

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<WebhookReceiver {self.url or 'not started'}>"

    @property
    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> WebhookReceiver:
        """Serve; after a `stop`, on the same port again (the same URLs)."""
        if self._server is None:
            self._server = _Server(("127.0.0.1", self._port), _Handler, self._state)
            self._port = self._server.server_address[1]
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="openscout-webhook-receiver",
                daemon=True,
            )
            self._thread.start()
            self.url = f"http://127.0.0.1:{self._port}"
        return self

    def stop(self) -> None:
        """Stop answering: a delivery then finds nothing listening (a receiver that is down).
        Safe to call twice; `start()` serves the same endpoints again."""
        if self._server is not None:
            self._server.shutdown()
            self._server.drop_connections()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def endpoint(self, secret: str | None = None) -> tuple[str, str]:
        """A new endpoint: its URL and the secret it checks signatures with (a fresh random
        one unless given)."""
        self.start()
        secret = secret or secrets.token_urlsafe(24)[:40]
        path = f"/webhooks/{next(self._paths)}"
        with self._state.changed:
            self._state.secrets[path] = secret
        return f"{self.url}{path}", secret

    # -- failures on purpose

    def fail_next(self, n: int = 1, status: int | None = 500, *, delay: float = 0.0) -> None:
        """Answer the next `n` deliveries `status` (500, 410, ...) after `delay` seconds;
        `status=None` drops the connection without an answer."""
        with self._state.changed:
            self._state.failures.append(_Failure(n, status, delay))

    def delay_next(self, n: int = 1, *, seconds: float) -> None:
        """Answer the next `n` deliveries only after `seconds` (200, if all else is well)."""
        with self._state.changed:
            self._state.failures.append(_Failure(n, ACCEPTED, seconds))

    def clear_failures(self) -> None:
        with self._state.changed:
            self._state.failures.clear()

    # -- what arrived

    def received(self, event: str | None = None) -> list[WebhookDelivery]:
        """Every request so far, in arrival order, whatever it was answered."""
        with self._state.changed:
            return [d for d in self._state.received if event is None or d.event == event]

    def deliveries(self, event: str | None = None) -> list[WebhookDelivery]:
        """The deliveries acknowledged so far (good signature, answered 2xx), in order."""
        return [d for d in self.received(event) if d.is_acknowledged and d.signature_valid]

    def wait(
        self, count: int = 1, *, event: str | None = None, timeout: float = PATIENCE
    ) -> list[WebhookDelivery]:
        """The acknowledged deliveries (of `event`), once there are at least `count`: returns
        as soon as the last one arrives. `TimeoutError` after `timeout` seconds, saying what
        did arrive."""
        deadline = time.monotonic() + timeout
        with self._state.changed:
            while True:
                found = [
                    d
                    for d in self._state.received
                    if d.is_acknowledged
                    and d.signature_valid
                    and (event is None or d.event == event)
                ]
                left = deadline - time.monotonic()
                if len(found) >= count or left <= 0:
                    break
                self._state.changed.wait(left)
        if len(found) < count:
            got = [(d.event, d.status) for d in self._state.received]
            raise TimeoutError(
                f"{len(found)} of {count} deliveries in {timeout:g} s; received: {got}"
            )
        return found

    def clear(self) -> None:
        """Forget what was received."""
        with self._state.changed:
            self._state.received.clear()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    #: socketserver's default backlog of 5 drops the connections of a burst of deliveries.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: type, state: _State) -> None:
        super().__init__(address, handler)
        self.state = state
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        with self.connections_lock:
            self.connections.add(connection)
        return connection, address

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Cut the connections kept alive: a stopped receiver answers nothing at all."""
        with self.connections_lock:
            for connection in self.connections:
                with suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    #: Answers leave at once, not after the client's delayed acknowledgement.
    disable_nagle_algorithm = True
    server: _Server

    def do_POST(self) -> None:
        state = self.server.state
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        with state.changed:
            secret = state.secrets.get(self.path)
            failure = state.failures[0] if state.failures else None
            if failure is not None:
                failure.remaining -= 1
                if failure.remaining <= 0:
                    state.failures.pop(0)
        valid = secret is not None and _is_signed(
            secret, body, headers.get("x-helpscout-signature")
        )
        status: int | None = ACCEPTED if valid else BAD_SIGNATURE
        if secret is None:
            status = 404
        elif failure is not None and valid:
            time.sleep(failure.delay)
            status = failure.status
        self._record(body, headers, valid, status)
        if status is None:
            self.close_connection = True  # no answer at all
            return
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _record(
        self, body: bytes, headers: dict[str, str], valid: bool, status: int | None
    ) -> None:
        state = self.server.state
        delivery = WebhookDelivery(
            event=headers.get("x-helpscout-event"),
            body=body,
            headers=headers,
            signature_valid=valid,
            status=status,
            endpoint=self.path,
            received_at=datetime.now(UTC),
            remote=f"{self.client_address[0]}:{self.client_address[1]}",
        )
        with state.changed:
            state.received.append(delivery)
            state.changed.notify_all()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests read what arrived from the receiver itself


def _is_signed(secret: str, body: bytes, signed: str | None) -> bool:
    """base64(HMAC-SHA1(secret, body)), as Help Scout signs (and docs/webhooks.md checks)."""
    if signed is None:
        return False
    digest = hmac.new(secret.encode(), body, hashlib.sha1).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(), signed.strip())
