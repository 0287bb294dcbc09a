"""The HTTP side: an ASGI app (Starlette) around the service layer."""
