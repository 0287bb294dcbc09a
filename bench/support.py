"""What the benchmarks share: the seeded databases kept under build/bench/, API keys, running
`openscout serve` on a loopback port, and reading a process tree's peak memory.

Seeded databases are built once and kept:

- SQLite: `build/bench/customers-N.db`, with `customers-N.ready` written once the seed finished;
- PostgreSQL: database `openscout_bench_N` next to the one `BENCH_POSTGRES_URL` names (default
  `postgresql://postgres@127.0.0.1:5432/postgres`, a role that may create databases); it counts
  as seeded when account `bench` holds exactly N customers.

Both are filled by `openscout db seed --customers N --account bench`. Benchmarks that write
(bench/run.py) change the customers they touch but never the number of customers or entries.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "bench"
ACCOUNT = "bench"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BACKENDS = ("sqlite", "postgresql")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def openscout(*args: str, timeout: float = 3600) -> str:
    """Run the openscout command with this Python; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "openscout", *args],
        cwd=ROOT,
        check=True,
        text=True,
        stdout=subprocess.PIPE,
        timeout=timeout,
    )
    return done.stdout


# -- seeded databases ----------------------------------------------------------------------------


def sqlite_url(database: Path) -> str:
    return f"sqlite:///{database}"


def seeded_sqlite(size: int) -> Path:
    """A SQLite database with `size` customers in account `bench`, built once and kept."""
    BUILD.mkdir(parents=True, exist_ok=True)
    database = BUILD / f"customers-{size}.db"
    ready = database.with_suffix(".ready")
    if ready.exists() and database.exists():
        return database
    for leftover in BUILD.glob(f"customers-{size}.db*"):
        leftover.unlink()
    log(f"seeding {size:,} customers into {database.relative_to(ROOT)} (once) ...")
    started = time.monotonic()
    openscout(
        "db",
        "seed",
        "--customers",
        str(size),
        "--account",
        ACCOUNT,
        "--database-url",
        sqlite_url(database),
    )
    seconds = time.monotonic() - started
    ready.write_text(json.dumps({"customers": size, "seed_seconds": round(seconds, 1)}))
    return database


def postgres_admin_url() -> str:
    return os.environ.get("BENCH_POSTGRES_URL") or DEFAULT_POSTGRES_URL


def postgres_url(size: int) -> str:
    """The URL of the benchmark database for `size` customers (next to the admin database)."""
    from sqlalchemy.engine import make_url

    admin = make_url(postgres_admin_url())
    return admin.set(database=f"openscout_bench_{size}").render_as_string(hide_password=False)


def _psycopg_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def postgres_problem() -> str | None:
    """Why the PostgreSQL of `BENCH_POSTGRES_URL` cannot be used, or None when it can."""
    import psycopg

    try:
        with psycopg.connect(_psycopg_url(postgres_admin_url()), connect_timeout=5) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        first = (str(error).strip().splitlines() or [""])[0]
        return f"{postgres_admin_url()} cannot be reached ({first})"
    return None


