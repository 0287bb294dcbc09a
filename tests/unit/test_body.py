"""Where request bodies are decoded (http/body.py), and how a serving process is tuned
(http/asgi.py): large work never runs on the event loop, and the garbage collector's full
passes do not walk what was built at startup."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from pathlib import Path

from openscout.http.body import LARGE_BODY, decoded


def _decoding_thread(body: bytes, suffix: str) -> tuple[int, str]:
    return threading.get_ident(), body.decode()[:3] + suffix


def test_a_small_body_is_decoded_on_the_event_loop() -> None:
    async def scenario() -> tuple[int, tuple[int, str]]:
        return threading.get_ident(), await decoded(_decoding_thread, b"abc", "!")

    loop_thread, (decoding_thread, result) = asyncio.run(scenario())
    assert decoding_thread == loop_thread
    assert result == "abc!"


def test_a_large_body_is_decoded_in_a_worker_thread() -> None:
    body = b"x" * (LARGE_BODY + 1)

    async def scenario() -> tuple[int, tuple[int, str]]:
        return threading.get_ident(), await decoded(_decoding_thread, body, "?")

    loop_thread, (decoding_thread, result) = asyncio.run(scenario())
    assert decoding_thread != loop_thread
    assert result == "xxx?"


def test_a_body_of_exactly_the_bound_stays_on_the_loop() -> None:
    async def scenario() -> bool:
        loop_thread = threading.get_ident()
        decoding_thread, _ = await decoded(_decoding_thread, b"y" * LARGE_BODY, "")
        return decoding_thread == loop_thread

    assert asyncio.run(scenario())


def test_a_serving_process_is_tuned_when_its_app_is_built(tmp_path: Path) -> None:
    """The worker's app factory shortens the switch interval and freezes the startup heap."""
    script = (
        "import gc, sys\n"
        "from openscout.http import asgi\n"
        "before = (sys.getswitchinterval(), gc.get_freeze_count())\n"
        "asgi.app()\n"
        "print(before[0], before[1], sys.getswitchinterval(), gc.get_freeze_count() > 1000)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={"OPENSCOUT_DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    before_interval, before_frozen, after_interval, frozen = done.stdout.split()
    assert float(before_interval) == 0.005
    assert before_frozen == "0"
    assert float(after_interval) == 0.001
    assert frozen == "True"
