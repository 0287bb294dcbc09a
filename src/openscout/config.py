"""Settings: read from OPENSCOUT_* environment variables and command-line options."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

DEFAULT_DATABASE_URL = "sqlite:///./openscout.db"
#: What `--log-level` takes. Not uvicorn's `trace`: it logs whole requests, API keys included.
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
#: The HTTP servers `serve` can run the app on; the first is the default (docs/performance.md:
#: granian answered faster than uvicorn, with a far shorter tail of slow answers, under load).
SERVERS = ("granian", "uvicorn")
#: Settings that take one of a few words.
_CHOICES: dict[str, tuple[str, ...]] = {"log_level": LOG_LEVELS, "server": SERVERS}
#: Settings for which 0 is a meaningful value (it turns the limit off).
_ZERO_ALLOWED = frozenset({"port", "rate_limit", "burst_limit", "statement_timeout"})
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class SettingsError(ValueError):
    """One or more settings have values that cannot be used; the message lists them all."""


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8080
    #: Server processes; None: one on SQLite (one writer at a time, and the control API's state
    #: lives in one process), one per CPU on PostgreSQL (docs/performance.md).
    workers: int | None = None
    #: The HTTP server that runs the app: granian (the default) or uvicorn.
    server: str = SERVERS[0]
    pool_size: int = 8
    #: Seconds a PostgreSQL statement of the server may run before it is cancelled; 0: no limit.
    statement_timeout: int = 30
    #: The base of `Location` headers; by default the URL the request came to.
    public_url: str | None = None
    log_level: str = "info"
    #: Requests per minute per account, Help Scout's 200 (spec §4); 0 turns rate limits off.
    rate_limit: int = 200
    #: Writes (POST, PUT, DELETE) per 5 seconds per account, Help Scout's 12; 0: no burst limit.
    burst_limit: int = 12
    #: Keep the rate-limit counters in this Redis instead of the database.
    redis_url: str | None = None
    #: One JSON line per request on standard output.
    access_log: bool = True
    #: Serve the control API under /_openscout/ (for test suites only: docs/testing.md).
    control_api: bool = False

    def worker_count(self) -> int:
        """The server processes to run: `workers`, or the default for the database."""
        if self.workers is not None:
            return self.workers
        if self.control_api or self.database_url.startswith("sqlite"):
            return 1
        return os.cpu_count() or 1

    def with_options(self, **options: Any) -> Settings:
        """These settings with the options that were given (None means not given), checked
        as their environment variables are; every bad one is reported at once."""
        given = {name: value for name, value in options.items() if value is not None}
        problems = [
            f"--{name.replace('_', '-')}={value} is too small"
            for name, value in given.items()
            if type(value) is int and _too_small(name, value)
        ]
        if problems:
            raise SettingsError("; ".join(problems))
        return replace(self, **given)


def _too_small(name: str, number: int) -> bool:
    return number < (0 if name in _ZERO_ALLOWED else 1)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from `OPENSCOUT_<NAME>` variables; every bad value is reported at once."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    problems: list[str] = []
    for setting in fields(Settings):
        variable = f"OPENSCOUT_{setting.name.upper()}"
        raw = environ.get(variable)
        if raw is None or raw == "":
            continue
        if setting.type in ("int", "int | None"):
            try:
                number = int(raw)
            except ValueError:
                problems.append(f"{variable}={raw!r} is not a whole number")
                continue
            if _too_small(setting.name, number):
                problems.append(f"{variable}={raw!r} is too small")
                continue
            values[setting.name] = number
        elif setting.type == "bool":
            if raw.strip().lower() not in _TRUE | _FALSE:
                problems.append(f"{variable}={raw!r} is not true or false")
                continue
            values[setting.name] = raw.strip().lower() in _TRUE
        elif setting.name in _CHOICES:
            choices = _CHOICES[setting.name]
            if raw.strip().lower() not in choices:
                problems.append(f"{variable}={raw!r} is not one of {', '.join(choices)}")
                continue
            values[setting.name] = raw.strip().lower()
        else:
            values[setting.name] = raw
    if problems:
        raise SettingsError("; ".join(problems))
    return Settings(**values)
