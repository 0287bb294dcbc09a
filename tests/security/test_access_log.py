"""The access log and request ids: one JSON line per request naming the account, never a key,
a header or a body; `Correlation-Id` on every response (spec §2), whether the log is on or off.
(`test_keys` reads the log of a real `openscout serve`; these read it in the test's process.)"""

from __future__ import annotations

import io
import json
import logging
import re
import time
from typing import Any

import httpx
import pytest

from openscout import keys
from openscout.config import Settings
from openscout.http.accesslog import BatchedWriter
from openscout.store.engine import SqlStore
from tests.conftest import new_account, running_server
from tests.security.test_keys import secrets_of

FIELDS = [
    "time",
    "level",
    "logger",
    "request_id",
    "method",
    "path",
    "status",
    "duration_ms",
    "account_id",
]


def access_lines(caplog: pytest.LogCaptureFixture, count: int) -> list[dict[str, Any]]:
    """The first `count` access-log lines, waiting (bounded) for the last of them: a line is
    written after its response has gone out."""
    deadline = time.monotonic() + 10
    while True:
        records = [r for r in caplog.records if r.name == "openscout.access"]
        if len(records) >= count or time.monotonic() > deadline:
            return [json.loads(record.getMessage()) for record in records]
        time.sleep(0.01)


@pytest.mark.parametrize("rate_limited", [False, True], ids=["no-limits", "limits"])
def test_one_line_per_request_with_its_account_and_request_id(
    store: SqlStore, caplog: pytest.LogCaptureFixture, rate_limited: bool
) -> None:
    account = new_account(store)
    with store.reading() as transaction:
        account_id = transaction.account_for_key(keys.hash_key(account.key))
    caplog.set_level(logging.INFO, logger="openscout.access")
    with (
        running_server(store, Settings(access_log=True), rate_limited=rate_limited) as server,
        httpx.Client(base_url=server.url, auth=(account.key, "X"), timeout=10) as http,
        httpx.Client(base_url=server.url, timeout=10) as anonymous,
    ):
        secret_name = "Secret-Body-Value"
        answers = [
            http.post("/v1/customers.json", json={"firstName": secret_name, "lastName": "Lee"}),
            http.get("/v1/customers.json?email=secret-query@example.com"),
            http.get("/v1/customers/999999.json"),
            anonymous.get("/v1/customers.json"),
            anonymous.get("/healthz"),
        ]
        logged = access_lines(caplog, len(answers))
    # Each line is written when its request is done: in the order the requests finished, which
    # need not be the order they were sent in.
    by_id = {line["request_id"]: line for line in logged}
    assert len(by_id) == len(logged) == len(answers)
    lines = [by_id[answer.headers["correlation-id"]] for answer in answers]
    expected = [
        ("POST", "/v1/customers.json", 201, account_id),
        ("GET", "/v1/customers.json", 200, account_id),
        ("GET", "/v1/customers/999999.json", 404, account_id),
        ("GET", "/v1/customers.json", 401, None),
        ("GET", "/healthz", 200, None),
    ]
    for line, answer, (method, path, status, account_of) in zip(
        lines, answers, expected, strict=True
    ):
        assert list(line) == FIELDS
        assert (line["method"], line["path"], line["status"], line["account_id"]) == (
            method,
            path,
            status,
            account_of,
        )
        assert line["request_id"] == answer.headers["correlation-id"]
        assert line["duration_ms"] >= 0
    text = "\n".join(record.getMessage() for record in caplog.records)
    for secret in [*secrets_of(account.key), secret_name, "secret-query"]:
        assert secret not in text


def test_without_the_access_log_nothing_is_logged_and_ids_are_still_sent(
    store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    account = new_account(store)
    caplog.set_level(logging.INFO, logger="openscout.access")
    with (
        running_server(store, Settings(access_log=False)) as server,
        httpx.Client(base_url=server.url, auth=(account.key, "X"), timeout=10) as http,
    ):
        ids = [http.get("/v1/customers.json").headers["correlation-id"] for _ in range(50)]
        ids.append(http.get("/nope").headers["correlation-id"])
        ids.append(http.post("/v1/customers.json", content=b"{").headers["correlation-id"])
    assert all(re.fullmatch(r"[0-9a-f]{32}", request_id) for request_id in ids)
    assert len(set(ids)) == len(ids)
    time.sleep(0.2)  # a line would be written just after its response; none may come
    assert [r for r in caplog.records if r.name == "openscout.access"] == []


# -- the writer behind `openscout serve`'s log (accesslog.log_to)


def record(message: str) -> logging.LogRecord:
    return logging.LogRecord("openscout.access", logging.INFO, __file__, 0, message, (), None)


def test_the_batched_writer_writes_every_line_in_order_and_the_last_ones_on_close() -> None:
    stream = io.StringIO()
    writer = BatchedWriter(stream, interval=0.05)
    for n in range(500):  # records (through logging) and lines (from `openscout serve`) alike
        if n % 2:
            writer.add(f'{{"n":{n}}}')
        else:
            writer.handle(record(f'{{"n":{n}}}'))
    deadline = time.monotonic() + 10
    while not stream.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert stream.getvalue(), "nothing written by the writer's own thread"
    writer.handle(record('{"n":"last"}'))
    writer.close()  # stops the thread, then writes what is left
    assert not writer.thread.is_alive()
    lines = stream.getvalue().splitlines()
    assert lines == [f'{{"n":{n}}}' for n in range(500)] + ['{"n":"last"}']


def test_a_broken_stream_drops_the_lines_without_failing_a_request() -> None:
    stream = io.StringIO()
    writer = BatchedWriter(stream, interval=60)
    stream.close()
    writer.handle(record('{"n":1}'))
    writer.close()  # the write fails on the closed stream; nothing is raised
    assert writer.lines == []
