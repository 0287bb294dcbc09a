"""The OpenAPI documents of v1 and v2: valid OpenAPI 3.1 documents, served as JSON at
/v1/openapi.json and /v2/openapi.json, readable at /docs without anything from elsewhere,
describing together every route the server serves and nothing it does not, with the names,
enums, limits and messages the code uses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import httpx
import jsonschema_rs
import pytest
from schemathesis.specs.openapi.definitions import OPENAPI_31
from starlette.applications import Starlette
from starlette.routing import Route

from openscout.config import Settings
from openscout.contract.v1 import wire
from openscout.contract.v2 import oauth
from openscout.contract.v2 import wire as v2_wire
from openscout.http import app as http_app
from openscout.http import openapi
from openscout.http.app import create_app
from openscout.store.engine import SqlStore
from tests.contract import openapi_source
from tests.contract.conftest import Contract
from tests.helpers import ADDRESS_KEYS, CORS, FULL_KEYS, JSON, route_not_found
from tests.http.v2.shapes import CUSTOMER_KEYS, VND_ERROR

DOCUMENT = openapi.document()
SCHEMAS: dict[str, Any] = DOCUMENT["components"]["schemas"]
V2_DOCUMENT = openapi.document(openapi.V2_OPENAPI_PATH)
V2_SCHEMAS: dict[str, Any] = V2_DOCUMENT["components"]["schemas"]
#: Each document, by the path it is served at.
DOCUMENTS = {openapi.OPENAPI_PATH: DOCUMENT, openapi.V2_OPENAPI_PATH: V2_DOCUMENT}
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
#: Routes that are not part of v1: the document itself and the page that shows it, the
#: OAuth endpoints of v2, and the testing toolkit's control API.
UNDESCRIBED = {
    openapi.OPENAPI_PATH,
    openapi.V2_OPENAPI_PATH,
    openapi.DOCS_PATH,
    openapi.DOCS_SLASH_PATH,
    openapi.ASSETS_PATH,
    oauth.AUTHORIZE_PATH,
    oauth.TRANSITION_PATH,
}
TOOLKIT_PREFIX = "/_openscout/"


def template(path: str) -> str:
    """A path with its parameters unnamed: Starlette's `{customer_id:id}` and OpenAPI's `{id}`
    alike become `{}`."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def starlette_of(app: Any) -> Starlette:
    """The Starlette app inside the middlewares (each keeps the app it wraps as `.app`)."""
    for _ in range(20):
        if isinstance(app, Starlette):
            return app
        app = app.app
    raise AssertionError("no Starlette app inside the middlewares")


def served_routes(store: SqlStore) -> set[tuple[str, str]]:
    """(method, path template) of every route the app serves, HEAD left out: Starlette answers
    it for every GET route, as HTTP asks."""
    app = starlette_of(create_app(Settings(), store))
    routes: set[tuple[str, str]] = set()
    for route in app.routes:
        assert isinstance(route, Route), f"not a plain route: {route!r}"
        if route.path in UNDESCRIBED or route.path.startswith(TOOLKIT_PREFIX):
            continue
        routes |= {
            (method, template(route.path)) for method in route.methods or () if method != "HEAD"
        }
    return routes


def described_routes(*documents: dict[str, Any]) -> set[tuple[str, str]]:
    """(method, path template) of every operation of `documents` (both, by default)."""
    return {
        (method.upper(), template(path))
        for document in documents or DOCUMENTS.values()
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }


# -- the document


@pytest.mark.parametrize("path", DOCUMENTS)
def test_the_document_is_valid_openapi_3_1(path: str) -> None:
    document = DOCUMENTS[path]
    assert document["openapi"] == "3.1.0"
    errors = [
        f"{list(e.instance_path)}: {e.message}"
        for e in jsonschema_rs.validator_for(OPENAPI_31).iter_errors(document)
    ]
    assert errors == []


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_the_shipped_json_is_made_from_the_yaml(version: str) -> None:
    """openscout reads the JSON (no YAML parser at run time); the YAML is what people edit."""
    folder = openapi_source.FOLDERS[version]
    shipped = folder / "openapi.json"
    assert shipped.read_text("utf-8") == openapi_source.render(folder / "openapi.yaml"), (
        f"contract/{version}/openapi.json is not the YAML's: run `make openapi`"
    )
    assert json.loads(shipped.read_text("utf-8")) == DOCUMENTS[f"/{version}/openapi.json"]


