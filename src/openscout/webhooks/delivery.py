"""The deliverer: claims due deliveries from the outbox and POSTs them (docs/webhooks.md).

One runs in each process of `openscout serve` (in the app's lifespan, http/app.py) and in
`openscout deliver`. It leases due deliveries (store/webhooks.py) and sends them, up to `BATCH`
at once, recording each attempt as it ends; it claims more as attempts end, when a write of
this process records an event (`wake`), when the next retry falls due, or every `POLL` seconds
(events recorded by other processes, leases that ran out). On SQLite one process of a
database file delivers: the one holding a lock on `<file>-deliver.lock` (`FileGate`), which the
system lets go when the process ends however it ends.

A deliverer that dies mid-attempt leaves its leases behind; once they run out (`lease_seconds`:
twice the timeout and a little), another claims the deliveries and sends them again. That, and
a receiver that acknowledges too late, are how the same event can arrive twice.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import secrets
import socket
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from openscout import __version__
from openscout.config import Settings, sqlite_path
from openscout.contract.v2 import webhooks as wire
from openscout.domain.errors import StoreUnavailable
from openscout.domain.webhooks import Outcome, signature
from openscout.store.base import Attempt, Claim, Store
from openscout.webhooks import service
from openscout.webhooks.targets import Targets

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("openscout.webhooks")

#: Attempts under way at once, at most.
BATCH = 32
#: Seconds between looks at the outbox when nothing woke the deliverer.
POLL = 1.0
#: Seconds a deliverer woken by a write waits for more before it claims.
GATHER = 0.01
#: Seconds between prunings of finished deliveries.
PRUNE_EVERY = 60.0
#: The most of a receiver's answer that is read (and thrown away).
ANSWER_BYTES = 64 * 1024
USER_AGENT = f"openscout/{__version__}"


async def stopped(deliverer: Deliverer, task: asyncio.Task[None]) -> None:
    """Stop a running deliverer: the attempts under way end and are recorded (they take at
    most the timeout), then it is cancelled if it has not ended."""
    deliverer.stop()
    with suppress(asyncio.CancelledError, TimeoutError):
        await asyncio.wait_for(asyncio.shield(task), deliverer.timeout + 5)
    if not task.done():
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


def lease_seconds(timeout: float) -> float:
    """How long a claim holds: time for the attempt (`timeout`) and to record it, twice over."""
    return 2 * timeout + 2


class FileGate:
    """One deliverer per SQLite file: an exclusive lock on a file beside the database, taken
    without waiting and held until `release` or the end of the process (the system lets go of
    it then, even after kill -9). Where the system has no such locks, every process delivers
    (the leases still keep them from sending one delivery twice)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None

    @property
    def is_held(self) -> bool:
        return self._file is not None

    def try_acquire(self) -> bool:
        if self._file is not None:
            return True
        try:
            import fcntl
        except ImportError:  # pragma: no cover (not on Linux or macOS)
            return True
        try:
            held = self.path.open("ab")
        except OSError as error:
            log.warning("cannot open the delivery lock %s: %s", self.path, error)
            return False
        try:
            fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            held.close()
            return False
        self._file = held
        return True

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing lets go of the lock
            self._file = None


def gate_for(database_url: str) -> FileGate | None:
    """The gate of a SQLite file database; None where any number of processes deliver."""
    path = sqlite_path(database_url)
    return None if path is None else FileGate(path.with_name(f"{path.name}-deliver.lock"))


