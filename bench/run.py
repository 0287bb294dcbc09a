"""Load benchmark of openscout's v1 and v2 APIs with wrk, next to two ceilings, in one run.

    make bench                      # full: 10k and 1M customers, SQLite and PostgreSQL, 10 s runs
    BENCH_QUICK=1 make bench        # quick: 1k and 10k customers, 3 s runs (under two minutes)
    .venv/bin/python bench/run.py --sizes 10000 --backends sqlite --seconds 5

For each backend and size it takes the seeded database (bench/support.py: built once under
build/bench/ or as PostgreSQL database openscout_bench_N), samples up to 20,000 customers spread
over it, gives each sampled customer a phone and four chats when it lacks them, and exports
their ids and values to a data file that the wrk scripts (bench/wrk/) read. Then, one after
the other, nothing else running:

1. storage ceiling: bench/storage_ceiling.py replays the SQL of the update and of the get
   transaction in-process with the raw driver on the same database;
2. `openscout serve` (what `make serve` runs: its defaults) under wrk -t2 --latency: GET by id, list
   page 1 filtered by email, search by email (64 connections) and the PUT mix of put.lua (64
   connections on SQLite, 8 on PostgreSQL); then v2 on the same server, divided by the same
   ceilings: GET /v2/customers/{id} and a JSON Patch of what the PUT mix changes (patch.lua),
   with a bearer token;
3. once per backend, after its sizes: the framework ceiling, bench/ceiling_app.py served like
   openscout (uvicorn with uvloop and httptools, the same worker count), under the same GET
   script; and the same on granian (uvloop);
4. on SQLite at the smallest size, GET and the PUT mix again with `openscout serve --server
   granian`: the two HTTP servers side by side (uvicorn is the default because it takes the
   raw bytes v1 clients send in query strings; docs/performance.md);
5. for each backend and size, the PUT mix again with one webhook of the account subscribed to
   `customer.updated` (a receiver in this process answering 200), beside the PUT mix without:
   the cost of recording events on the write path, the serving process delivering them
   meanwhile; then how fast that process delivered them (`webhook delivery`, from the start of
   the run until /healthz reports an empty backlog; docs/webhooks.md).

It prints a table (req/s, p50, p99, peak RSS, ratio to the ceiling, non-2xx, targets of issue
5 met or not) and writes it to build/bench/report.md, the raw figures to build/bench/report.json
and each wrk output to build/bench/wrk/. A run is marked invalid when more than 0.1% of its
answers were not 2xx, failed at the socket, or did not hold what they should.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import secrets
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from support import (
    ACCOUNT,
    BUILD,
    ROOT,
    Server,
    Usage,
    log,
    openscout_serve,
    postgres_admin_url,
    postgres_problem,
    seeded,
    serving,
)

WRK_DIR = ROOT / "bench" / "wrk"
#: Values the PUT mix writes (put.lua and storage_ceiling.py pick among them).
NAMES = ["Avery", "Blake", "Casey", "Devon", "Emery", "Finley", "Harper", "Jordan", "Quinn"]
ORGS = ["Northwind Traders", "Contoso Ltd", "Fabrikam Inc", "Tailspin Toys", "Fourth Coffee"]
PHONE_LABELS = ["work", "mobile", "home"]
#: Chats each sampled customer holds: put.lua removes one per visit and learns the ids of new
#: ones only from reload answers (see there).
CHATS = 4
RELOAD_SHARE = 0.10
#: Above this share of bad answers (non-2xx, socket errors, unexpected bodies) a run is invalid.
MAX_BAD = 0.001
SCENARIOS = ("get", "list", "search", "put")
#: The v2 rows: name, the wrk script's kind (read.lua's `get_v2`, patch.lua), and the marker a
#: 2xx body must hold.
V2_SCENARIOS = (("get v2", "get_v2", '"_embedded":{'), ("patch v2", "patch_v2", ""))
#: HTTP servers compared: `openscout serve`'s default first (--server), then the other one.
SERVERS = ("uvicorn", "granian")
DEFAULT_SERVER = SERVERS[0]
#: Scenarios also run on the other server, at the smallest size on SQLite, to compare the two.
COMPARED = ("get", "put")


@dataclass(frozen=True)
class Plan:
    sizes: list[int]
    backends: list[str]
    seconds: float
    ceiling_seconds: float
    warm_up: float
    sample: int
    threads: int
    quick: bool
    #: "full", "quick", or "custom" when sizes or durations were chosen on the command line.
    kind: str = "full"
    #: wrk's time-out per request, in seconds.
    timeout: float = 5
    #: `openscout serve --workers`; None: its default for the database.
    workers: int | None = None

    def serve_options(self) -> tuple[str, ...]:
        return () if self.workers is None else ("--workers", str(self.workers))


@dataclass
class Row:
    backend: str
    size: int
    scenario: str
    connections: int = 0
    #: The HTTP server openscout (or the framework ceiling) ran on.
    server: str = SERVERS[0]
    per_second: float = 0.0
    p50_ms: float | None = None
    p99_ms: float | None = None
    rss_mb: float | None = None
    #: req/s of the framework ceiling (reads) and of the storage ceiling (get, put) to divide by.
    framework: float | None = None
    storage: float | None = None
    requests: int = 0
    non_2xx: int = 0
    socket_errors: int = 0
    unexpected: int = 0
    reload_share: float | None = None
    chatless: int = 0
    #: Cores busy during the run: the server (or the ceiling's process), wrk, PostgreSQL.
    cpu: tuple[float, float, float] | None = None
    #: The largest RssAnon and RssFile seen in one server process during the run, in MB.
    peak_anon_mb: float | None = None
    peak_file_mb: float | None = None
    valid: bool = True
    notes: list[str] = field(default_factory=list)
    targets: list[tuple[str, bool]] = field(default_factory=list)

    @property
    def framework_ratio(self) -> float | None:
        return self.per_second / self.framework if self.framework else None

    @property
    def storage_ratio(self) -> float | None:
        return self.per_second / self.storage if self.storage else None


def main() -> int:
    plan = make_plan()
    wrk = ensure_wrk()
    BUILD.mkdir(parents=True, exist_ok=True)
    (BUILD / "wrk").mkdir(exist_ok=True)
    started = time.monotonic()
    rows: list[Row] = []
    workers: dict[str, int] = {}
    tag = secrets.token_hex(3)
    skipped: list[str] = []
    backends = []
    for backend in plan.backends:
        if backend == "postgresql" and (problem := postgres_problem()):
            skipped.append(f"PostgreSQL skipped: {problem}")
            log(skipped[-1])
            continue
        backends.append(backend)
    seed_all(plan, backends)
    for backend in backends:
        group: list[Row] = []
        for size in plan.sizes:
            found, workers[backend], data = bench_database(plan, wrk, backend, size, tag)
            group.extend(found)
        # The framework ceiling does not depend on the database: once per backend, right after
        # openscout ran on it, with as many worker processes.
        ceilings = {}
        for server in SERVERS:
            ceilings[server] = framework_ceiling(plan, wrk, workers[backend], data, server)
            ceilings[server].backend, ceilings[server].server = backend, server
        for row in group:
            if row.scenario.split(" ")[0] in ("get", "list", "search"):
                row.framework = ceilings[row.server].per_second
        rows.extend([*group, *ceilings.values()])
    if not rows:
        raise SystemExit("nothing was measured")
    judge(rows, plan)
    machine = describe_machine(workers)
    table = render(rows, plan, machine, time.monotonic() - started, skipped)
    print(table)
    (BUILD / "report.md").write_text(table + "\n")
    (BUILD / "report.json").write_text(
        json.dumps(
            {"plan": asdict(plan), "machine": machine, "rows": [asdict(row) for row in rows]},
            indent=2,
        )
    )
    log(f"written: {(BUILD / 'report.md').relative_to(ROOT)}, report.json")
    return 0


def make_plan() -> Plan:
    quick = os.environ.get("BENCH_QUICK", "").strip().lower() in ("1", "true", "yes")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", help="comma-separated customer counts")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--seconds", type=float, help="length of each wrk run")
    parser.add_argument("--sample", type=int, default=20_000, help="customers the runs touch")
    parser.add_argument("--workers", type=int, help="openscout serve --workers (its default)")
    options = parser.parse_args()
    sizes = options.sizes or ("1000,10000" if quick else "10000,1000000")
    seconds = options.seconds or (3.0 if quick else 10.0)
    return Plan(
        sizes=[int(size) for size in sizes.split(",")],
        backends=[name.strip() for name in options.backends.split(",")],
        seconds=seconds,
        ceiling_seconds=min(seconds, 1.5 if quick else 5.0),
        warm_up=1.0 if quick else 2.0,
        sample=options.sample,
        threads=2,
        quick=quick,
        kind="custom"
        if options.sizes or options.seconds or options.workers
        else ("quick" if quick else "full"),
        workers=options.workers,
    )


def seed_all(plan: Plan, backends: list[str]) -> None:
    """Seed the databases the run needs that do not exist yet, two at a time, largest first:
    a seed keeps about one core busy (Python on one side, the database on the other), and the
    machine has two."""
    jobs = sorted(
        ((backend, size) for backend in backends for size in plan.sizes), key=lambda j: -j[1]
    )
    with ThreadPoolExecutor(max_workers=2) as pool:
        for _url in pool.map(lambda job: seeded(*job), jobs):
            pass


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed: `apt-get install -y wrk` (make bench does it)")
    return found


# -- one database --------------------------------------------------------------------------------


def bench_database(
    plan: Plan, wrk: str, backend: str, size: int, tag: str
) -> tuple[list[Row], int, Path]:
    log(f"== {backend}, {size:,} customers")
    url = seeded(backend, size)
    key = create_key(url)
    auth = "Basic " + base64.b64encode(f"{key}:X".encode()).decode()
    data = BUILD / f"data-{backend}-{size}.tsv"
    export(url, size, plan.sample, data)
    rows: list[Row] = []
    for scenario in ("put", "get"):
        rows.append(storage_ceiling(plan, url, data, key, backend, size, scenario, tag))
    export(url, size, plan.sample, data)  # the ceiling changed the values the scripts start from
    ceilings = {row.scenario: row for row in rows}
    with serving(openscout_serve(url, *plan.serve_options()), "/healthz") as server:
        workers = server.workers()
        # Fill the server's caches, as a server that has been up a while has them.
        run_wrk(plan, wrk, server, data, auth, "get", 64, tag, seconds=plan.warm_up)
        for scenario in SCENARIOS:
            conns = connections(backend) if scenario == "put" else 64
            row = run_wrk(plan, wrk, server, data, auth, scenario, conns, tag)
            row.backend, row.size = backend, size
            row.rss_mb = server.peak_rss_mb()[0]
            if scenario in ("put", "get"):
                row.storage = ceilings[f"storage {scenario.upper()}"].per_second
            rows.append(row)
            log(f"   {describe(row)}")
        # v2 beside v1, on the same server and divided by the same ceilings: GET by id, and a
        # JSON Patch of the same fields the PUT mix changes.
        export(url, size, plan.sample, data)  # the PUT mix changed the emails the file lists
        bearer = "Bearer " + create_token(url)
        for scenario, kind, marker in V2_SCENARIOS:
            v2_conns = connections(backend) if kind == "patch_v2" else 64
            row = run_wrk(
                plan,
                wrk,
                server,
                data,
                bearer,
                scenario,
                v2_conns,
                tag,
                marker=marker,
                kind=kind,
            )
            row.backend, row.size = backend, size
            row.rss_mb = server.peak_rss_mb()[0]
            row.storage = ceilings["storage GET" if kind == "get_v2" else "storage PUT"].per_second
            rows.append(row)
            log(f"   {describe(row)}")
        rows.extend(with_a_webhook(plan, wrk, server, url, size, data, auth, tag, backend))
        rows[-2].storage = ceilings["storage PUT"].per_second
        memory = server.resident_mb()
        rows[-1].notes.append(
            "resident now in the largest server process: "
            + ", ".join(f"{name} {value:.0f} MB" for name, value in memory.items())
            + (
                " (RssFile: mapped files, SQLite's mmap of the database among them)"
                if backend == "sqlite"
                else ""
            )
        )
    if backend == "sqlite" and size == min(plan.sizes):
        rows.extend(other_server(plan, wrk, url, data, auth, size, tag, ceilings))
    return rows, workers, data


def with_a_webhook(
    plan: Plan,
    wrk: str,
    server: Server,
    url: str,
    size: int,
    data: Path,
    auth: str,
    tag: str,
    backend: str,
) -> list[Row]:
    """The PUT mix with one webhook subscribed to every update, and the delivery rate."""
    from openscout.domain.webhooks import new_webhook
    from openscout.store.engine import SqlStore
    from openscout.testing.receiver import WebhookReceiver
    from openscout.webhooks import service as webhooks

    export(url, size, plan.sample, data)  # the PUTs above changed the chats the data file lists
    store = SqlStore(url)
    with WebhookReceiver() as receiver:
        try:
            endpoint, secret = receiver.endpoint()
            now = datetime.now(UTC)
            account = webhooks_account(store, now)
            made = webhooks.create_webhook(
                store, account, new_webhook(endpoint, secret, ["customer.updated"]), now
            )
            assert made.id is not None
            started = time.monotonic()
            row = run_wrk(
                plan,
                wrk,
                server,
                data,
                auth,
                "put",
                connections(backend),
                tag + "w",
                label="put (1 webhook)",
            )
            row.backend, row.size = backend, size
            row.rss_mb = server.peak_rss_mb()[0]
            log(f"   {describe(row)}")
            drained = wait_for_empty_backlog(server)
            elapsed = time.monotonic() - started
            delivered = len(receiver.received())
            delivery = Row(backend, size, "webhook delivery", per_second=delivered / elapsed)
            delivery.requests = delivered
            delivery.notes.append(
                f"{delivered:,} events delivered to a receiver on loopback in {elapsed:.1f} s, "
                f"from the start of the PUT run until the backlog was empty, "
                f"{drained:.1f} s after the run"
            )
            log(f"   {describe(delivery)}")
        finally:
            for item in webhooks.list_webhooks(store, None):
                if item.account == ACCOUNT and item.webhook.id is not None:
                    webhooks.delete_webhook(store, None, item.webhook.id)
            store.close()
    return [row, delivery]


def webhooks_account(store: Any, now: datetime) -> int:
    from openscout import service

    return service.ensure_account(store, ACCOUNT, now)


def connections(backend: str) -> int:
    return 8 if backend == "postgresql" else 64


def wait_for_empty_backlog(server: Server, patience: float = 300) -> float:
    """Seconds until the server's /healthz reports no webhook backlog."""
    started = time.monotonic()
    while True:
        with urllib.request.urlopen(f"{server.base}/healthz", timeout=10) as answer:
            if json.loads(answer.read())["webhooks"]["backlog"] == 0:
                return time.monotonic() - started
        if time.monotonic() - started > patience:
            raise SystemExit(f"the webhook backlog did not empty in {patience:g} s")
        time.sleep(0.1)