def test_a_create_lists_no_media_type_for_its_201() -> None:
    """Without `reload` a create answers 201 with no body and no `Content-Type`: a media type
    listed for the 201 would promise a body that the usual create never has."""
    created = DOCUMENT["paths"]["/v1/customers.json"]["post"]["responses"]["201"]
    assert "content" not in created
    assert "CustomerItem" in created["description"]
    assert "Location" in created["headers"]


@pytest.mark.parametrize("path", DOCUMENTS)
def test_every_schema_in_it_is_valid_json_schema(path: str) -> None:
    dialect = "https://json-schema.org/draft/2020-12/schema"
    for name, schema in DOCUMENTS[path]["components"]["schemas"].items():
        assert isinstance(schema, dict), name
        jsonschema_rs.meta.validate({"$schema": dialect, **schema})


@pytest.mark.parametrize("path", DOCUMENTS)
def test_every_reference_in_it_resolves(path: str) -> None:
    document = DOCUMENTS[path]

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    yield value
                else:
                    yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    for reference in walk(document):
        assert reference.startswith("#/"), reference
        target: Any = document
        for part in reference[2:].split("/"):
            assert part in target, reference
            target = target[part]


@pytest.mark.parametrize("path", DOCUMENTS)
def test_the_server_serves_it_as_json(
    contract: Contract, anonymous_contract: httpx.Client, path: str
) -> None:
    response = anonymous_contract.get(path)  # no key needed
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON
    assert response.json() == DOCUMENTS[path]
    for name, value in CORS.items():
        assert response.headers[name] == value
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["correlation-id"])
    assert anonymous_contract.get(path).content == response.content


# -- routes


def test_every_route_served_is_described_and_every_route_described_is_served(
    contract: Contract,
) -> None:
    served = served_routes(contract.server.store)
    described = described_routes()
    assert served - described == set(), "served but not described"
    assert described - served == set(), "described but not served"
    # The v1 surface of spec §1, and the health check.
    assert described_routes(DOCUMENT) == {
        ("GET", "/v1/customers.json"),
        ("POST", "/v1/customers.json"),
        ("GET", "/v1/customers/{}.json"),
        ("PUT", "/v1/customers/{}.json"),
        ("GET", "/v1/mailboxes/{}/customers.json"),
        ("GET", "/v1/search/customers.json"),
        ("GET", "/healthz"),
    }
    # The v2 surface of the v2 spec §4.
    entries = {
        route
        for segment in ("emails", "phones", "chats", "social-profiles", "websites")
        for route in (
            ("GET", f"/v2/customers/{{}}/{segment}"),
            ("POST", f"/v2/customers/{{}}/{segment}"),
            ("PUT", f"/v2/customers/{{}}/{segment}/{{}}"),
            ("DELETE", f"/v2/customers/{{}}/{segment}/{{}}"),
        )
    }
    assert described_routes(V2_DOCUMENT) == {
        ("GET", "/v2/customers"),
        ("POST", "/v2/customers"),
        ("GET", "/v2/customers/{}"),
        ("PUT", "/v2/customers/{}"),
        ("PATCH", "/v2/customers/{}"),
        ("DELETE", "/v2/customers/{}"),
        *entries,
        ("GET", "/v2/customers/{}/address"),
        ("POST", "/v2/customers/{}/address"),
        ("PUT", "/v2/customers/{}/address"),
        ("DELETE", "/v2/customers/{}/address"),
        ("PATCH", "/v2/customers/{}/properties"),
        ("PUT", "/v2/customers/{}/properties"),
        ("GET", "/v2/customer-properties"),
        ("GET", "/v2/webhooks"),
        ("POST", "/v2/webhooks"),
        ("GET", "/v2/webhooks/{}"),
        ("PUT", "/v2/webhooks/{}"),
        ("DELETE", "/v2/webhooks/{}"),
        ("POST", "/v2/oauth2/token"),
    }


