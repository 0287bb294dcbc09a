"""Settings: read from OPENSCOUT_* environment variables and command-line options."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

DEFAULT_DATABASE_URL = "sqlite:///./openscout.db"


class SettingsError(ValueError):
    """One or more settings have values that cannot be used; the message lists them all."""


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    pool_size: int = 8
    #: The base of `Location` headers; by default the URL the request came to.
    public_url: str | None = None
    log_level: str = "info"

    def with_options(self, **options: Any) -> Settings:
        """These settings with the options that were given (None means not given)."""
        given = {name: value for name, value in options.items() if value is not None}
        return replace(self, **given)


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
        if setting.type == "int":
            try:
                number = int(raw)
            except ValueError:
                problems.append(f"{variable}={raw!r} is not a whole number")
                continue
            if number < (0 if setting.name == "port" else 1):
                problems.append(f"{variable}={raw!r} is too small")
                continue
            values[setting.name] = number
        else:
            values[setting.name] = raw
    if problems:
        raise SettingsError("; ".join(problems))
    return Settings(**values)
