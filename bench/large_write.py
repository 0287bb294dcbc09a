"""How long one large write holds up everyone else (docs/hardening.md, "thousands of entries").

    .venv/bin/python bench/large_write.py              # 10 rounds, 5,000 phones, SQLite
    .venv/bin/python bench/large_write.py --rounds 20 --entries 5500

Serves `openscout serve` with its defaults on a new SQLite file in a temporary directory, then,
round by round, polls `/healthz` as fast as one client can while another client PUTs
`--entries` new phones (`{"value": "n"}`, about 19 bytes each) onto a customer. Each round
reports the PUT's time and the longest and median `/healthz` answer during it; a quiet round
(the same polling for the same time, without the PUT) is measured beside each, so that the
added wait reads as a difference within one sitting. Loopback only; bounded by `--rounds`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

OPENSCOUT = Path(sys.executable).with_name("openscout")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def poll(client: httpx.AsyncClient, stop: asyncio.Event) -> list[float]:
    waits: list[float] = []
    while not stop.is_set():
        started = time.perf_counter()
        answer = await client.get("/healthz")
        answer.raise_for_status()
        waits.append(time.perf_counter() - started)
        await asyncio.sleep(0.001)
    return waits


async def measure(base: str, key: str, rounds: int, entries: int) -> None:
    body = json.dumps({"phones": [{"value": str(n)} for n in range(entries)]}).encode()
    headers = {"content-type": "application/json"}
    print(f"PUT of {entries} phones ({len(body) / 1000:.0f} kB) while /healthz is polled")
    print("round  put_ms  healthz_max_ms  quiet_max_ms  healthz_median_ms")
    rows = []
    async with (
        httpx.AsyncClient(base_url=base, auth=(key, "X"), timeout=60) as writer,
        httpx.AsyncClient(base_url=base, timeout=60) as poller,
    ):
        for number in range(1, rounds + 1):
            created = await writer.post(
                "/v1/customers.json",
                json={
                    "firstName": "Large",
                    "lastName": "Write",
                    "emails": [{"value": f"w{number}@example.com"}],
                },
            )
            assert created.status_code == 201, created.text
            location = created.headers["location"]
            stop = asyncio.Event()
            polling = asyncio.create_task(poll(poller, stop))
            await asyncio.sleep(0.05)
            started = time.perf_counter()
            answer = await writer.put(location, content=body, headers=headers)
            put = time.perf_counter() - started
            assert answer.status_code == 200, answer.text
            await asyncio.sleep(0.05)
            stop.set()
            waits = await polling
            quiet_stop = asyncio.Event()
            quiet = asyncio.create_task(poll(poller, quiet_stop))
            await asyncio.sleep(0.1 + put)
            quiet_stop.set()
            quiet_waits = await quiet
            row = (
                put * 1000,
                max(waits) * 1000,
                max(quiet_waits) * 1000,
                statistics.median(waits) * 1000,
            )
            rows.append(row)
            print(f"{number:5}  {row[0]:6.0f}  {row[1]:14.1f}  {row[2]:12.1f}  {row[3]:17.1f}")
    print(
        "median {:6.0f}  {:14.1f}  {:12.1f}  {:17.1f}".format(
            *(statistics.median(column) for column in zip(*rows, strict=True))
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--entries", type=int, default=5000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        env = dict(os.environ, OPENSCOUT_DATABASE_URL=f"sqlite:///{directory}/bench.db")
        made = subprocess.run(
            [OPENSCOUT, "keys", "create", "--name", "bench"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        key = made.stdout.strip().splitlines()[-1]
        port = free_port()
        server = subprocess.Popen(
            [OPENSCOUT, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    httpx.get(base + "/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
            asyncio.run(measure(base, key, options.rounds, options.entries))
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
