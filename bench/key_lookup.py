"""What one request's key lookup costs through the store (docs/performance.md, "PostgreSQL reads
without BEGIN and COMMIT").

    .venv/bin/python bench/key_lookup.py                       # the local PostgreSQL
    .venv/bin/python bench/key_lookup.py --url sqlite:////tmp/lookup.db --lookups 5000

Makes a database of its own (a new PostgreSQL database `openscout_bench_lookup`, dropped at the
end; or the SQLite file given), an account and a key, then awaits
`store.run(service.account_for_key, ...)` `--lookups` times in a row, as `http/auth.py` does
once per request, and prints the microseconds per lookup, three times. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime

from sqlalchemy import create_engine, text

from openscout import keys, service
from openscout.store import schema
from openscout.store.engine import SqlStore

ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DATABASE = "openscout_bench_lookup"


def admin(sql: str) -> None:
    engine = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(sql))
    engine.dispose()


async def measure(store: SqlStore, digest: str, lookups: int) -> None:
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(lookups):
            assert await store.run(service.account_for_key, store, digest) is not None
        print(f"{(time.perf_counter() - started) / lookups * 1e6:.0f} µs per lookup")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a database URL (default: a new local PostgreSQL database)")
    parser.add_argument("--lookups", type=int, default=3000)
    options = parser.parse_args()
    url = options.url
    if url is None:
        admin(f'DROP DATABASE IF EXISTS "{DATABASE}"')
        admin(f'CREATE DATABASE "{DATABASE}"')
        url = ADMIN.rsplit("/", 1)[0] + f"/{DATABASE}"
    store = SqlStore(url)
    try:
        schema.upgrade(store)
        key = service.create_key(store, "bench-lookup", "bench", datetime.now(UTC))
        asyncio.run(measure(store, keys.hash_key(key), options.lookups))
    finally:
        store.close()
        if options.url is None:
            admin(f'DROP DATABASE IF EXISTS "{DATABASE}"')


if __name__ == "__main__":
    main()