def test_every_described_operation_answers_over_http(contract: Contract) -> None:
    """Not one of them is the 404 of a path the server does not serve."""
    with contract.client() as http:
        for method, path in sorted(described_routes(DOCUMENT)):
            concrete = path.replace("{}", "1")
            response = http.request(method, concrete, json={"firstName": "Vera"})
            assert response.status_code != 405
            if response.status_code == 404:
                assert response.json()["error"] != route_not_found(concrete), (method, path)
    # v2 says `Resource not found` for a route and a customer alike: ask about one that exists,
    # with its address and its first email (a fresh one for DELETE), or a webhook of its own.
    with contract.v2_client() as v2:
        for method, path in sorted(described_routes(V2_DOCUMENT)):
            body: dict[str, Any] = {"firstName": "Vera"}
            if path.startswith("/v2/webhooks"):  # a webhook of the account's own, fresh
                body = {"url": "http://127.0.0.1:9/", "events": ["tag.created"], "secret": "s"}
                made = v2.post("/v2/webhooks", json=body).headers["resource-id"]
                concrete = path.replace("{}", made)
            else:
                fresh = v2.post("/v2/customers", json={"firstName": "A"}).headers["resource-id"]
                concrete = path.replace("{}", fresh if method == "DELETE" else "1", 1)
                concrete = concrete.replace("{}", "1")
            response = v2.request(method, concrete, json=body)
            assert response.status_code not in (401, 404, 405), (method, concrete, response.text)


def test_routes_it_does_not_describe_are_not_served(contract: Contract) -> None:
    with contract.client() as http:
        for method, path in [("DELETE", "/v1/customers/1.json"), ("GET", "/v1/mailboxes.json")]:
            assert path not in DOCUMENT["paths"] or method.lower() not in DOCUMENT["paths"][path]
            response = http.request(method, path)
            assert response.status_code == 404
            assert response.json()["error"] == route_not_found(path)
    with contract.v2_client() as v2:
        for method, path in [("PATCH", "/v2/customers"), ("GET", "/v2/customers/1/emails/1")]:
            response = v2.request(method, path)
            assert response.status_code == 404
            assert response.headers["content-type"] == VND_ERROR


# -- the page


@pytest.mark.parametrize("path", [openapi.DOCS_PATH, openapi.DOCS_SLASH_PATH])
def test_the_docs_page_shows_the_document_with_files_served_here(
    path: str, anonymous_contract: httpx.Client
) -> None:
    page = anonymous_contract.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "<script>" not in page.text  # no inline script: the policy forbids them
    assert "http://" not in page.text and "https://" not in page.text  # nothing from elsewhere
    # Relative URLs throughout (a proxy may add a path prefix), resolved as a browser does:
    # from the page's URL, or from its <base>.
    bases = re.findall(r'<base href="([^"]+)">', page.text)
    base = urljoin(f"{anonymous_contract.base_url}{path}", bases[0] if bases else "")
    linked = re.findall(r'<(?:link|script)[^>]* (?:src|href)="([^"]+)"', page.text)
    assert sorted(linked) == [
        "docs/static/favicon-32x32.png",
        "docs/static/openscout-docs.js",
        "docs/static/swagger-ui-bundle.js",
        "docs/static/swagger-ui-standalone-preset.js",
        "docs/static/swagger-ui.css",
    ]
    script, style = "text/javascript; charset=utf-8", "text/css; charset=utf-8"
    types = {".png": "image/png", ".js": script, ".css": style}
    for relative in linked:
        asset = anonymous_contract.get(urljoin(base, relative))
        assert asset.status_code == 200, relative
        assert asset.headers["content-type"] == types[relative[relative.rindex(".") :]]
        assert asset.headers["x-content-type-options"] == "nosniff"
        assert asset.content
    start = anonymous_contract.get(urljoin(base, "docs/static/openscout-docs.js")).text
    assert 'url: "v1/openapi.json"' in start and 'url: "v2/openapi.json"' in start
    assert anonymous_contract.get(urljoin(base, "v1/openapi.json")).json() == DOCUMENT
    assert anonymous_contract.get(urljoin(base, "v2/openapi.json")).json() == V2_DOCUMENT
    assert "SwaggerUIBundle" in anonymous_contract.get("/docs/static/swagger-ui-bundle.js").text


def test_only_the_pages_own_files_are_served(anonymous_contract: httpx.Client) -> None:
    for name in ("swagger-editor.js", "index.html", "..%2F__init__.py", "LICENSE"):
        response = anonymous_contract.get(f"/docs/static/{name}")
        assert response.status_code == 404


