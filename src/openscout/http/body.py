"""Request bodies: read up to a limit, never further, by every endpoint that takes one; and
decoded where decoding them holds no one up."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Concatenate, ParamSpec, TypeVar

import anyio.to_thread
from starlette.requests import Request

from openscout.domain.errors import BodyTooLarge

P = ParamSpec("P")
T = TypeVar("T")

#: Bodies longer than this are decoded in a worker thread, not on the event loop, where every
#: other request would wait for them: v1's decoder takes about 5.5 ms for 95 kB (5,000 phones),
#: so a body of this size holds the loop for about a millisecond.
LARGE_BODY = 16_384


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with `BodyTooLarge` as soon as it is known to pass `limit` bytes:
    by its declared length before any of it is read, else once the bytes read so far pass it
    (a chunked body is never held in memory beyond the limit and one chunk)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def decoded(
    decoder: Callable[Concatenate[bytes, P], T], body: bytes, /, *args: P.args, **kwargs: P.kwargs
) -> T:
    """`decoder(body, ...)`: on the event loop for a small body, in a worker thread for one
    longer than `LARGE_BODY` bytes."""
    if len(body) > LARGE_BODY:
        return await anyio.to_thread.run_sync(partial(decoder, body, *args, **kwargs))
    return decoder(body, *args, **kwargs)
