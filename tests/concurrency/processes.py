"""Real `openscout serve` processes on loopback ports, and bursts of requests against them."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

STARTUP_SECONDS = 60
STOP_SECONDS = 15


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ServeProcess:
    """One `openscout serve` (with its uvicorn workers) in a process group of its own, so that a
    test can kill the whole of it at once."""

    def __init__(
        self,
        database_url: str,
        log: Path,
        *,
        workers: int = 1,
        pool_size: int = 4,
        port: int | None = None,
        options: Sequence[str] = (),
        plain: bool = False,
    ) -> None:
        self.database_url = database_url
        self.options = tuple(options)  # more `serve` options, after (so over) the defaults
        #: Only the database URL and the port (and `options`): the defaults a user gets.
        self.plain = plain
        self.log = log
        self.workers = workers
        self.pool_size = pool_size
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServeProcess:
        """Start the process; does not wait for it (see `wait_ready`)."""
        environment = {k: v for k, v in os.environ.items() if not k.startswith("OPENSCOUT_")}
        environment["PYTHONUNBUFFERED"] = "1"
        command = [
            sys.executable,
            "-m",
            "openscout",
            "serve",
            "--database-url",
            self.database_url,
            "--port",
            str(self.port),
        ]
        if not self.plain:
            command += self._tuned()
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [*command, *self.options],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=environment,
                start_new_session=True,
            )
        return self

    def _tuned(self) -> list[str]:
        """The options of the process tests: a known number of workers and connections, no
        limits, quiet."""
        return [
            "--host",
            "127.0.0.1",
            "--workers",
            str(self.workers),
            "--pool-size",
            str(self.pool_size),
            "--log-level",
            "warning",
            # Bursts of writes from one account: rate limits would refuse most of them.
            "--rate-limit",
            "0",
            "--burst-limit",
            "0",
            "--no-access-log",
        ]

    def wait_ready(self) -> ServeProcess:
        """Wait until `/healthz` answers 200 (bounded); fail with the log if it never does."""
        deadline = time.monotonic() + STARTUP_SECONDS
        with httpx.Client(base_url=self.url, timeout=5) as http:
            while time.monotonic() < deadline:
                if not self.is_running():
                    raise AssertionError(f"openscout serve exited early:\n{self.output()}")
                try:
                    if http.get("/healthz").status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        raise AssertionError(f"openscout serve did not become ready:\n{self.output()}")

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """kill -9 the server and its workers at once."""
        if self.process is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=STOP_SECONDS)

    def stop(self) -> None:
        """Ask the server to stop; kill it (and its workers) if it does not in time."""
        if self.process is None:
            return
        try:
            if self.process.poll() is None:
                self.process.terminate()
                with suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=STOP_SECONDS)
        finally:
            self.kill()

    def output(self) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text[-4000:]


@contextmanager
def serving(
    database_url: str,
    directory: Path,
    count: int,
    *,
    workers: int = 1,
    pool_size: int = 4,
    options: Sequence[str] = (),
) -> Iterator[list[ServeProcess]]:
    """`count` servers on one database, started together; all stopped afterwards."""
    with ExitStack() as stack:
        servers = []
        for number in range(count):
            server = ServeProcess(
                database_url,
                directory / f"serve-{number}-{time.monotonic_ns()}.log",
                workers=workers,
                pool_size=pool_size,
                options=options,
            )
            stack.callback(server.stop)
            servers.append(server.start())
        for server in servers:
            server.wait_ready()
        yield servers


@dataclass(frozen=True)
class Call:
    """One request of a burst."""

    base_url: str
    method: str
    path: str
    body: Any = None


@dataclass(frozen=True)
class Outcome:
    """What the client was told: a status and body, or the transport error it got instead."""

    call: Call
    status: int | None
    body: bytes = b""
    headers: httpx.Headers | None = None
    error: str | None = None

    def json(self) -> Any:
        return json.loads(self.body)


def burst(
    calls: Sequence[Call],
    auth: tuple[str, str],
    *,
    concurrency: int,
    on_outcome: Callable[[int], None] | None = None,
) -> list[Outcome]:
    """Send every call, `concurrency` at a time; `on_outcome(n)` runs after the n-th answer.
    Outcomes come back in the order of `calls`."""
    return asyncio.run(_burst(calls, auth, concurrency, on_outcome))


async def _burst(
    calls: Sequence[Call],
    auth: tuple[str, str],
    concurrency: int,
    on_outcome: Callable[[int], None] | None,
) -> list[Outcome]:
    gate = asyncio.Semaphore(concurrency)
    finished = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(auth=auth, timeout=60, limits=limits) as http:

        async def send(call: Call) -> Outcome:
            nonlocal finished
            async with gate:
                try:
                    response = await http.request(
                        call.method, call.base_url + call.path, json=call.body
                    )
                    outcome = Outcome(
                        call, response.status_code, response.content, response.headers
                    )
                except httpx.TransportError as error:
                    outcome = Outcome(call, None, error=f"{type(error).__name__}: {error}")
            finished += 1
            if on_outcome is not None:
                on_outcome(finished)
            return outcome

        return list(await asyncio.gather(*(send(call) for call in calls)))