def other_server(
    plan: Plan,
    wrk: str,
    url: str,
    data: Path,
    auth: str,
    size: int,
    tag: str,
    ceilings: dict[str, Row],
) -> list[Row]:
    """GET and the PUT mix with `openscout serve --server` the other HTTP server: the
    measurement behind the choice of the default."""
    rows = []
    other = SERVERS[1]
    export(url, size, plan.sample, data)  # the PUTs above changed the chats the data file lists
    command = openscout_serve(url, "--server", other, *plan.serve_options())
    with serving(command, "/healthz") as server:
        run_wrk(plan, wrk, server, data, auth, "get", 64, tag, seconds=plan.warm_up)
        for scenario in COMPARED:
            row = run_wrk(plan, wrk, server, data, auth, scenario, 64, tag + "u")
            row.backend, row.size, row.server = "sqlite", size, other
            row.scenario = f"{scenario} ({other})"
            row.rss_mb = server.peak_rss_mb()[0]
            if scenario == "put":
                row.storage = ceilings["storage PUT"].per_second
            rows.append(row)
            log(f"   {describe(row)}")
    return rows


def create_token(url: str) -> str:
    """An access token of a new app of the bench's account (the client-credentials grant)."""
    from openscout import apps
    from openscout.store.engine import SqlStore

    store = SqlStore(url)
    try:
        now = datetime.now(UTC)
        app = apps.create_app(store, ACCOUNT, "bench", None, now)
        return apps.grant_client_credentials(
            store, app.client_id, app.client_secret, now
        ).access_token
    finally:
        store.close()


