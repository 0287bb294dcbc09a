"""Page-1 latency of list and search on 10,000 and 1,000,000 customers, side by side.

    .venv/bin/python bench/list_search.py            # or: make bench-list

For each size it seeds a SQLite database once (`openscout db seed`, cached under
build/bench/), starts the real server (`openscout serve`) on a loopback port, and times the
same kinds of request against both: the median over a fixed number of sequential requests on
one keep-alive connection, after a warm-up. The requests are chosen so that they match about
as many customers at either size (one email; a modifiedAt window holding ~25 customers), so the
ratio shows what the size of the table itself costs. Results go to stdout and to
build/bench/list_search.json. docs/performance.md records a run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from support import ACCOUNT, BUILD, ROOT, free_port, openscout, seeded_sqlite, sqlite_url

#: How many customers the modifiedAt window should hold, whatever the size of the table.
WINDOW = 25


@dataclass(frozen=True)
class Probe:
    name: str
    path: str
    params: dict[str, str]
    #: The `count` the answer must report (None: not checked).
    count: int | None = None
    required: bool = True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000", help="comma-separated sizes")
    parser.add_argument("--requests", type=int, default=300, help="timed requests per probe")
    parser.add_argument("--warmup", type=int, default=30, help="untimed requests per probe")
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",")]
    BUILD.mkdir(parents=True, exist_ok=True)
    results: dict[int, dict[str, dict[str, float]]] = {}
    for size in sizes:
        database = seeded(size)
        results[size] = measure(database, size, options.requests, options.warmup)
    report(sizes, results, options.requests)
    return 0


def seeded(size: int) -> Path:
    """A database with `size` customers in account `bench`, built once and kept (support.py)."""
    return seeded_sqlite(size)


def url(database: Path) -> list[str]:
    return ["--database-url", sqlite_url(database)]


def probes(database: Path, size: int) -> list[Probe]:
    """The requests to time, with values picked from the middle of the data."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        (email,) = db.execute(
            "SELECT value FROM entries WHERE collection = 'emails' ORDER BY id LIMIT 1 OFFSET ?",
            (size // 2,),
        ).fetchone()
        moments = [
            row[0]
            for row in db.execute(
                "SELECT modified_at FROM customers ORDER BY modified_at LIMIT ? OFFSET ?",
                (WINDOW, size // 2),
            )
        ]
        low, high = moments[0], moments[-1]
        (in_window,) = db.execute(
            "SELECT count(*) FROM customers WHERE modified_at BETWEEN ? AND ?", (low, high)
        ).fetchone()
    window = f"modifiedAt:[{stamp(low)} TO {stamp(high)}]"
    return [
        Probe("list, email filter", "/v1/customers.json", {"email": email}, 1),
        Probe("search, exact email", "/v1/search/customers.json", {"query": f'"{email}"'}, 1),
        Probe(
            "search, modifiedAt range", "/v1/search/customers.json", {"query": window}, in_window
        ),
        Probe("list, no filter", "/v1/customers.json", {}, size, required=False),
        Probe(
            "search, sorted by lastName",
            "/v1/search/customers.json",
            {"sortField": "lastName", "sortOrder": "asc"},
            size,
            required=False,
        ),
    ]


def stamp(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def measure(database: Path, size: int, requests: int, warmup: int) -> dict[str, dict[str, float]]:
    key = openscout("keys", "create", "--account", ACCOUNT, "--name", "bench", *url(database))
    key = key.strip().splitlines()[-1]
    port = free_port()
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "openscout", "serve"),
            *("--host", "127.0.0.1", "--port", str(port)),
            *url(database),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "OPENSCOUT_WORKERS": "1"},
    )
    measured: dict[str, dict[str, float]] = {}
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, server)
        with httpx.Client(base_url=base, auth=(key, "X"), timeout=30) as http:
            for probe in probes(database, size):
                for _ in range(warmup):
                    check(http.get(probe.path, params=probe.params), probe)
                timings = []
                for _ in range(requests):
                    started = time.perf_counter()
                    response = http.get(probe.path, params=probe.params)
                    timings.append((time.perf_counter() - started) * 1000)
                    check(response, probe)
                timings.sort()
                measured[probe.name] = {
                    "median_ms": statistics.median(timings),
                    "p90_ms": timings[int(len(timings) * 0.9) - 1],
                    "required": probe.required,
                }
                print(f"{size:>9,}  {probe.name:<28} {measured[probe.name]['median_ms']:7.2f} ms")
    finally:
        server.terminate()
        server.wait(timeout=30)
    return measured


def check(response: httpx.Response, probe: Probe) -> None:
    if response.status_code != 200:
        raise SystemExit(f"{probe.name}: {response.status_code} {response.text[:200]}")
    body = response.json()
    if probe.count is not None and body["count"] != probe.count:
        raise SystemExit(f"{probe.name}: count {body['count']}, expected {probe.count}")
    if not body["items"]:
        raise SystemExit(f"{probe.name}: no items")


def wait_until_up(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server exited before answering")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit("the server did not answer within 60 s")


def report(sizes: list[int], results: dict[int, dict[str, dict[str, float]]], n: int) -> None:
    small, large = sizes[0], sizes[-1]
    print()
    print(f"page-1 latency, median of {n} sequential requests over loopback (p90 in brackets)")
    header = f"{'request':<30}{small:>14,}{large:>18,}   ratio"
    print(header)
    print("-" * len(header))
    for name, first in results[small].items():
        last = results[large][name]
        ratio = last["median_ms"] / first["median_ms"]
        note = "" if first["required"] else "   (not one of the three)"
        print(
            f"{name:<30}{first['median_ms']:>7.2f} ms ({first['p90_ms']:5.2f})"
            f"{last['median_ms']:>9.2f} ms ({last['p90_ms']:5.2f}){ratio:>7.2f}x{note}"
        )
    machine = f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs"
    print(f"\n{machine}, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")
    (BUILD / "list_search.json").write_text(
        json.dumps({"machine": machine, "requests": n, "results": results}, indent=2)
    )


if __name__ == "__main__":
    sys.exit(main())
