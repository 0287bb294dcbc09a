"""Request bodies: read up to a limit, never further, by every endpoint that takes one."""

from __future__ import annotations

from starlette.requests import Request

from openscout.domain.errors import BodyTooLarge


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
