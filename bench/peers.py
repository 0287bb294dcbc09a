"""openscout next to json-server, the stateful fake REST server people use instead, under the
same PUT workload at 1,000 and 10,000 customers.

    make bench-peers                 # = .venv/bin/python bench/peers.py

json-server 0.17 (npm; installed into build/bench/peers/ on the first run) serves a file
holding the same customers, in v1's full shape, as the seeded SQLite database of that size.
Both servers get bench/wrk/put.lua's requests (json-server at PUT /customers/{id}, where it
stores the body as the customer) from wrk -t2 -c8 for 10 s; openscout runs as in bench/run.py.
The table goes to stdout and build/bench/peers.md.
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from run import CHATS, Plan, Row, create_key, ensure_wrk, export, run_wrk
from support import (
    ACCOUNT,
    BUILD,
    ROOT,
    log,
    openscout_serve,
    seeded_sqlite,
    serving,
    sqlite_url,
)

JSON_SERVER = "json-server@0.17.4"
PEERS = BUILD / "peers"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=8)
    options = parser.parse_args()
    wrk = ensure_wrk()
    cli = install_json_server()
    plan = Plan(
        sizes=[int(size) for size in options.sizes.split(",")],
        backends=["sqlite"],
        seconds=options.seconds,
        ceiling_seconds=0,
        warm_up=1,
        sample=20_000,
        threads=2,
        quick=False,
        timeout=30,  # a json-server write rewrites the whole file
    )
    (BUILD / "wrk").mkdir(parents=True, exist_ok=True)
    results: list[tuple[int, Row, Row]] = []
    for size in plan.sizes:
        url = sqlite_url(seeded_sqlite(size))
        data = BUILD / f"data-peers-{size}.tsv"
        export(url, size, plan.sample, data)
        key = create_key(url)
        auth = "Basic " + base64.b64encode(f"{key}:X".encode()).decode()
        tag = f"p{int(time.time()) % 100000:x}"
        log(f"== {size:,} customers")
        with serving(openscout_serve(url), "/healthz") as server:
            ours = run_wrk(plan, wrk, server, data, auth, "put", options.connections, tag)
        log(f"   openscout    {ours.per_second:9,.1f}/s  p50 {ours.p50_ms:.1f} ms")
        db = PEERS / f"db-{size}.json"
        write_json_server_db(url, db)
        command = [cli, "--host", "127.0.0.1", "--port", "{port}", "--quiet", str(db)]
        with serving(command, "/customers/1") as server:
            theirs = run_wrk(
                plan,
                wrk,
                server,
                data,
                auth,
                "put",
                options.connections,
                tag,
                label="json-server put",
                kind="plain",
            )
        log(f"   json-server  {theirs.per_second:9,.1f}/s  p50 {theirs.p50_ms:.1f} ms")
        results.append((size, ours, theirs))
    table = render(results, options)
    print(table)
    (BUILD / "peers.md").write_text(table + "\n")
    return 0


def install_json_server() -> str:
    cli = PEERS / "node_modules" / ".bin" / "json-server"
    if cli.exists():
        return str(cli)
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is not installed: `apt-get install -y npm` (make bench-peers does)")
    PEERS.mkdir(parents=True, exist_ok=True)
    log(f"installing {JSON_SERVER} into {PEERS.relative_to(ROOT)} ...")
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--prefix", str(PEERS), JSON_SERVER],
        check=True,
        timeout=600,
    )
    return str(cli)


def write_json_server_db(url: str, path: Path) -> None:
    """The account's customers in v1's full shape, as json-server's database file."""
    from openscout.contract.v1 import encode
    from openscout.store.engine import SqlStore

    store = SqlStore(url)
    try:
        with store.reading() as transaction:
            (account_id,) = transaction.connection.exec_driver_sql(
                "SELECT id FROM accounts WHERE name = ?", (ACCOUNT,)
            ).one()
            customers = transaction.account_customers(int(account_id))
    finally:
        store.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"customers": [encode.full(c) for c in customers]}, default=str))


def render(results: list[tuple[int, Row, Row]], options: argparse.Namespace) -> str:
    lines = [
        "# openscout and json-server, the same PUT workload",
        "",
        f"wrk -t2 -c{options.connections}, {options.seconds:g} s per run; bench/wrk/put.lua "
        f"(json-server stores each body as the customer; openscout applies it: names, an "
        f"email by id, a phone, one of {CHATS} chats removed and one added).",
        "",
        "| customers | server | req/s | p50 ms | p99 ms | non-2xx | openscout ÷ json-server |",
        "|---|---|---|---|---|---|---|",
    ]
    for size, ours, theirs in results:
        ratio = ours.per_second / theirs.per_second if theirs.per_second else float("inf")
        for name, row in (("openscout (SQLite)", ours), ("json-server 0.17", theirs)):
            lines.append(
                f"| {size:,} | {name} | {row.per_second:,.1f} | {row.p50_ms:,.1f} "
                f"| {row.p99_ms:,.1f} | {row.non_2xx} | {ratio:,.1f}x |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
