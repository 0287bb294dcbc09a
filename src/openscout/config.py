"""Settings: read from OPENSCOUT_* environment variables and command-line options.

Each setting is declared once, as a field of `Settings`: its type, default, the text of its
`--option`, and the parser that checks its value, from the environment and from the command line
alike (`OPENSCOUT_<NAME>` and `--<name>`). `openscout serve` builds its options from these fields.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import Field, dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

DEFAULT_DATABASE_URL = "sqlite:///./openscout.db"
#: What `--log-level` takes. Not uvicorn's `trace`: it logs whole requests, API keys included.
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
#: The HTTP servers `serve` can run the app on; the first is the default. uvicorn (httptools)
#: serves the query strings v1 clients send, raw `"`, `<` and `>` included, which granian
#: refuses with an empty 400; speed came second (docs/performance.md).
SERVERS = ("uvicorn", "granian")
#: The database URLs openscout takes, as they are named in messages.
DATABASE_URLS = "sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE"
_DATABASE_SCHEMES = frozenset(
    {"sqlite", "sqlite+pysqlite", "postgresql", "postgres", "postgresql+psycopg"}
)
#: Help Scout's own limits (spec §4): 200 requests a minute and 12 writes per 5 seconds per
#: account; what `--helpscout-limits` (`OPENSCOUT_HELPSCOUT_LIMITS`) stands for.
HELPSCOUT_LIMITS: Mapping[str, int] = {"rate_limit": 200, "burst_limit": 12}
#: The longest `--token-lifetime`, in seconds: ten years.
MAX_TOKEN_LIFETIME = 10 * 366 * 86_400
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class SettingsError(ValueError):
    """One or more settings have values that cannot be used; the message lists them all."""


# -- parsers: text → value, or ValueError saying what is wrong with the text ("is too small")


def whole_number(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            number = int(text.strip())
        except ValueError:
            raise ValueError("is not a whole number") from None
        if number < minimum:
            raise ValueError("is too small")
        if maximum is not None and number > maximum:
            raise ValueError(f"is too large (at most {maximum})")
        return number

    return parse


def one_of(*words: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text.strip().lower() not in words:
            raise ValueError(f"is not one of {', '.join(words)}")
        return text.strip().lower()

    return parse


def true_or_false(text: str) -> bool:
    if text.strip().lower() not in _TRUE | _FALSE:
        raise ValueError("is not true or false")
    return text.strip().lower() in _TRUE


#: A host name as DNS has them (RFC 1123): dot-separated labels of letters, digits and hyphens.
_HOST_NAME = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*\.?", re.I)


def host(text: str) -> str:
    """An IP address (v4 or v6) or a host name; dotted numbers must be a valid IPv4 address."""
    text = text.strip()
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        pass
    if re.fullmatch(r"[\d.]+", text) or not _HOST_NAME.fullmatch(text) or len(text) > 253:
        raise ValueError("is not an IP address or a host name")
    return text


def database_url(text: str) -> str:
    """A URL of a database that openscout can use: SQLite or PostgreSQL."""
    text = text.strip()
    scheme = re.match(r"([a-z][a-z0-9+.-]*)://", text, re.I)
    if scheme is None:
        raise ValueError(f"is not a database URL: openscout takes {DATABASE_URLS}")
    if scheme.group(1).lower() not in _DATABASE_SCHEMES:
        raise ValueError(
            f"names a database openscout does not support ({scheme.group(1)}): "
            f"it takes {DATABASE_URLS}"
        )
    if not scheme.group(1).lower().startswith("sqlite"):
        try:
            urlsplit(text).port  # noqa: B018 (raises on a port that is not a number)
        except ValueError:
            raise ValueError("has a port that is not a number from 0 to 65535") from None
    return text


def web_url(schemes: tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        text = text.strip()
        parts = urlsplit(text)
        if parts.scheme.lower() not in schemes or not (parts.netloc or parts.path):
            raise ValueError(
                f"is not a URL starting with {' or '.join(s + '://' for s in schemes)}"
            )
        return text

    return parse


def positive_seconds(text: str) -> float:
    """A duration that can be waited for, in seconds: a number above 0, fractions allowed."""
    try:
        seconds = float(text.strip())
    except ValueError:
        raise ValueError("is not a number") from None
    if not math.isfinite(seconds):
        raise ValueError("is not a finite number")
    if seconds <= 0:
        raise ValueError("is not above 0")
    return seconds


def allow_list(text: str) -> str:
    """Networks (CIDR, `10.0.0.0/8`; an address alone is a network of one) and host names,
    separated by commas or spaces; returned as one comma-separated text, each item normalized
    (webhooks/targets.py reads it)."""
    items = [item for item in re.split(r"[,\s]+", text.strip()) if item]
    if not items:
        raise ValueError("names no network or host")
    normalized = []
    for item in items:
        try:
            normalized.append(str(ipaddress.ip_network(item.strip("[]"), strict=False)))
            continue
        except ValueError:
            pass
        if re.fullmatch(r"[\d./:\[\]]+", item) or not _HOST_NAME.fullmatch(item):
            raise ValueError(f"has {item!r}, which is neither a network (CIDR) nor a host name")
        normalized.append(item.lower().rstrip("."))
    return ",".join(normalized)


def text(value: str) -> str:
    return value


@dataclass(frozen=True, slots=True)
class Option:
    """How a setting is given: the help of its `--option`, and the parser of its text."""

    help: str
    parse: Callable[[str], Any] = text
    metavar: str | None = None
    #: How the default reads in the help, when not the default itself.
    default_text: str | None = None
    #: An option of every command (not only `serve`).
    everywhere: bool = False
    #: A true-or-false setting that has a `--no-<name>` option as well as `--<name>`.
    negatable: bool = True
    #: An option of `openscout deliver` as well as of `serve`.
    delivery: bool = False


def _setting(default: Any, help: str, parse: Callable[[str], Any] = text, **more: Any) -> Any:
    return field(default=default, metadata={"option": Option(help, parse, **more)})


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = _setting(
        DEFAULT_DATABASE_URL, "database URL", database_url, metavar="URL", everywhere=True
    )
    host: str = _setting("127.0.0.1", "address or host name to listen on", host)
    port: int = _setting(8080, "port to listen on (0: any free port)", whole_number(0, 65535))
    #: Server processes; None: one on SQLite (one writer at a time, and the control API's state
    #: lives in one process), one per CPU on PostgreSQL (docs/performance.md).
    workers: int | None = _setting(
        None,
        "server processes",
        whole_number(1),
        metavar="N",
        default_text="1 on SQLite, one per CPU on PostgreSQL",
    )
    #: The HTTP server that runs the app: uvicorn (the default) or granian.
    server: str = _setting(SERVERS[0], "HTTP server: uvicorn or granian", one_of(*SERVERS))
    pool_size: int = _setting(
        8, "database connections per process", whole_number(1), metavar="N", delivery=True
    )
    #: Seconds a PostgreSQL statement of the server may run before it is cancelled; 0: no limit.
    statement_timeout: int = _setting(
        30,
        "seconds a PostgreSQL statement may run before it is cancelled (0: no limit)",
        whole_number(0),
        metavar="SECONDS",
        delivery=True,
    )
    #: The base of `Location` headers; by default the URL the request came to.
    public_url: str | None = _setting(
        None,
        "base URL for Location headers",
        web_url(("http", "https")),
        metavar="URL",
        default_text="the request's",
    )
    log_level: str = _setting(
        "info", "debug, info, warning or error", one_of(*LOG_LEVELS), metavar="LEVEL", delivery=True
    )
    #: Requests per minute per account (Help Scout's: 200, spec §4); 0, the default: no limit.
    rate_limit: int = _setting(
        0, "requests per minute per account (0: no limit)", whole_number(0), metavar="N"
    )
    #: Writes (POST, PUT, DELETE) per 5 seconds per account (Help Scout's: 12); 0: no limit.
    burst_limit: int = _setting(
        0, "writes per 5 seconds per account (0: no limit)", whole_number(0), metavar="N"
    )
    #: Help Scout's limits, a shorthand for `rate_limit` 200 and `burst_limit` 12
    #: (`HELPSCOUT_LIMITS`): `load_settings` and `with_options` read it as those two numbers, so
    #: settings they make have it off. Given with either number in the same place (the
    #: environment, or the command line), it is a bad setting.
    helpscout_limits: bool = _setting(
        False,
        "Help Scout's limits: --rate-limit 200 --burst-limit 12",
        true_or_false,
        negatable=False,
    )
    #: Keep the rate-limit counters in this Redis instead of the database.
    redis_url: str | None = _setting(
        None,
        "keep rate-limit counts in this Redis, not the database",
        web_url(("redis", "rediss", "unix")),
        metavar="URL",
        default_text="none",
    )
    #: One JSON line per request on standard output.
    access_log: bool = _setting(True, "one JSON line per request on standard output", true_or_false)
    #: Serve the control API under /_openscout/ (for test suites only: docs/testing.md).
    control_api: bool = _setting(
        False,
        "for test suites: serve /_openscout/ to reset, seed, snapshot, read the requests "
        "received, inject faults and set clocks (docs/testing.md)",
        true_or_false,
    )
    #: Seconds a request's whole body may take to arrive; then 408 and the connection closed.
    body_timeout: float = _setting(
        30.0,
        "seconds a request body may take to arrive, then 408",
        positive_seconds,
        metavar="SECONDS",
        default_text="30",
    )
    #: Seconds an OAuth access token lives (Help Scout's `expires_in`: 172800, 48 hours).
    token_lifetime: int = _setting(
        172_800,
        "seconds an OAuth access token of the v2 API lives",
        whole_number(1, MAX_TOKEN_LIFETIME),
        metavar="SECONDS",
    )
    #: Whether this process delivers webhooks (docs/webhooks.md): `openscout deliver` can do
    #: it instead, in processes of its own.
    webhook_delivery: bool = _setting(
        True, "deliver webhooks from the server's processes", true_or_false
    )
    #: Seconds before a failed delivery is first tried again; each later retry waits about
    #: twice as long as the one before (with jitter), up to 10 attempts.
    webhook_backoff: float = _setting(
        60.0,
        "seconds before a failed webhook delivery is first tried again (each later retry "
        "waits about twice as long)",
        positive_seconds,
        metavar="SECONDS",
        default_text="60",
        delivery=True,
    )
    #: Seconds a receiver has to answer a delivery, whole: then it is a failure.
    webhook_timeout: float = _setting(
        10.0,
        "seconds a webhook receiver has to answer",
        positive_seconds,
        metavar="SECONDS",
        default_text="10",
        delivery=True,
    )
    #: Where webhooks may be delivered: networks (CIDR) and host names; None: anywhere.
    webhook_allow: str | None = _setting(
        None,
        "deliver webhooks only to these networks (CIDR) and host names, comma-separated",
        allow_list,
        metavar="LIST",
        default_text="anywhere",
        delivery=True,
    )
    #: Seconds finished deliveries (delivered, or given up) are kept for the delivery log.
    webhook_retention: float = _setting(
        604800.0,
        "seconds delivered (and given up) webhook events are kept",
        positive_seconds,
        metavar="SECONDS",
        default_text="604800, 7 days",
        delivery=True,
    )

    @property
    def rate_limited(self) -> bool:
        """Whether requests are counted: a limit per minute, per burst, or both."""
        return bool(self.rate_limit or self.burst_limit)

    def worker_count(self) -> int:
        """The server processes to run: `workers`, or the default for the database."""
        if self.workers is not None:
            return self.workers
        if self.control_api or self.database_url.startswith("sqlite"):
            return 1
        return os.cpu_count() or 1

    def with_options(self, **options: Any) -> Settings:
        """These settings with the options that were given (None means not given), checked
        as their environment variables are; every bad one is reported at once. Values may be
        the options' text or already of the setting's type."""
        given = {name: value for name, value in options.items() if value is not None}
        values, problems = _parse_all(given, lambda setting, text: f"{flag(setting)}={text}")
        if _expand_helpscout_limits(values):
            problems.append(
                "--helpscout-limits means --rate-limit 200 --burst-limit 12: give one or the other"
            )
        if problems:
            raise SettingsError("; ".join(problems))
        return replace(self, **values)

    def environment(self) -> dict[str, str]:
        """These settings as `OPENSCOUT_*` variables, which `load_settings` reads back: how
        `serve` hands them to the server's worker processes."""
        environ = {}
        for setting in settings_fields():
            value = getattr(self, setting.name)
            if isinstance(value, bool):
                value = "true" if value else "false"
            environ[variable(setting)] = "" if value is None else str(value)
        return environ


