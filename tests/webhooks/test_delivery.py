"""The deliverer's parts on their own: `--webhook-allow` (webhooks/targets.py), the SQLite file
gate that lets one process deliver, and a round of delivery against a real receiver."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from openscout import keys, service
from openscout.config import Settings, SettingsError, load_settings
from openscout.contract.v1 import decode
from openscout.domain.webhooks import new_webhook
from openscout.http.webhooks import V2Payloads
from openscout.store.engine import SqlStore
from openscout.testing.receiver import WebhookReceiver
from openscout.webhooks import service as webhooks
from openscout.webhooks.delivery import Deliverer, FileGate, gate_for
from openscout.webhooks.events import Events
from openscout.webhooks.targets import Targets
from tests.conftest import migrated_store, new_account

# -- --webhook-allow


def refusal(allowed: str | None, url: str) -> str | None:
    return asyncio.run(Targets(allowed).refusal(url))


def test_by_default_any_receiver_may_be_called() -> None:
    assert refusal(None, "http://169.254.169.254/latest/meta-data") is None


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:9000/in", True),
        ("http://[::1]:9000/in", True),
        ("http://[::ffff:127.0.0.2]/in", True),
        ("https://10.1.2.3/in", True),
        ("http://10.2.0.1/in", False),
        ("http://169.254.169.254/", False),
        ("https://hooks.example.com/in", True),  # listed by name: not resolved
        ("https://HOOKS.example.com./in", True),
        ("https://other.example.com/in", False),  # not resolvable here, and not listed
        ("http://localhost:9000/in", True),  # resolves to loopback only
    ],
)
def test_only_listed_networks_and_names_may_be_called(url: str, allowed: bool) -> None:
    setting = load_settings(
        {"OPENSCOUT_WEBHOOK_ALLOW": "127.0.0.0/8, ::1 10.1.0.0/16,hooks.example.com"}
    ).webhook_allow
    found = refusal(setting, url)
    assert (found is None) is allowed, found


def test_a_refusal_says_what_was_refused_and_why() -> None:
    assert refusal("10.0.0.0/8", "http://127.0.0.1/") == (
        "127.0.0.1 is not allowed by --webhook-allow"
    )
    assert "not allowed by --webhook-allow" in (refusal("10.0.0.0/8", "http://localhost/") or "")
    assert "cannot be resolved" in (refusal("10.0.0.0/8", "http://nothing.invalid/") or "")


@pytest.mark.parametrize("text", ["", " , ", "10.0.0.300", "10.0.0.0/33", "-bad-.example"])
def test_a_bad_allow_list_is_a_bad_setting(text: str) -> None:
    with pytest.raises(SettingsError, match="OPENSCOUT_WEBHOOK_ALLOW"):
        load_settings({"OPENSCOUT_WEBHOOK_ALLOW": text or " ,"})


def test_webhook_settings_reach_worker_processes_unchanged() -> None:
    settings = Settings(
        webhook_backoff=0.05,
        webhook_timeout=2.5,
        webhook_allow="127.0.0.0/8,example.com",
        webhook_retention=3600,
        webhook_delivery=False,
    )
    assert load_settings(settings.environment()) == settings


# -- one deliverer per SQLite file


def test_one_gate_of_a_file_is_held_at_a_time(tmp_path: Path) -> None:
    first, second = FileGate(tmp_path / "db-deliver.lock"), FileGate(tmp_path / "db-deliver.lock")
    assert first.try_acquire() and first.is_held
    assert not second.try_acquire()
    first.release()
    assert second.try_acquire()
    second.release()


def test_a_gate_held_by_a_process_killed_with_sigkill_is_free_again(tmp_path: Path) -> None:
    path = tmp_path / "db-deliver.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from pathlib import Path\n"
            "from openscout.webhooks.delivery import FileGate\n"
            f"gate = FileGate(Path({str(path)!r}))\nassert gate.try_acquire()\n"
            "print('held', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert not FileGate(path).try_acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        if holder.stdout is not None:
            holder.stdout.close()
    gate = FileGate(path)
    assert gate.try_acquire()
    gate.release()


def test_only_a_sqlite_file_has_a_gate(tmp_path: Path) -> None:
    gate = gate_for(f"sqlite:///{tmp_path / 'o.db'}")
    assert gate is not None and gate.path == tmp_path / "o.db-deliver.lock"
    assert gate_for("postgresql://postgres@127.0.0.1/x") is None
    assert gate_for("sqlite://") is None


# -- a round of delivery


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    made = migrated_store(f"sqlite:///{tmp_path / 'o.db'}")
    yield made
    made.close()


def record_one(store: SqlStore, url: str, secret: str) -> int:
    """A webhook to `url`, and a created customer's event for it; the webhook's id."""
    key = new_account(store).key
    account = service.account_for_key(store, keys.hash_key(key))
    assert account is not None
    now = datetime.now(UTC)
    made = webhooks.create_webhook(
        store, account, new_webhook(url, secret, ["customer.created"]), now
    )
    patch = decode.create_request(b'{"firstName": "Ann", "lastName": "Lee"}', None).patch
    service.create_customer(store, account, patch, now, events=Events(V2Payloads("http://x")))
    assert made.id is not None
    return made.id


def deliver_once(deliverer: Deliverer) -> None:
    async def round_() -> None:
        async with httpx.AsyncClient() as http:
            await deliverer.deliver_round(http)

    asyncio.run(round_())


def test_a_receiver_outside_the_allow_list_is_never_called_and_the_log_says_why(
    store: SqlStore,
) -> None:
    with WebhookReceiver() as receiver:
        url, secret = receiver.endpoint()
        webhook_id = record_one(store, url, secret)
        deliverer = Deliverer(
            store, backoff=60, timeout=2, targets=Targets("10.0.0.0/8"), retention=60
        )
        deliver_once(deliverer)
        assert receiver.received() == []
    [record] = webhooks.webhook_deliveries(store, None, webhook_id)
    assert record.state == "pending" and record.attempts == 1
    assert record.tries[0].status is None
    assert record.tries[0].error == "127.0.0.1 is not allowed by --webhook-allow"


def test_a_receiver_too_slow_to_answer_is_a_failed_attempt(store: SqlStore) -> None:
    with WebhookReceiver() as receiver:
        url, secret = receiver.endpoint()
        webhook_id = record_one(store, url, secret)
        receiver.delay_next(1, seconds=1.0)
        deliverer = Deliverer(store, backoff=60, timeout=0.2, targets=Targets(None), retention=60)
        deliver_once(deliverer)
    [record] = webhooks.webhook_deliveries(store, None, webhook_id)
    assert (record.state, record.attempts, record.tries[0].status) == ("pending", 1, None)
    assert record.tries[0].error == "no answer within 0.2 s"
    assert record.next_attempt_at is not None


def test_a_stopped_deliverer_records_the_attempt_under_way_before_it_ends(
    store: SqlStore,
) -> None:
    with WebhookReceiver() as receiver:
        url, secret = receiver.endpoint()
        webhook_id = record_one(store, url, secret)
        receiver.delay_next(1, seconds=0.3)
        deliverer = Deliverer(store, backoff=60, timeout=5, targets=Targets(None), retention=60)

        async def run_then_stop() -> None:
            running = asyncio.ensure_future(deliverer.run())
            while not receiver.received():
                await asyncio.sleep(0.01)
            deliverer.stop()
            await asyncio.wait_for(running, 10)

        asyncio.run(run_then_stop())
    [record] = webhooks.webhook_deliveries(store, None, webhook_id)
    assert (record.state, record.attempts) == ("delivered", 1)


def test_deliveries_to_one_receiver_reuse_the_connection(store: SqlStore) -> None:
    with WebhookReceiver() as receiver:
        url, secret = receiver.endpoint()
        record_one(store, url, secret)  # the first event
        [listed] = webhooks.list_webhooks(store, None)
        account = service.ensure_account(store, listed.account, datetime.now(UTC))
        patch = decode.create_request(b'{"firstName": "Bo", "lastName": "Ek"}', None).patch
        deliverer = Deliverer(store, backoff=60, timeout=5, targets=Targets(None), retention=60)

        async def deliver_one_at_a_time() -> None:
            async with httpx.AsyncClient() as http:
                for _ in range(3):
                    await deliverer.deliver_round(http)
                    # The next event, after the answer to the last one was read.
                    events = Events(V2Payloads("http://x"))
                    service.create_customer(store, account, patch, datetime.now(UTC), events=events)

        asyncio.run(deliver_one_at_a_time())
        arrived = receiver.received()
    assert [d.status for d in arrived] == [200, 200, 200]
    assert len({d.remote for d in arrived}) == 1


def test_a_slow_receiver_holds_up_only_its_own_deliveries(store: SqlStore) -> None:
    key = new_account(store).key
    account = service.account_for_key(store, keys.hash_key(key))
    assert account is not None

    def create(name: bytes) -> int:
        body = b'{"firstName": "%s", "lastName": "Lee"}' % name
        patch = decode.create_request(body, None).patch
        events = Events(V2Payloads("http://x"))
        made = service.create_customer(store, account, patch, datetime.now(UTC), events=events)
        assert made.id is not None
        return made.id

    with WebhookReceiver() as slow, WebhookReceiver() as fast:
        for receiver in (slow, fast):
            url, secret = receiver.endpoint()
            wanted = new_webhook(url, secret, ["customer.created"])
            webhooks.create_webhook(store, account, wanted, datetime.now(UTC))
        slow.delay_next(1, seconds=3)  # the first customer's event, at the slow receiver
        first = create(b"Ann")
        deliverer = Deliverer(store, backoff=60, timeout=10, targets=Targets(None), retention=60)

        async def meanwhile() -> tuple[int, list[int]]:
            running = asyncio.ensure_future(deliverer.run())
            try:
                while not fast.received():
                    await asyncio.sleep(0.01)
                second = create(b"Bo")
                deliverer.wake()
                while second not in [d.json["id"] for d in fast.received()]:
                    await asyncio.sleep(0.01)
                # The second event reached the fast receiver while the slow one still holds
                # the first: its answer has not come back yet.
                return second, [d.json["id"] for d in slow.received()]
            finally:
                deliverer.stop()
                await asyncio.wait_for(running, 20)

        second, answered_by_slow = asyncio.run(meanwhile())
        slow_in_the_end = [d.json["id"] for d in slow.received()]
    assert first not in answered_by_slow
    assert sorted(slow_in_the_end) == [first, second]