def create_key(url: str) -> str:
    from openscout import service
    from openscout.store.engine import SqlStore

    store = SqlStore(url)
    try:
        return service.create_key(store, ACCOUNT, "bench", datetime.now(UTC))
    finally:
        store.close()


def storage_ceiling(
    plan: Plan, url: str, data: Path, key: str, backend: str, size: int, scenario: str, tag: str
) -> Row:
    threads = 1 if backend == "sqlite" else 8
    command = [
        *(sys.executable, str(ROOT / "bench" / "storage_ceiling.py")),
        *("--database-url", url, "--data", str(data), "--key", key),
        *("--scenario", scenario, "--seconds", str(plan.ceiling_seconds)),
        *("--threads", str(threads), "--tag", tag),
    ]
    done = subprocess.run(
        command, cwd=ROOT, check=True, text=True, stdout=subprocess.PIPE, timeout=300
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    row = Row(
        backend,
        size,
        f"storage {scenario.upper()}",
        connections=threads,
        per_second=result["per_second"],
        p50_ms=result["p50_ms"],
        p99_ms=result["p99_ms"],
        requests=result["transactions"],
        cpu=(result["cpu"], 0.0, result["postgres_cpu"]),
    )
    if result["errors"]:
        row.valid = False
        row.notes.append(f"{result['errors']} errors, first: {result['first_error']}")
    log(f"   {describe(row)}")
    return row


def export(url: str, size: int, sample: int, path: Path) -> None:
    """Pick up to `sample` customers spread over the account, make sure each has a phone and
    `CHATS` chats, and write the data file the wrk scripts and the storage ceiling read."""
    db = Raw(url)
    try:
        account_id = db.one("SELECT id FROM accounts WHERE name = ?", (ACCOUNT,))[0]
        ids = [
            row[0]
            for row in db.all(
                "SELECT id FROM customers WHERE account_id = ? ORDER BY id", (account_id,)
            )
        ]
        step = max(1, len(ids) // sample)
        chosen = ids[::step][:sample]
        entries = db.entries(chosen)
        missing: list[tuple[Any, ...]] = []
        for customer_id in chosen:
            mine = entries.get(customer_id, [])
            if not any(collection == "phones" for _, collection, _, _ in mine):
                value = f"+1 (555) 010-{customer_id % 10000:04d}"
                missing.append((account_id, customer_id, "phones", value, value, "work"))
            chats = sum(1 for _, collection, _, _ in mine if collection == "chats")
            for n in range(chats, CHATS):
                value = f"bench-{customer_id}-{n}"
                missing.append((account_id, customer_id, "chats", value, value, "skype"))
        if missing:
            db.insert_entries(missing)
            entries = db.entries(chosen)
        scalars = {
            row[0]: row[1:]
            for row in db.all(
                "SELECT id, first_name, organization FROM customers WHERE id IN "
                f"({','.join(str(i) for i in chosen)})",
                (),
            )
        }
    finally:
        db.close()
    lines = [
        "\t".join(["names", *NAMES]),
        "\t".join(["orgs", *ORGS]),
        "\t".join(["labels", *PHONE_LABELS]),
    ]
    for customer_id in chosen:
        mine = entries[customer_id]
        email = next(e for e in mine if e[1] == "emails")
        phone = next(e for e in mine if e[1] == "phones")
        chat_ids = [str(e[0]) for e in mine if e[1] == "chats"][:CHATS]
        first, organization = scalars[customer_id]
        fields = [
            "c",
            str(customer_id),
            str(email[0]),
            email[2],
            phone[2],
            phone[3] or "work",
            first or "",
            organization or "",
            ",".join(chat_ids),
            urllib.parse.urlencode({"email": email[2]}),
            urllib.parse.urlencode({"query": f'"{email[2]}"'}),
        ]
        if any("\t" in value or "\n" in value for value in fields):
            continue
        lines.append("\t".join(fields))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    log(f"   sampled {len(lines) - 3:,} of {len(ids):,} customers into {path.relative_to(ROOT)}")


class Raw:
    """The database through its raw driver, for the export (no server is running then)."""

    def __init__(self, url: str) -> None:
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite:
            assert parsed.database
            self.connection: Any = sqlite3.connect(parsed.database, isolation_level=None)
            self.connection.execute("PRAGMA busy_timeout=10000")
        else:
            import psycopg

            conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
            self.connection = psycopg.connect(conninfo, autocommit=True, connect_timeout=5)

    def _sql(self, statement: str) -> str:
        return statement if self.is_sqlite else statement.replace("?", "%s")

    def all(self, statement: str, params: tuple[Any, ...]) -> list[Any]:
        return list(self.connection.execute(self._sql(statement), params).fetchall())

    def one(self, statement: str, params: tuple[Any, ...]) -> Any:
        return self.connection.execute(self._sql(statement), params).fetchone()

    def entries(self, customer_ids: list[int]) -> dict[int, list[tuple[int, str, str, str]]]:
        found: dict[int, list[tuple[int, str, str, str]]] = {}
        for start in range(0, len(customer_ids), 1000):
            chunk = ",".join(str(i) for i in customer_ids[start : start + 1000])
            for row in self.all(
                "SELECT id, customer_id, collection, value, label FROM entries "
                f"WHERE customer_id IN ({chunk}) ORDER BY id",
                (),
            ):
                found.setdefault(row[1], []).append((row[0], row[2], row[3], row[4]))
        return found

    def insert_entries(self, rows: list[tuple[Any, ...]]) -> None:
        statement = self._sql(
            "INSERT INTO entries (account_id, customer_id, collection, value, value_key, label) "
            "VALUES (?, ?, ?, ?, ?, ?)"
        )
        if self.is_sqlite:
            self.connection.execute("BEGIN IMMEDIATE")
            self.connection.executemany(statement, rows)
            self.connection.execute("COMMIT")
        else:
            with self.connection.transaction(), self.connection.cursor() as cursor:
                cursor.executemany(statement, rows)

    def close(self) -> None:
        self.connection.close()


# -- wrk -----------------------------------------------------------------------------------------


def run_wrk(
    plan: Plan,
    wrk: str,
    server: Server,
    data: Path,
    auth: str,
    scenario: str,
    connections: int,
    tag: str,
    *,
    seconds: float | None = None,
    marker: str | None = None,
    label: str | None = None,
    kind: str | None = None,
) -> Row:
    seconds = plan.seconds if seconds is None else seconds
    script = WRK_DIR / {"put": "put.lua", "patch_v2": "patch.lua"}.get(kind or scenario, "read.lua")
    if marker is None:
        marker = {"get": '{"item":{"id":', "list": '"count":1,', "search": '"count":1,'}.get(
            scenario, ""
        )
    command = [
        wrk,
        *(f"-t{plan.threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s"),
        *("--latency", "--timeout", f"{plan.timeout:g}s", "-s", str(script), server.base),
        *("--", str(data), str(plan.threads), auth, marker, tag, str(RELOAD_SHARE)),
        kind or scenario,
    ]
    with Usage(server.pids()) as usage:
        done = subprocess.run(
            command,
            cwd=ROOT,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=seconds + 60,
        )
    name = f"{label or scenario}-{data.stem}-c{connections}.txt"
    (BUILD / "wrk" / name).write_text(" ".join(command[:-7]) + "\n\n" + done.stdout)
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH-RESULT ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout[-2000:]}")
    result = json.loads(lines[-1].removeprefix("BENCH-RESULT "))
    requests = result["requests"]
    row = Row(
        "",
        0,
        label or scenario,
        connections=connections,
        per_second=requests / (result["duration_us"] / 1e6),
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        requests=requests,
        non_2xx=result["status_errors"],
        socket_errors=sum(
            result[name] for name in ("connect_errors", "read_errors", "write_errors", "timeouts")
        ),
        unexpected=result.get("unexpected", 0),
        cpu=(usage.server, usage.children, usage.postgres),
        peak_anon_mb=usage.peak.get("RssAnon"),
        peak_file_mb=usage.peak.get("RssFile"),
    )
    if scenario == "put":
        puts = max(1, result["puts"])
        row.reload_share = result["reloads"] / puts
        row.chatless = result["chatless"]
        if row.reload_share > RELOAD_SHARE + 0.02:
            row.notes.append(
                f"reload share {row.reload_share:.0%}: customers were visited more often than "
                f"they have chats ({CHATS}); a larger size or a shorter run keeps it at 10%"
            )
        else:
            row.notes.append(f"{row.reload_share:.1%} of the PUTs with reload=true")
    bad = row.non_2xx + row.socket_errors + row.unexpected + row.chatless
    if requests == 0 or bad > MAX_BAD * requests:
        row.valid = False
        row.notes.append(
            f"INVALID: {bad} bad answers of {requests} (non-2xx {row.non_2xx}, socket errors "
            f"{row.socket_errors}, unexpected bodies {row.unexpected}, PUTs without a chat "
            f"{row.chatless})"
        )
    return row


def framework_ceiling(plan: Plan, wrk: str, workers: int, data: Path, server: str) -> Row:
    """bench/ceiling_app.py under the GET script, on `server` (uvicorn, as `openscout serve`
    runs by default, or granian), with as many worker processes as openscout ran."""
    if server == "granian":
        command = [
            *(sys.executable, "-m", "granian", "--interface", "asgi"),
            *("--working-dir", str(ROOT / "bench"), "--loop", "uvloop"),
            *("--host", "127.0.0.1", "--port", "{port}", "--workers", str(workers)),
            *("--no-access-log", "--log-level", "warning", "ceiling_app:app"),
        ]
    else:
        command = [
            *(sys.executable, "-m", "uvicorn", "--app-dir", str(ROOT / "bench"), "ceiling_app:app"),
            *("--host", "127.0.0.1", "--port", "{port}", "--workers", str(workers)),
            *("--loop", "uvloop", "--http", "httptools", "--no-access-log"),
            *("--log-level", "warning"),
        ]
    label = "framework GET" + ("" if server == DEFAULT_SERVER else f" ({server})")
    with serving(command, "/healthz") as process:
        auth = "Basic " + base64.b64encode(b"ceiling:X").decode()
        run_wrk(plan, wrk, process, data, auth, "get", 64, "x", seconds=plan.warm_up)
        row = run_wrk(
            plan, wrk, process, data, auth, "get", 64, "x", marker='"item":{"id":', label=label
        )
        row.rss_mb = process.peak_rss_mb()[0]
    log(f"   {describe(row)}")
    return row


# -- targets -------------------------------------------------------------------------------------


def judge(rows: list[Row], plan: Plan) -> None:
    """Fill in the ceilings' figures and the targets of issue 5."""
    small, large = min(plan.sizes), max(plan.sizes)
    by_key = {(row.backend, row.size, row.scenario): row for row in rows}
    for row in rows:
        if row.scenario == "put" and row.storage_ratio is not None:
            row.targets.append((">= 0.6x storage ceiling", row.storage_ratio >= 0.6))
            if row.backend == "sqlite" and row.p99_ms is not None:
                row.targets.append(("p99 < 20 ms", row.p99_ms < 20))
        if row.scenario == "get" and row.framework_ratio is not None:
            row.targets.append((">= 0.5x framework ceiling", row.framework_ratio >= 0.5))
        if row.size == large and large != small and row.scenario in SCENARIOS:
            base = by_key.get((row.backend, small, row.scenario))
            if base is not None:
                within = (
                    row.per_second * 1.5 >= base.per_second
                    and (row.p50_ms or 0) <= 1.5 * (base.p50_ms or 0)
                    and (row.p99_ms or 0) <= 1.5 * (base.p99_ms or 0)
                )
                row.targets.append((f"within 1.5x of {small:,}", within))
            if row.rss_mb is not None:
                row.targets.append(("RSS < 200 MB", row.rss_mb < 200))


# -- the report ----------------------------------------------------------------------------------


def describe(row: Row) -> str:
    p50 = f"{row.p50_ms:.2f}" if row.p50_ms is not None else "-"
    p99 = f"{row.p99_ms:.2f}" if row.p99_ms is not None else "-"
    bad = f", non-2xx {row.non_2xx}" if row.non_2xx else ""
    return f"{row.scenario:<14} {row.per_second:9,.0f}/s  p50 {p50} ms  p99 {p99} ms{bad}"


def describe_machine(workers: dict[str, int]) -> dict[str, Any]:
    version = ""
    try:
        import psycopg

        with psycopg.connect(admin_conninfo(), connect_timeout=5) as connection:
            row = connection.execute("SHOW server_version").fetchone()
            version = str(row[0]) if row else "unknown"
    except Exception:
        version = "not reached"
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        check=False,
    ).stdout.strip()
    return {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "system": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": version,
        "wrk": subprocess.run(
            ["wrk", "--version"],
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            check=False,
        )
        .stdout.splitlines()[0]
        .split(" [")[0],
        "workers": workers,
        "commit": commit,
    }