def settings_fields() -> tuple[Field[Any], ...]:
    return fields(Settings)


def option_of(setting: Field[Any]) -> Option:
    option: Option = setting.metadata["option"]
    return option


def variable(setting: Field[Any]) -> str:
    """The environment variable of a setting: `OPENSCOUT_<NAME>`."""
    return f"OPENSCOUT_{setting.name.upper()}"


def flag(setting: Field[Any]) -> str:
    """The command-line option of a setting: `--<name>`."""
    return f"--{setting.name.replace('_', '-')}"


def _parse(setting: Field[Any], value: Any) -> Any:
    if isinstance(value, bool):
        return value
    return option_of(setting).parse(str(value))


def _expand_helpscout_limits(values: dict[str, Any]) -> bool:
    """`helpscout_limits` among `values` (settings given in one place) replaced by the numbers
    it stands for, when true; True, with nothing replaced, when `values` give either number as
    well: which to keep cannot be told."""
    if not values.get("helpscout_limits"):
        return False
    if HELPSCOUT_LIMITS.keys() & values.keys():
        return True
    del values["helpscout_limits"]
    values.update(HELPSCOUT_LIMITS)
    return False


def _parse_all(
    given: Mapping[str, Any], named: Callable[[Field[Any], Any], str]
) -> tuple[dict[str, Any], list[str]]:
    """The settings `given` (by name) parsed, and a problem for each bad one, `named` as the
    user gave it (an option or a variable)."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for setting in settings_fields():
        if setting.name not in given:
            continue
        try:
            values[setting.name] = _parse(setting, given[setting.name])
        except ValueError as error:
            problems.append(f"{named(setting, given[setting.name])} {error}")
    return values, problems


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from `OPENSCOUT_<NAME>` variables; every bad value is reported at once."""
    environ = os.environ if environ is None else environ
    given = {
        setting.name: environ[variable(setting)]
        for setting in settings_fields()
        if environ.get(variable(setting))
    }
    values, problems = _parse_all(given, lambda setting, text: f"{variable(setting)}={text!r}")
    if _expand_helpscout_limits(values):
        problems.append(
            "OPENSCOUT_HELPSCOUT_LIMITS means a rate limit of 200 and a burst limit of 12: "
            "set it or OPENSCOUT_RATE_LIMIT and OPENSCOUT_BURST_LIMIT, not both"
        )
    if problems:
        raise SettingsError("; ".join(problems))
    return Settings(**values)


def sqlite_path(url: str) -> Path | None:
    """The file of a `sqlite:///PATH` URL (relative to the working directory, as SQLite opens
    it); None for an in-memory SQLite database and for other databases."""
    match = re.match(r"sqlite(\+pysqlite)?://(/(?P<path>[^?]*))?", url.strip(), re.I)
    if match is None:
        return None
    path = unquote(match.group("path") or "")
    if path in ("", ":memory:") or path.startswith("file:"):
        return None
    return Path(path)
