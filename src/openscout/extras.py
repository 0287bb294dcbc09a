"""The optional parts of openscout, installed as extras (`pip install 'openscout[postgres]'`).

A plain install serves SQLite with uvicorn, and runs `openscout.testing`; the rest is opt-in so
that a project using openscout in its tests installs no database driver it does not use. Code
that needs an extra calls `require` before importing it: a missing extra is one line saying
what to install, not a `ModuleNotFoundError` from deep inside a library.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Final


class MissingExtra(RuntimeError):
    """An optional part is needed and not installed; the message is the line to show."""


@dataclass(frozen=True)
class Extra:
    #: What to install: `openscout[name]`.
    name: str
    #: The module whose absence means the extra is missing.
    module: str
    #: What needs it, as the start of the line.
    needed_by: str


EXTRAS: Final = {
    extra.name: extra
    for extra in (
        Extra("postgres", "psycopg", "PostgreSQL needs its driver (psycopg)"),
        Extra("redis", "redis", "Counting rate limits in Redis (--redis-url) needs its client"),
        Extra("granian", "granian", "--server granian needs granian"),
    )
}


def require(name: str) -> None:
    """Raise `MissingExtra` unless extra `name` is installed (its module is not imported)."""
    extra = EXTRAS[name]
    if importlib.util.find_spec(extra.module) is None:
        raise MissingExtra(
            f"{extra.needed_by}, which is not installed: pip install 'openscout[{extra.name}]'"
        )