def seeded_postgres(size: int) -> str:
    """A PostgreSQL database with `size` customers in account `bench`, built once and kept."""
    import psycopg

    url = postgres_url(size)
    name = f"openscout_bench_{size}"
    try:
        with psycopg.connect(_psycopg_url(url), connect_timeout=5) as connection:
            row = connection.execute(
                "SELECT customer_count FROM accounts WHERE name = %s", (ACCOUNT,)
            ).fetchone()
        if row is not None and row[0] == size:
            return url
        log(f"{name} holds {0 if row is None else row[0]:,} customers, not {size:,}: rebuilding")
    except psycopg.OperationalError as error:
        if "does not exist" not in str(error):
            raise
    except psycopg.errors.UndefinedTable:
        pass
    with psycopg.connect(_psycopg_url(postgres_admin_url()), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    log(f"seeding {size:,} customers into PostgreSQL database {name} (once) ...")
    started = time.monotonic()
    openscout("db", "seed", "--customers", str(size), "--account", ACCOUNT, "--database-url", url)
    log(f"seeded {name} in {time.monotonic() - started:.0f} s")
    return url


def seeded(backend: str, size: int) -> str:
    """The database URL of a seeded database of `size` customers on `backend`."""
    if backend == "sqlite":
        return sqlite_url(seeded_sqlite(size))
    if backend == "postgresql":
        return seeded_postgres(size)
    raise ValueError(f"unknown backend {backend!r}")


def create_key(database_url: str, name: str = "bench") -> str:
    """A new API key of account `bench` (the last line `keys create` prints)."""
    out = openscout(
        "keys", "create", "--account", ACCOUNT, "--name", name, "--database-url", database_url
    )
    return out.strip().splitlines()[-1]


# -- servers -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Poll `url` until it answers 200; fail when the process exits or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited ({process.returncode}) before answering")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


@dataclass
class Server:
    """A server process on a loopback port."""

    process: subprocess.Popen[bytes]
    port: int
    base: str = field(init=False)

    def __post_init__(self) -> None:
        self.base = f"http://127.0.0.1:{self.port}"

    def pids(self) -> list[int]:
        """The server process and every process below it."""
        return [self.process.pid, *descendants(self.process.pid)]

    def workers(self) -> int:
        """Processes that serve requests: the children of a supervisor, or the process itself."""
        children = [pid for pid in descendants(self.process.pid) if not _is_helper(pid)]
        return max(1, len(children))

    def peak_rss_mb(self) -> tuple[float, float]:
        """(largest, summed) peak resident memory (VmHWM) of the server's processes, in MB."""
        peaks = [peak_rss_mb(pid) for pid in self.pids()]
        found = [peak for peak in peaks if peak is not None]
        return (max(found, default=0.0), sum(found))

    def resident_mb(self) -> dict[str, float]:
        """The current RssAnon and RssFile of the server's largest process, in MB: heap and
        stacks, against file pages mapped in (code, and SQLite's memory-mapped database)."""
        largest: dict[str, float] = {}
        for pid in self.pids():
            found = proc_status(pid, ("VmRSS", "RssAnon", "RssFile", "RssShmem"))
            if found.get("VmRSS", 0) > largest.get("VmRSS", -1):
                largest = found
        return largest


@contextmanager
def serving(
    command: Sequence[str], health_path: str, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """Run `command` (which must listen on the port it is given through `{port}`) until the
    block ends; it is stopped with SIGINT, then SIGKILL if it lingers."""
    port = free_port()
    argv = [part.replace("{port}", str(port)) for part in command]
    process = subprocess.Popen(
        argv,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    server = Server(process, port)
    try:
        wait_until_up(server.base + health_path, process)
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def openscout_serve(database_url: str, *extra: str) -> list[str]:
    """The command line of `openscout serve` for a benchmark: what `make serve` runs (its
    defaults: server, worker count, pool size, access log, no rate limits), on a loopback port
    and the benchmark's database."""
    return [
        *(sys.executable, "-m", "openscout", "serve"),
        *("--host", "127.0.0.1", "--port", "{port}"),
        *("--database-url", database_url),
        *extra,
    ]


# -- /proc ---------------------------------------------------------------------------------------


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    queue = [pid]
    while queue:
        parent = queue.pop()
        try:
            children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found.append(child)
            queue.append(child)
    return found


def _cmdline(pid: int) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return ""


def _is_helper(pid: int) -> bool:
    """multiprocessing's resource tracker: a child that serves nothing."""
    return "resource_tracker" in _cmdline(pid)


def proc_status(pid: int, names: tuple[str, ...]) -> dict[str, float]:
    """Memory figures of /proc/PID/status, in MB."""
    found: dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in names:
                found[name] = int(value.split()[0]) / 1024
    except OSError:
        pass
    return found


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_times(pids: list[int]) -> dict[int, float]:
    """User plus system CPU time each process has used so far, in seconds."""
    found: dict[int, float] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
    return found


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two `cpu_times`, by the processes alive at the second (a
    process that exited meanwhile is not counted; one that started is, from its start)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def postgres_pids() -> list[int]:
    """The processes of the local PostgreSQL server (its backends do the SQL work)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


class Usage:
    """CPU used, in cores (1.0: one core busy all along), by the server, by the children this
    process waits for (the load generator), and by PostgreSQL, between `start` and `stop`;
    and the largest memory figures of the server's processes, sampled meanwhile."""

    def __init__(self, server_pids: list[int] | None) -> None:
        self.server_pids = server_pids or []
        self.peak: dict[str, float] = {}
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> Usage:
        self._begin = (
            time.monotonic(),
            cpu_times(self.server_pids),
            _children_cpu(),
            cpu_times(postgres_pids()),
        )
        if self.server_pids:
            self._sampler.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        wall = max(time.monotonic() - self._begin[0], 1e-9)
        self.server = cpu_used(self._begin[1], cpu_times(self.server_pids)) / wall
        self.children = (_children_cpu() - self._begin[2]) / wall
        self.postgres = cpu_used(self._begin[3], cpu_times(postgres_pids())) / wall
        self._stop.set()
        if self._sampler.is_alive():
            self._sampler.join(timeout=5)

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            for pid in self.server_pids:
                for name, value in proc_status(pid, ("VmRSS", "RssAnon", "RssFile")).items():
                    self.peak[name] = max(self.peak.get(name, 0.0), value)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM of a process (its peak resident set), in MB; None when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None
