"""The OpenAPI documents as JSON, v1's at `/v1/openapi.json` and v2's at `/v2/openapi.json`, and
a page to read them at `/docs` (and `/docs/`).

Each document is written as YAML beside its contract (`contract/v1/openapi.yaml`,
`contract/v2/openapi.yaml`) and shipped as the JSON made from it (`openapi.json` beside it, by
`make openapi`), so that no YAML parser is needed at run time. The page is Swagger UI, served
from the static files of the `swagger-ui-py` package: nothing is fetched from elsewhere, so it
works without internet.
"""

from __future__ import annotations

import importlib.util
import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Final

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

OPENAPI_PATH: Final = "/v1/openapi.json"
V2_OPENAPI_PATH: Final = "/v2/openapi.json"
#: The package of each document, by its path.
_DOCUMENTS: Final = {
    OPENAPI_PATH: "openscout.contract.v1",
    V2_OPENAPI_PATH: "openscout.contract.v2",
}
DOCS_PATH: Final = "/docs"
#: The same page: its relative URLs are resolved from the parent (`<base href="../">`).
DOCS_SLASH_PATH: Final = "/docs/"
ASSETS_PATH: Final = "/docs/static/{name}"

#: The Swagger UI files the page uses, and their media types.
_ASSETS: Final = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
#: Relative URLs throughout: the page keeps working behind a proxy that adds a path prefix.
_PAGE: Final = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">{base}
  <title>openscout: the Help Scout Mailbox API (customers)</title>
  <link rel="stylesheet" href="docs/static/swagger-ui.css">
  <link rel="icon" type="image/png" href="docs/static/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/static/swagger-ui-bundle.js"></script>
  <script src="docs/static/swagger-ui-standalone-preset.js"></script>
  <script src="docs/static/openscout-docs.js"></script>
</body>
</html>
"""
#: Both documents, chosen in the page's top bar (v1 first).
_START: Final = """window.ui = SwaggerUIBundle({
  urls: [
    {url: "v1/openapi.json", name: "Mailbox API 1.0 (customers)"},
    {url: "v2/openapi.json", name: "Mailbox API 2.0 (customers)"},
  ],
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout",
});
"""
#: No inline scripts and nothing from elsewhere (Swagger UI sets inline styles itself).
_PAGE_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
}


def document(path: str = OPENAPI_PATH) -> dict[str, Any]:
    """The OpenAPI document served at `path` (v1's by default), read from the JSON in its
    contract's package."""
    text = resources.files(_DOCUMENTS[path]).joinpath("openapi.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def routes() -> list[Route]:
    """The documents and the page; the JSON is made here, once."""

    def serving(path: str) -> Route:
        body = json.dumps(document(path), ensure_ascii=False, separators=(",", ":")).encode()

        async def openapi(_request: Request) -> Response:
            return Response(body, media_type="application/json; charset=utf-8")

        return Route(path, openapi, methods=["GET"])

    page = _PAGE.format(base="")
    page_in_folder = _PAGE.format(base='\n  <base href="../">')

    async def docs(request: Request) -> Response:
        in_folder = request.url.path.endswith("/")
        return HTMLResponse(page_in_folder if in_folder else page, headers=_PAGE_HEADERS)

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        headers = {"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"}
        if name == "openscout-docs.js":
            return Response(_START, media_type="text/javascript; charset=utf-8", headers=headers)
        if name not in _ASSETS:
            raise HTTPException(404)  # answered as any unknown path (http/errors.py)
        return FileResponse(_swagger_ui() / name, media_type=_ASSETS[name], headers=headers)

    return [
        *(serving(path) for path in _DOCUMENTS),
        Route(DOCS_PATH, docs, methods=["GET"]),
        Route(DOCS_SLASH_PATH, docs, methods=["GET"]),
        Route(ASSETS_PATH, asset, methods=["GET"]),
    ]


@cache
def _swagger_ui() -> Path:
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py package is missing: reinstall openscout")
    return Path(next(iter(spec.submodule_search_locations))) / "static"
