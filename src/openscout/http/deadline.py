"""Request bodies that never finish, and clients that hang up before theirs is read.

`BodyDeadline` gives the whole body of a request one deadline (`--body-timeout`, 30 s), counted
from the request's start: a body sent a byte a second is answered 408 in v1's shape once it has
passed, and the connection closed. It works on `receive`, so on either HTTP server, and costs a
request without a body nothing. A response sent before the body was read to its end closes the
connection too, so that a body still trickling in never holds it.

A client that hangs up in the middle of its body is not an error of the server's: Starlette
raises `ClientDisconnect` where the body is read, and the error table (http/errors.py) logs it at
info (no traceback) and gives the access log status 499, nginx's "client closed request".
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openscout.http.errors import BodyTimeout, error_response

_CLOSE = (b"connection", b"close")


def _has_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return value.strip() not in (b"0", b"")
        if name == b"transfer-encoding":
            return True
    return False


class BodyDeadline:
    """ASGI middleware: the request body must have arrived within `seconds` of the request's
    start, or `receive` raises `BodyTimeout`: answered 408 through the error table, by the app's
    handlers or, when it was raised outside the app (the control API's journal reads bodies
    too), here."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        complete = False
        started = False

        async def receive_in_time() -> Message:
            nonlocal complete
            if complete:  # after the body: the server's own wait for a disconnect
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise BodyTimeout() from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                complete = True
            return message

        async def send_closing(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = message.get("headers", [])
                # Over HTTP/1, a connection whose body was not read to its end is closed once
                # answered (HTTP/2 has no Connection header; its stream ends with the answer).
                if (
                    not complete
                    and scope.get("http_version", "1.1").startswith("1")
                    and not any(name.lower() == b"connection" for name, _ in headers)
                ):
                    message["headers"] = [*headers, _CLOSE]
            await send(message)

        try:
            await self.app(scope, receive_in_time, send_closing)
        except BodyTimeout:
            if started:
                raise
            await error_response(BodyTimeout(), scope)(scope, receive, send)