def admin_conninfo() -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(postgres_admin_url()).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def render(
    rows: list[Row], plan: Plan, machine: dict[str, Any], elapsed: float, skipped: list[str]
) -> str:
    def num(value: float | None, digits: int = 2) -> str:
        return "-" if value is None else f"{value:,.{digits}f}"

    header = (
        "| backend | customers | scenario | conns | req/s | p50 ms | p99 ms "
        "| peak RSS MB (anon + file) | CPU srv/wrk/pg | ÷ framework | ÷ storage | non-2xx "
        "| targets (issue 5) |"
    )
    lines = [
        f"# openscout load benchmark ({plan.kind})",
        "",
        f"{machine['when']}; {machine['system']}; Python {machine['python']}; SQLite "
        f"{machine['sqlite']}; PostgreSQL {machine['postgresql']}; {machine['wrk']}; commit "
        f"{machine['commit']}. wrk -t{plan.threads}, {plan.seconds:g} s per run after "
        f"{plan.warm_up:g} s of warm-up; storage ceilings {plan.ceiling_seconds:g} s; "
        "`openscout serve` ran "
        + ", ".join(
            f"{count} worker process(es) on {name}" for name, count in machine["workers"].items()
        )
        + f". Took {elapsed:.0f} s.",
        "",
        header,
        "|" + "---|" * 13,
    ]
    for row in rows:
        targets = ", ".join(f"{name}: {'met' if ok else 'NOT met'}" for name, ok in row.targets)
        if not row.valid:
            targets = ("INVALID; " + targets) if targets else "INVALID"
        size = f"{row.size:,}" if row.size else "-"
        non_2xx = "-" if row.scenario.startswith("storage") else str(row.non_2xx)
        rss = num(row.rss_mb, 0)
        if row.peak_anon_mb is not None and row.peak_file_mb is not None:
            rss += f" ({row.peak_anon_mb:.0f} + {row.peak_file_mb:.0f})"
        cpu = "/".join(f"{core:.2f}" for core in row.cpu) if row.cpu else "-"
        lines.append(
            f"| {row.backend} | {size} | {row.scenario} | {row.connections} "
            f"| {row.per_second:,.0f} | {num(row.p50_ms)} | {num(row.p99_ms)} "
            f"| {rss} | {cpu} | {num(row.framework_ratio, 3)} "
            f"| {num(row.storage_ratio, 2)} | {non_2xx} | {targets} |"
        )
    notes = [
        f"- {row.backend}{f' {row.size:,}' if row.size else ''} {row.scenario}: {note}"
        for row in rows
        for note in row.notes
    ]
    lines += [
        "",
        "conns: wrk connections (threads for the storage ceilings). ÷ framework: req/s over "
        "the framework ceiling's (bench/ceiling_app.py, a trivial JSON GET on the same stack: "
        "uvicorn, or granian for the rows marked so); "
        "÷ storage: req/s over the storage ceiling's of the same backend and size "
        "(bench/storage_ceiling.py, the same SQL in-process). peak RSS: the largest VmHWM "
        "among the server's processes so far; in brackets the largest RssAnon (heap) and "
        "RssFile (mapped files: code, and SQLite's memory map of the database) seen in one of "
        "them during the run, sampled every 0.2 s. CPU: cores busy during the run (1.00 = one core "
        "all along) in the server's processes (the storage ceiling's own process on its "
        "rows), in wrk, in PostgreSQL's processes; the machine has "
        f"{os.cpu_count()}.",
    ]
    if notes or skipped:
        lines += ["", "Notes:", *notes, *(f"- {line}" for line in skipped)]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
