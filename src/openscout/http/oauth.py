"""The OAuth 2.0 endpoints of the v2 API (v2 spec §1; docs/decisions/v2-oauth.md): the token
endpoint, the approval page of the authorization-code grant, and the transition service.
decode → apps → encode; errors go to the app's one table (http/errors.py), which answers these
paths in RFC 6749's shape (the transition service in its own), except on the approval page,
which a person reads: it shows its refusals as a page."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime
from typing import Final

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from openscout import apps
from openscout.contract.v2 import oauth
from openscout.domain.errors import KeyRefused, RedirectNotRegistered, UnknownApp
from openscout.http.body import read_body
from openscout.http.responses import JsonResponse
from openscout.store.base import Store

#: The longest body the token endpoint and the transition service read, in bytes.
MAX_TOKEN_BODY: Final = 16 * 1024
#: The longest approval form read, in bytes.
MAX_FORM_BODY: Final = 16 * 1024
#: The approval page is never framed, cached, or sent as a referrer, and loads nothing.
PAGE_HEADERS: Final = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


class OAuth:
    """The OAuth endpoints over one store; tokens live `token_lifetime` seconds by the server's
    `clock`."""

    def __init__(self, store: Store, clock: Callable[[], datetime], *, token_lifetime: int) -> None:
        self.store = store
        self.clock = clock
        self.token_lifetime = token_lifetime

    def routes(self) -> list[Route]:
        return [
            Route(oauth.TOKEN_PATH, self.token, methods=["POST"]),
            Route(oauth.AUTHORIZE_PATH, self.approval_page, methods=["GET"]),
            Route(oauth.AUTHORIZE_PATH, self.approve, methods=["POST"]),
            Route(oauth.TRANSITION_PATH, self.transition, methods=["POST"]),
        ]

    async def token(self, request: Request) -> Response:
        body = await read_body(request, MAX_TOKEN_BODY)
        asked = oauth.token_request(
            request.scope["query_string"],
            request.headers.get("content-type"),
            body,
            request.headers.get("authorization"),
        )
        now, lifetime = self.clock(), self.token_lifetime
        match asked.grant_type:
            case oauth.CLIENT_CREDENTIALS:
                issued = await self.store.run(
                    apps.grant_client_credentials,
                    self.store,
                    asked.client_id,
                    asked.client_secret,
                    now,
                    lifetime=lifetime,
                )
            case oauth.AUTHORIZATION_CODE:
                assert asked.code is not None
                issued = await self.store.run(
                    apps.exchange_code,
                    self.store,
                    asked.client_id,
                    asked.client_secret,
                    asked.code,
                    asked.redirect_uri,
                    now,
                    lifetime=lifetime,
                )
            case _:
                assert asked.refresh_token is not None
                issued = await self.store.run(
                    apps.refresh,
                    self.store,
                    asked.client_id,
                    asked.client_secret,
                    asked.refresh_token,
                    now,
                    lifetime=lifetime,
                )
        body_out = oauth.token_body(issued.access_token, issued.expires_in, issued.refresh_token)
        return JsonResponse(body_out, headers=oauth.NO_STORE)

    async def transition(self, request: Request) -> Response:
        asked = oauth.transition_request(await read_body(request, MAX_TOKEN_BODY))
        issued = await self.store.run(
            apps.transition, self.store, asked.api_key, asked.client_id, self.clock()
        )
        assert issued.refresh_token is not None
        body = oauth.transition_body(issued.access_token, issued.expires_in, issued.refresh_token)
        return JsonResponse(body, headers=oauth.NO_STORE)

    # -- the approval page (RFC 6749 §4.1.1, §4.1.2)

    async def approval_page(self, request: Request) -> Response:
        asked = oauth.authorization_request(oauth.form_pairs(request.scope["query_string"]))
        return await self._answer(asked, api_key=None, approved=None)

    async def approve(self, request: Request) -> Response:
        pairs = oauth.form_pairs(await read_body(request, MAX_FORM_BODY))
        asked = oauth.authorization_request(pairs)
        fields = dict(reversed(pairs))  # the first value of each
        return await self._answer(
            asked, api_key=fields.get("api_key", ""), approved=fields.get("decision") != "deny"
        )

    async def _answer(
        self, asked: oauth.AuthorizationRequest, *, api_key: str | None, approved: bool | None
    ) -> Response:
        """The page, a refusal page, or the redirect back to the app: `approved` is None for the
        first look (GET), else whether the owner approved, with `api_key`."""
        try:
            consent = await self.store.run(
                apps.consent, self.store, asked.client_id, asked.redirect_uri
            )
        except UnknownApp:
            return _refusal("No live app has this client id.")
        except RedirectNotRegistered:
            return _refusal(
                "The redirect URI is not the one registered for this app, or the app "
                "registered none (openscout apps create --redirect-uri)."
            )
        # From here the redirect URI is the app's own: errors go back to it (RFC 6749 §4.1.2.1).
        back = consent.redirect_uri
        if asked.response_type not in (None, oauth.RESPONSE_TYPE):
            return _redirect(
                oauth.redirect_location(back, asked.state, error=oauth.UNSUPPORTED_RESPONSE_TYPE)
            )
        if approved is None:
            return _page(consent, asked, message=None)
        if not approved:
            return _redirect(oauth.redirect_location(back, asked.state, error=oauth.ACCESS_DENIED))
        try:
            code = await self.store.run(
                apps.authorize,
                self.store,
                asked.client_id,
                asked.redirect_uri,
                api_key or "",
                self.clock(),
            )
        except KeyRefused:
            return _page(
                consent, asked, message="That is not a live API key of this account.", status=400
            )
        return _redirect(oauth.redirect_location(back, asked.state, code=code))


def _redirect(location: str) -> Response:
    return RedirectResponse(location, status_code=302, headers={"Cache-Control": "no-store"})


_STYLE: Final = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}"
    "input[type=password]{width:100%;padding:.4rem;font:inherit}"
    "button{font:inherit;padding:.4rem 1rem;margin:.8rem .5rem 0 0}"
    ".message{color:#a00}"
)


def _document(title: str, content: str, status: int) -> Response:
    text = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{content}</body></html>"
    )
    return HTMLResponse(text, status_code=status, headers=PAGE_HEADERS)


def _page(
    consent: apps.Consent,
    asked: oauth.AuthorizationRequest,
    *,
    message: str | None,
    status: int = 200,
) -> Response:
    """The approval form: the owner enters one of the account's v1 API keys."""
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
        for name, value in (
            ("client_id", asked.client_id),
            ("redirect_uri", asked.redirect_uri),
            ("state", asked.state),
            ("response_type", asked.response_type),
        )
        if value is not None
    )
    notice = f'<p class="message" role="alert">{html.escape(message)}</p>' if message else ""
    content = (
        f"<h1>Authorize {html.escape(consent.app_name)}</h1>"
        f"<p>The app <strong>{html.escape(consent.app_name)}</strong> asks to use the v2 API "
        f"for the account <strong>{html.escape(consent.account)}</strong>. "
        "To allow it, enter one of that account's API keys "
        "(<code>openscout keys create</code> makes one).</p>"
        f"<p>You will be sent back to <code>{html.escape(consent.redirect_uri)}</code>.</p>"
        f"{notice}"
        '<form method="post">'
        f"{hidden}"
        '<label for="api_key">API key</label>'
        '<input type="password" id="api_key" name="api_key" autocomplete="off" required>'
        '<button type="submit" name="decision" value="approve">Authorize</button>'
        '<button type="submit" name="decision" value="deny" formnovalidate>Deny</button>'
        "</form>"
    )
    return _document(f"Authorize {consent.app_name}", content, status)


def _refusal(reason: str) -> Response:
    """An authorization request that cannot be answered at the app: told here, not redirected
    (RFC 6749 §4.1.2.1)."""
    content = f"<h1>This authorization request cannot be answered</h1><p>{html.escape(reason)}</p>"
    return _document("Authorization refused", content, 400)
