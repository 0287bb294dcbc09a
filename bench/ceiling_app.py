"""The framework ceiling: openscout's HTTP stack answering a trivial JSON GET.

The same server (uvicorn with uvloop and httptools), framework (Starlette) and JSON encoder
(msgspec) as `openscout serve`, with nothing behind them: no authentication, no database, no
middleware. Whatever openscout answers slower than this is openscout's own work. bench/run.py
serves it with as many worker processes as `openscout serve` runs:

    .venv/bin/uvicorn --app-dir bench ceiling_app:app --loop uvloop --http httptools \\
        --host 127.0.0.1 --port 8090 --workers 1 --no-access-log
"""

from __future__ import annotations

import msgspec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_encoder = msgspec.json.Encoder()
MEDIA_TYPE = "application/json; charset=utf-8"


async def customer(request: Request) -> Response:
    body = {"item": {"id": request.path_params["customer_id"], "firstName": "Ann"}}
    return Response(_encoder.encode(body), media_type=MEDIA_TYPE)


async def healthz(_request: Request) -> Response:
    return Response(_encoder.encode({"status": "ok"}), media_type=MEDIA_TYPE)


app = Starlette(
    routes=[
        Route("/v1/customers/{customer_id:int}.json", customer, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
)
