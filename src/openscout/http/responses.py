"""JSON responses encoded by msgspec, with the media type Help Scout sent (v1 spec §2; v2's
`application/hal+json` and `application/vnd.error+json` given by the caller)."""

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
        self,
        body: Any,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        super().__init__(
            _encoder.encode(body), status_code=status_code, headers=headers, media_type=media_type
        )


def empty(status_code: int, headers: Mapping[str, str] | None = None) -> Response:
    """A response with no body (`Content-Length: 0`), as v1 answered writes without reload."""
    return Response(b"", status_code=status_code, headers=headers)
