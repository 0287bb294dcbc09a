"""`openscout webhooks ...` in this process, and `openscout deliver` as a process of its own,
on a SQLite file in tmp_path, delivering to a receiver on loopback."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from openscout import keys, service
from openscout.contract.v1 import decode
from openscout.domain.webhooks import State, signature
from openscout.http.webhooks import V2Payloads
from openscout.testing.receiver import WebhookReceiver
from openscout.webhooks import service as webhooks
from openscout.webhooks.events import Events
from tests.cli.test_cli import Cli, Process

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path, f"sqlite:///{tmp_path / 'openscout.db'}", monkeypatch, capsys)


def create(cli: Cli, *options: str) -> int:
    output = cli.ok("webhooks", "create", *options)
    *said, last = output.splitlines()
    assert said and last.isdigit(), output
    return int(last)


def test_create_prints_the_id_last_and_list_shows_it_without_the_secret(cli: Cli) -> None:
    first = create(
        cli, "--url", "https://example.com/in", "--secret", "hush-hush", "--label", "crm"
    )
    second = create(
        cli,
        "--url",
        "http://10.0.0.5:9000/hook",
        "--secret",
        "s",
        "--event",
        "customer.deleted",
        "--event",
        "convo.created",
        "--notification",
        "--account",
        "acme",
    )
    assert second == first + 1
    listing = cli.ok("webhooks", "list")
    assert "hush-hush" not in listing
    rows = [line.split() for line in listing.splitlines()[1:]]
    assert rows == [
        [
            str(first),
            "default",
            "enabled",
            "object",
            "customer.created,customer.updated,customer.deleted",
            "https://example.com/in",
            "crm",
        ],
        [
            str(second),
            "acme",
            "enabled",
            "uri",
            "customer.deleted,convo.created",
            "http://10.0.0.5:9000/hook",
        ],
    ]
    assert [
        line.split()[0] for line in cli.ok("webhooks", "list", "--account", "acme").splitlines()[1:]
    ] == [str(second)]


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (
            ["--url", "ftp://example.com", "--secret", "s"],
            "--url 'ftp://example.com' is not an http or https URL",
        ),
        (
            ["--url", "example.com", "--secret", "s"],
            "--url 'example.com' is not an http or https URL",
        ),
        (
            ["--url", "https://x.example", "--secret", "s" * 41],
            "--secret is longer than 40 characters",
        ),
        (["--url", "https://x.example", "--secret", ""], "--secret is required"),
        (
            ["--url", "https://x.example", "--secret", "s", "--event", "customer.merged"],
            "--event 'customer.merged' is not one of Help Scout's webhook events",
        ),
    ],
)
def test_create_refuses_what_help_scout_refuses_in_one_line_with_exit_2(
    cli: Cli, options: list[str], said: str
) -> None:
    done = cli.run("webhooks", "create", *options)
    assert done.returncode == 2
    assert said in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "s" * 41 not in done.stderr  # a secret is never shown


def test_every_problem_of_a_create_is_reported_at_once(cli: Cli) -> None:
    done = cli.run(
        "webhooks", "create", "--url", "nope", "--secret", "x" * 50, "--event", "a", "--event", "b"
    )
    assert done.returncode == 2
    for part in ("--url 'nope'", "--secret", "--event 'a'", "--event 'b'"):
        assert part in done.stderr


def test_delete_removes_a_webhook_and_an_unknown_id_is_one_line(cli: Cli) -> None:
    webhook_id = create(cli, "--url", "https://example.com/in", "--secret", "s")
    assert "Deleted webhook" in cli.ok("webhooks", "delete", str(webhook_id))
    assert cli.ok("webhooks", "list").startswith("No webhooks yet")
    done = cli.run("webhooks", "delete", str(webhook_id))
    assert (done.returncode, done.stderr.strip()) == (
        1,
        f"openscout: no webhook with id {webhook_id}",
    )
    assert cli.run("webhooks", "deliveries", "99").returncode == 1
    done = cli.run("webhooks", "redeliver", "0b5f4e55-0000-4000-8000-000000000000")
    assert done.returncode == 1 and "no event with id" in done.stderr


def test_deliver_sends_recorded_events_and_the_log_shows_them_and_redeliver_resends(
    cli: Cli,
) -> None:
    with WebhookReceiver() as receiver:
        url, secret = receiver.endpoint()
        key = cli.create_key("--account", "default")
        webhook_id = create(cli, "--url", url, "--secret", secret)
        store = cli.store()
        try:
            account = service.account_for_key(store, keys.hash_key(key))
            assert account is not None
            patch = decode.create_request(b'{"firstName": "Ann", "lastName": "Lee"}', None).patch
            events = Events(V2Payloads("https://api.example.com"))
            made = service.create_customer(store, account, patch, datetime.now(UTC), events=events)
        finally:
            store.close()
        receiver.fail_next(1, 503)
        deliverer = Process(
            ["deliver", "--webhook-backoff", "0.05"], cli.directory, cli.environment()
        )
        try:
            assert "delivering webhooks" in deliverer.next_line()
            [delivery] = receiver.wait(1, timeout=20)
            # Stopped at once: the attempt under way is recorded before it exits.
        finally:
            deliverer.popen.terminate()
            assert deliverer.popen.wait(timeout=20) == 0
            deliverer.stop()
        assert delivery.json["id"] == made.id
        assert delivery.headers["x-helpscout-signature"] == signature(secret, delivery.body)
        assert (
            delivery.json["_links"]["self"]["href"]
            == f"https://api.example.com/v2/customers/{made.id}"
        )

        log = cli.ok("webhooks", "deliveries", str(webhook_id)).splitlines()
        assert log[0] == f"Webhook {webhook_id} (enabled) to {url}:"
        event_id, event, customer, _, state, tries, last = log[2].split()
        assert UUID.fullmatch(event_id)
        assert (event_id, event, customer, state, tries, last) == (
            delivery.event_id,
            "customer.created",
            str(made.id),
            "delivered",
            "2",
            "200",
        )
        assert [line.split()[1] for line in log[3:]] == ["503", "200"]

        said = cli.ok("webhooks", "redeliver", event_id)
        assert event_id in said
        again = Process(["deliver"], cli.directory, cli.environment())
        try:
            arrived = receiver.wait(2, timeout=20)
        finally:
            again.popen.terminate()
            again.popen.wait(timeout=20)
            again.stop()
        assert arrived[1].event_id == event_id and arrived[1].body == delivery.body


def test_deliver_needs_an_existing_database(cli: Cli) -> None:
    done = cli.run("deliver")
    assert done.returncode == 2
    assert "no database at" in done.stderr


def test_webhooks_commands_run_as_a_process(cli: Cli) -> None:
    made = cli.process("webhooks", "create", "--url", "https://example.com/x", "--secret", "s")
    assert made.returncode == 0, made.stderr
    listed = cli.process("webhooks", "list")
    assert "https://example.com/x" in listed.stdout
    store = cli.store()
    try:
        [item] = webhooks.list_webhooks(store, None)
    finally:
        store.close()
    assert item.webhook.state is State.ENABLED and item.webhook.secret == "s"