class Deliverer:
    """Delivers the outbox of `store` until cancelled (`run`). `backoff`, `timeout`, `targets`
    and `retention` are the `--webhook-*` settings; `gate`, a SQLite file's `FileGate`."""

    def __init__(
        self,
        store: Store,
        *,
        backoff: float,
        timeout: float,
        targets: Targets,
        retention: float,
        gate: FileGate | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.backoff = backoff
        self.timeout = timeout
        self.targets = targets
        self.retention = retention
        self.gate = gate
        self.clock = clock
        #: Who holds a claim: this deliverer of this process of this machine.
        self.owner = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._wakeup: asyncio.Event | None = None
        self._stopping = False
        self._pruned = 0.0
        #: Attempts that ended and wait to be recorded, with what their sender awaits.
        self._ended: list[tuple[Attempt, asyncio.Future[Outcome | None]]] = []
        self._recorder: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(cls, settings: Settings, store: Store) -> Deliverer:
        return cls(
            store,
            backoff=settings.webhook_backoff,
            timeout=settings.webhook_timeout,
            targets=Targets(settings.webhook_allow),
            retention=settings.webhook_retention,
            gate=gate_for(settings.database_url),
        )

    def wake(self) -> None:
        """Look at the outbox now: events were recorded. From any thread; before `run` has
        started, nothing (it looks first thing anyway)."""
        loop, wakeup = self._loop, self._wakeup
        if loop is None or wakeup is None:
            return
        if threading.get_ident() == self._loop_thread:
            wakeup.set()
        else:
            with suppress(RuntimeError):  # the loop has closed: the deliverer is gone
                loop.call_soon_threadsafe(wakeup.set)

    def stop(self) -> None:
        """End `run` once the attempts under way are recorded (from the loop's thread)."""
        self._stopping = True
        self.wake()

    async def run(self) -> None:
        """Deliver until stopped (`stop`) or cancelled. Up to `BATCH` attempts are under way at
        once, and more are claimed as they end: a slow receiver holds up only its own. Nothing
        it meets ends it: a database that does not answer, or anything unexpected, is logged,
        and it tries again a moment later. Cancelled, the attempts under way are not recorded:
        they are made again once their leases run out; `stop` lets them end first."""
        import httpx

        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._wakeup = asyncio.Event()
        limits = httpx.Limits(max_connections=BATCH, max_keepalive_connections=BATCH)
        under_way: set[asyncio.Task[None]] = set()
        try:
            async with httpx.AsyncClient(
                timeout=self.timeout,
                limits=limits,
                follow_redirects=False,
                # Receivers are called directly: a proxy from the environment would stand
                # between them and `--webhook-allow`.
                trust_env=False,
                headers={"User-Agent": USER_AGENT},
            ) as http:
                try:
                    while not self._stopping:
                        try:
                            pause = await self._start_due(http, under_way)
                        except StoreUnavailable as error:
                            log.warning("webhooks: the database is unavailable: %s", error)
                            pause = POLL
                        except Exception:
                            log.exception("webhooks: delivery failed unexpectedly")
                            pause = POLL
                        if pause > 0 and not self._stopping:
                            await self._wait(pause, under_way)
                    if under_way:  # stopped: the attempts under way end and are recorded
                        await asyncio.wait(under_way)
                finally:
                    pending = [*under_way, *([self._recorder] if self._recorder else [])]
                    for task in pending:
                        task.cancel()
                    await asyncio.gather(*pending, return_exceptions=True)
        finally:
            if self.gate is not None:
                self.gate.release()

    async def _start_due(
        self, http: httpx.AsyncClient, under_way: set[asyncio.Task[None]]
    ) -> float:
        """Claim due deliveries for the room there is and start sending them; the seconds to
        wait before looking again (an attempt that ends, or a wake, ends the wait sooner)."""
        room = BATCH - len(under_way)
        if under_way and room < BATCH // 4:
            return POLL  # claims come in handfuls, not one per attempt that ends
        if self.gate is not None and not self.gate.try_acquire():
            return POLL
        await self._prune()
        claimed = await self.store.run(
            service.claim_deliveries,
            self.store,
            self.owner,
            self._now_ms(),
            round(lease_seconds(self.timeout) * 1000),
            room,
        )
        for claim in claimed.claims:
            task = asyncio.ensure_future(self._deliver(http, claim))
            under_way.add(task)
            task.add_done_callback(under_way.discard)
        if claimed.claims:
            return POLL
        if claimed.next_due_ms is None:
            return POLL
        return min(POLL, max(0.0, (claimed.next_due_ms - self._now_ms()) / 1000))

    async def deliver_round(self, http: httpx.AsyncClient) -> None:
        """Claim up to `BATCH` due deliveries and send them, waiting for every attempt to end
        and be recorded: one step of what `run` does all along, for tests."""
        under_way: set[asyncio.Task[None]] = set()
        await self._start_due(http, under_way)
        await asyncio.gather(*under_way)

    async def _deliver(self, http: httpx.AsyncClient, claim: Claim) -> None:
        import httpx

        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            async with asyncio.timeout(self.timeout):
                error = await self.targets.refusal(claim.url)
                if error is None:
                    async with http.stream(
                        "POST", claim.url, content=claim.body, headers=headers(claim)
                    ) as response:
                        status = response.status_code
                        await _drain(response)
        except TimeoutError:
            error = f"no answer within {self.timeout:g} s"
        except httpx.HTTPError as failure:
            error = _described(failure)
        except Exception as failure:  # whatever else a URL or a receiver brings: a failure
            log.warning("webhooks: an attempt failed unexpectedly", exc_info=failure)
            error = _described(failure)
        attempt = Attempt(
            claim=claim,
            owner=self.owner,
            at_ms=self._now_ms(),
            status=status,
            duration_ms=round((time.monotonic() - started) * 1000),
            error=error,
        )
        try:
            outcome = await self._record(attempt)
        except Exception:
            log.exception("webhooks: an attempt could not be recorded")
            return
        if outcome is not None and outcome is not Outcome.DELIVERED:
            log.info(
                "webhook delivery %s",
                "failed" if outcome is not Outcome.GONE else "answered 410 Gone",
                extra={"fields": _fields(attempt, outcome)},
            )

    async def _record(self, attempt: Attempt) -> Outcome | None:
        """Record an attempt, in one transaction with the others that end meanwhile (one such
        transaction at a time); its outcome, or None when it could not be recorded (once its
        lease runs out, the delivery is made again)."""
        recorded: asyncio.Future[Outcome | None] = asyncio.get_running_loop().create_future()
        self._ended.append((attempt, recorded))
        if self._recorder is None or self._recorder.done():
            self._recorder = asyncio.ensure_future(self._record_ended())
        return await recorded

    async def _record_ended(self) -> None:
        while self._ended:
            batch, self._ended = self._ended, []
            try:
                outcomes: list[Outcome | None] = list(
                    await self.store.run(
                        service.finish_attempts,
                        self.store,
                        [attempt for attempt, _ in batch],
                        self.backoff,
                        [random.random() for _ in batch],
                    )
                )
            except StoreUnavailable as unavailable:
                log.warning("webhooks: attempts could not be recorded: %s", unavailable)
                outcomes = [None] * len(batch)
            except Exception as error:
                for _, recorded in batch:
                    if not recorded.done():
                        recorded.set_exception(error)
                continue
            for (_, recorded), outcome in zip(batch, outcomes, strict=True):
                if not recorded.done():  # its attempt was cancelled meanwhile
                    recorded.set_result(outcome)

    async def _prune(self) -> None:
        if time.monotonic() - self._pruned < PRUNE_EVERY:
            return
        self._pruned = time.monotonic()
        now_ms = self._now_ms()
        before_ms = now_ms - round(self.retention * 1000)
        while (
            await self.store.run(service.prune_deliveries, self.store, before_ms, now_ms)
            == service.PRUNE_BATCH
        ):
            pass

    async def _wait(self, seconds: float, under_way: set[asyncio.Task[None]]) -> None:
        """Until woken, an attempt under way ends, or `seconds` pass."""
        assert self._wakeup is not None
        woken = asyncio.ensure_future(self._wakeup.wait())
        try:
            await asyncio.wait(
                {woken, *under_way}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            woken.cancel()
        if self._wakeup.is_set() and not self._stopping:
            # Woken by a write: the writes of the next moment are claimed with it, together.
            await asyncio.sleep(GATHER)
        self._wakeup.clear()

    def _now_ms(self) -> int:
        return round(self.clock() * 1000)


async def _drain(response: httpx.Response) -> None:
    """Read what the receiver answered, up to `ANSWER_BYTES` and thrown away: a connection
    whose answer was read to its end is kept for the next delivery; past that, it is closed."""
    read = 0
    async for chunk in response.aiter_raw():
        read += len(chunk)
        if read > ANSWER_BYTES:
            break


def headers(claim: Claim) -> dict[str, str]:
    """The headers of a delivery (spec §7): the event, the signature of the exact body, and
    the event's id, the same on every attempt."""
    return {
        "Content-Type": wire.CONTENT_TYPE,
        wire.EVENT_HEADER: claim.event,
        wire.SIGNATURE_HEADER: signature(claim.secret, claim.body),
        wire.EVENT_ID_HEADER: claim.event_id,
    }


def _described(failure: Exception) -> str:
    detail = str(failure).strip().splitlines()
    return f"{type(failure).__name__}: {detail[0]}" if detail else type(failure).__name__


def _fields(attempt: Attempt, outcome: Outcome) -> dict[str, Any]:
    claim = attempt.claim
    return {
        "webhook": claim.webhook_id,
        "event": claim.event,
        "event_id": claim.event_id,
        "attempt": claim.attempts + 1,
        "status": attempt.status,
        "error": attempt.error,
        "outcome": outcome.value,
    }
