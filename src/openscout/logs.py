"""One log format for `openscout serve`: every log line is one JSON object, whoever wrote it
(the HTTP server, openscout, the access log), with `time`, `level` and `logger` first.

The access log builds its lines with `line` (docs/hardening.md shows one); every other record
goes through `JsonFormatter`, which the HTTP server's logging is configured with
(`server_config`). The start-up banner is plain text on a terminal and JSON lines otherwise
(`announce`), so that a log collector reading a pipe gets nothing but JSON.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, TextIO

import msgspec

_encoder = msgspec.json.Encoder()


def timestamp(moment: datetime | None = None) -> str:
    """A log line's `time`: UTC, to the millisecond, `2026-11-28T01:32:16.787Z`."""
    moment = moment or datetime.now(UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def line(level: str, logger: str, fields: dict[str, Any], moment: datetime | None = None) -> str:
    """One log line: `time`, `level` and `logger`, then `fields`."""
    return _encoder.encode(
        {"time": timestamp(moment), "level": level, "logger": logger, **fields}
    ).decode()


class JsonFormatter(logging.Formatter):
    """A record as one JSON line: its message in `message`, a traceback in `exception`, and
    the `fields` of `extra={"fields": {...}}` beside them."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = {"message": record.getMessage()}
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            fields.update(extra)
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            fields["exception"] = record.exc_text
        if record.stack_info:
            fields["stack"] = self.formatStack(record.stack_info)
        moment = datetime.fromtimestamp(record.created, UTC)
        return line(record.levelname.lower(), record.name, fields, moment)


#: Loggers of the HTTP servers and of openscout, configured alike by `server_config`.
_LOGGERS = ("uvicorn", "_granian", "openscout")
_ACCESS_LOGGERS = ("uvicorn.access", "granian.access")


def server_config(level: str) -> dict[str, Any]:
    """The `logging.config.dictConfig` of `openscout serve`, for uvicorn (`log_config`) and
    granian (`log_dictconfig`) alike: their lines and openscout's go to standard error through
    `JsonFormatter`; the servers' own access lines (only at `--log-level debug` without
    openscout's access log) to standard output, as openscout's are."""
    formatter = {"()": f"{__name__}.JsonFormatter"}
    numeric = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        # uvicorn sets colours on formatters of these two names.
        "formatters": {"default": formatter, "access": dict(formatter)},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            },
            "access": {
                "class": "logging.StreamHandler",
                "formatter": "access",
                "stream": "ext://sys.stdout",
            },
        },
        "loggers": {
            **{
                name: {"handlers": ["default"], "level": numeric, "propagate": False}
                for name in _LOGGERS
            },
            **{
                name: {"handlers": ["access"], "level": numeric, "propagate": False}
                for name in _ACCESS_LOGGERS
            },
        },
    }


def announce(text: str, stream: TextIO, *, as_json: bool, **fields: Any) -> None:
    """A line of the start-up banner: the text (then each field's value on a line of its own)
    on a terminal, or one JSON line with the text as `message` and the fields beside it."""
    if as_json:
        print(line("info", "openscout", {"message": text, **fields}), file=stream, flush=True)
        return
    print(text, file=stream, flush=True)
    for value in fields.values():
        print(f"    {value}", file=stream, flush=True)
