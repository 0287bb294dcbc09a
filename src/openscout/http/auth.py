"""The API key of a request: v1 sends it as the user name of HTTP Basic auth (spec §3)."""

from __future__ import annotations

import base64
import binascii

from starlette.requests import Request


def api_key(request: Request) -> str | None:
    """The key, or None when the request carries none. The password is ignored."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, _, _password = decoded.partition(":")
    return user or None
