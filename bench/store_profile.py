"""In-process rates of the service's get and update paths, and the top of their profile.

    .venv/bin/python bench/store_profile.py [DATABASE_URL] [--profile]

No HTTP: this measures what one request costs below the web layer (decode, rules, SQL), on a
fresh SQLite file by default. docs/performance.md quotes its output before and after the
prepared statements of store/prepared.py.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from openscout import keys, service
from openscout.contract.v1 import decode, encode, wire
from openscout.http.webhooks import V2Payloads
from openscout.store import schema
from openscout.store.engine import SqlStore
from openscout.webhooks.events import Events

#: As the server records webhook events (an account without webhooks: one lookup per write).
EVENTS = Events(V2Payloads("http://127.0.0.1:8080"))

ROUNDS = 3000


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def run(url: str) -> None:
    store = SqlStore(url)
    schema.upgrade(store)
    key = service.create_key(store, f"bench-{time.time_ns()}", "bench", now())
    created = decode.create_request(
        b'{"firstName":"Ann","lastName":"Lee","emails":[{"value":"ann.%d@example.com"}],'
        b'"chats":[{"value":"ann"},{"value":"lee"}]}' % time.time_ns()
    )

    # As the server does: the key's account looked up for each request, then the use case.
    def account() -> int:
        return service.account_for_key(store, keys.hash_key(key)) or 0

    customer = service.create_customer(store, account(), created.patch, now(), events=EVENTS)
    assert customer.id is not None
    email_id = customer.emails[0].id

    started = time.perf_counter()
    for _ in range(ROUNDS):
        got = service.get_customer(store, account(), customer.id)
        msgspec.json.encode(wire.item(encode.full(got)))
    gets = ROUNDS / (time.perf_counter() - started)

    started = time.perf_counter()
    for round_ in range(ROUNDS):
        body = b'{"firstName":"Ann %d","emails":[{"id":%d,"value":"ann.%d.%d@example.com"}]}' % (
            round_,
            email_id,
            round_,
            time.time_ns(),
        )
        patch = decode.update_request(body, None).patch
        service.update_customer(store, account(), customer.id, patch, now(), events=EVENTS)
    updates = ROUNDS / (time.perf_counter() - started)
    store.close()
    print(f"get customer:    {gets:8.0f} per second")
    print(f"update customer: {updates:8.0f} per second")


def main() -> None:
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    with tempfile.TemporaryDirectory() as folder:
        url = arguments[0] if arguments else f"sqlite:///{Path(folder) / 'profile.db'}"
        if "--profile" not in sys.argv:
            run(url)
            return
        profiler = cProfile.Profile()
        profiler.runcall(run, url)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(12)


if __name__ == "__main__":
    main()
