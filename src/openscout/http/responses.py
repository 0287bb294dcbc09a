"""JSON responses encoded by msgspec, with the media type Help Scout sent (spec §2)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from starlette.responses import Response

MEDIA_TYPE = "application/json; charset=utf-8"
_encoder = msgspec.json.Encoder()


class JsonResponse(Response):
    media_type = MEDIA_TYPE

    def __init__(
        self, body: Any, status_code: int = 200, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(_encoder.encode(body), status_code=status_code, headers=headers)


def empty(status_code: int, headers: Mapping[str, str] | None = None) -> Response:
    """A response with no body (`Content-Length: 0`), as v1 answered writes without reload."""
    return Response(b"", status_code=status_code, headers=headers)