# -- the document says what the code does


def enum_of(name: str) -> set[Any]:
    return set(SCHEMAS[name]["enum"])


def test_its_enums_are_the_contracts() -> None:
    assert enum_of("Gender") == set(wire.GENDERS)
    assert enum_of("PhotoType") == set(wire.PHOTO_TYPES) | {None}
    for schema, collection in [
        ("EmailLocation", "emails"),
        ("PhoneLocation", "phones"),
        ("ChatType", "chats"),
        ("SocialProfileType", "socialProfiles"),
    ]:
        assert enum_of(schema) == set(wire.LABELS[wire.COLLECTIONS[collection]]), schema


def test_its_shapes_are_the_spec_shapes() -> None:
    full = SCHEMAS["Customer"]
    assert tuple(full["required"]) == FULL_KEYS == tuple(full["properties"])
    listed = SCHEMAS["CustomerListItem"]
    assert tuple(listed["required"]) == FULL_KEYS[:13] == tuple(listed["properties"])
    searched = SCHEMAS["SearchCustomer"]
    expected = (*FULL_KEYS[:4], "emails", *FULL_KEYS[4:13])
    assert tuple(searched["required"]) == expected == tuple(searched["properties"])
    assert tuple(SCHEMAS["Address"]["required"]) == ADDRESS_KEYS
    for name, label in [("Email", "location"), ("Phone", "location"), ("Chat", "type")]:
        assert SCHEMAS[name]["required"] == ["id", "value", label]
    assert SCHEMAS["Website"]["required"] == ["id", "value"]
    for name in ("Customer", "CustomerListItem", "SearchCustomer", "Address", "Email"):
        assert SCHEMAS[name]["additionalProperties"] is False, name
    assert SCHEMAS["CustomerListPage"]["required"] == ["page", "pages", "count", "items"]
    assert SCHEMAS["CustomerListPage"]["properties"]["items"]["maxItems"] == wire.PAGE_SIZE


def test_its_limits_are_the_contracts() -> None:
    written = SCHEMAS["CustomerWrite"]["properties"]
    for wire_name, name in wire.WRITABLE_FIELDS.items():
        assert written[wire_name]["maxLength"] == wire.MAX_LENGTHS[name], wire_name
    assert SCHEMAS["EntryValue"]["maxLength"] == wire.MAX_ENTRY_LENGTH
    page = DOCUMENT["components"]["parameters"]["page"]["schema"]
    assert page["maximum"] == wire.MAX_PAGE
    search = {
        p.get("name"): p
        for p in DOCUMENT["paths"]["/v1/search/customers.json"]["get"]["parameters"]
    }
    assert search["pageSize"]["schema"]["maximum"] == wire.PAGE_SIZE
    assert {v.casefold() for v in search["sortField"]["schema"]["enum"]} == set(wire.SORT_FIELDS)
    assert set(search["sortOrder"]["schema"]["enum"]) == set(wire.SORT_ORDERS)


def test_its_messages_are_the_contracts() -> None:
    def const(schema: str) -> Any:
        return SCHEMAS[schema]["properties"]["error"]["const"]

    assert const("Malformed") == wire.MALFORMED
    assert const("ValidationFailed") == wire.INVALID
    assert const("Unauthorized") == wire.UNAUTHORIZED
    assert const("NotFound") == wire.NOT_FOUND
    assert const("EmailTaken") == wire.EMAIL_TAKEN
    assert const("TooLarge") == wire.TOO_LARGE
    assert const("ServerError") == wire.SERVER_ERROR
    assert const("Unavailable") == wire.UNAVAILABLE
    limited = {key: value["const"] for key, value in SCHEMAS["RateLimited"]["properties"].items()}
    assert limited == wire.rate_limited_body()
    assert re.match(
        SCHEMAS["RouteNotFound"]["properties"]["error"]["pattern"], route_not_found("/x")
    )
    assert re.match(
        SCHEMAS["UnreadableQuery"]["properties"]["error"]["pattern"],
        wire.unreadable_query(3, "why"),
    )
    headers = DOCUMENT["components"]["headers"]
    assert headers["WWW-Authenticate"]["schema"]["const"] == wire.WWW_AUTHENTICATE
    for name, value in http_app.CORS_HEADERS:
        described = next(h for h in headers if h.lower() == name.decode())
        assert headers[described]["schema"]["const"] == value.decode()
    limits = wire.rate_limit_headers(200, 0, 12, 0)
    assert set(limits) <= set(headers), set(limits) - set(headers)


@pytest.fixture
def anonymous_contract(contract: Contract) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=contract.server.url, timeout=30) as http:
        yield http


# -- v2's document says what v2's code does


def test_v2s_enums_shapes_and_limits_are_the_contracts() -> None:
    assert set(V2_SCHEMAS["Gender"]["enum"]) == set(v2_wire.GENDERS)
    assert set(V2_SCHEMAS["PhotoType"]["enum"]) == set(v2_wire.PHOTO_TYPES) | {None}
    customer = V2_SCHEMAS["Customer"]
    assert tuple(customer["required"]) == CUSTOMER_KEYS == tuple(customer["properties"])
    links = customer["properties"]["_links"]["required"]
    assert links == ["address", "chats", "emails", "phones", "social-profiles", "websites", "self"]
    written = V2_SCHEMAS["CustomerFields"]["properties"]
    assert set(written) == set(v2_wire.OWN_FIELDS)
    for wire_name, name in v2_wire.OWN_FIELDS.items():
        assert written[wire_name].get("maxLength") == v2_wire.MAX_LENGTHS.get(name), wire_name
    page = V2_SCHEMAS["CustomerPage"]["properties"]
    assert page["page"]["properties"]["size"]["const"] == v2_wire.PAGE_SIZE
    assert page["_embedded"]["properties"]["customers"]["maxItems"] == v2_wire.PAGE_SIZE
    parameters = {
        p.get("name"): p for p in V2_DOCUMENT["paths"]["/v2/customers"]["get"]["parameters"]
    }
    assert {v.casefold() for v in parameters["sortField"]["schema"]["enum"]} == set(
        wire.SORT_FIELDS
    )
    assert set(parameters["sortOrder"]["schema"]["enum"]) == set(wire.SORT_ORDERS)
    assert V2_DOCUMENT["components"]["parameters"]["page"]["schema"]["maximum"] == v2_wire.MAX_ID


def test_v2s_messages_and_headers_are_the_contracts() -> None:
    def const(schema: str) -> Any:
        return V2_SCHEMAS[schema]["properties"]["message"]["const"]

    assert V2_SCHEMAS["BadRequest"]["properties"]["message"]["enum"] == [
        v2_wire.BAD_REQUEST,
        v2_wire.MALFORMED,
    ]
    assert const("Unauthorized") == v2_wire.UNAUTHORIZED
    assert const("NotFound") == v2_wire.NOT_FOUND
    assert const("EmailTaken") == v2_wire.EMAIL_TAKEN
    assert const("TooLarge") == v2_wire.TOO_LARGE
    assert const("UnsupportedMediaType") == v2_wire.UNSUPPORTED_MEDIA_TYPE
    assert const("RateLimited") == v2_wire.RATE_LIMITED
    assert const("ServerError") == v2_wire.SERVER_ERROR
    assert const("Unavailable") == v2_wire.UNAVAILABLE
    about = V2_SCHEMAS["VndError"]["properties"]["_links"]["properties"]["about"]
    assert about["properties"]["href"]["const"] == v2_wire.ERRORS_URL
    headers = V2_DOCUMENT["components"]["headers"]
    assert headers["WWW-Authenticate"]["schema"]["const"] == v2_wire.WWW_AUTHENTICATE
    assert v2_wire.RESOURCE_ID in headers
    for name in (*v2_wire.rate_limit_headers(200, 0), *v2_wire.retry_headers(1)):
        assert name in headers, name
    for name, value in http_app.CORS_HEADERS:
        described = next(h for h in headers if h.lower() == name.decode())
        assert headers[described]["schema"]["const"] == value.decode()


def test_v2_creates_list_no_media_type_for_their_201() -> None:
    """A create answers 201 with no body: a media type would promise one."""
    created = V2_DOCUMENT["components"]["responses"]["Created"]
    assert "content" not in created
    assert {"Resource-ID", "Location"} <= set(created["headers"])
    for path in ("/v2/customers", "/v2/customers/{id}/emails", "/v2/customers/{id}/address"):
        response = V2_DOCUMENT["paths"][path]["post"]["responses"]["201"]
        assert "content" not in response
