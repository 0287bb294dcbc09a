"""The serving process as clients and operators meet it, through real `openscout serve`
processes on loopback ports, spoken to over plain sockets where an HTTP client would tidy the
request up: raw bytes in query strings, a port already in use, one JSON log format, clients
that hang up in the middle of a body, and bodies that never finish. The refusals made before
anything starts (a port in use, bad settings) run the command in this process (`cli.main`)."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest

from openscout import cli
from openscout.store import schema
from openscout.store.engine import SqlStore
from tests.conftest import new_account

#: Every wait for a process or a socket is bounded by this many seconds.
PATIENCE = 30
SERVERS = ["uvicorn", "granian"]
#: Bytes that v1 clients send unencoded in the search language (issue 13 §2).
RAW_QUERY_BYTES = '"{}|^<>`[]\\'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def environment(database_url: str, **extra: str) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("OPENSCOUT_")}
    return {**environ, "OPENSCOUT_DATABASE_URL": database_url, **extra}


class Serve:
    """A running `openscout serve` whose stdout and stderr are collected line by line."""

    def __init__(self, arguments: list[str], environ: dict[str, str], cwd: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "openscout", "serve", "--port", str(self.port), *arguments],
            cwd=cwd,
            env=environ,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self.readers = [
            threading.Thread(target=self._read, args=(self.popen.stdout, self.out), daemon=True),
            threading.Thread(target=self._read, args=(self.popen.stderr, self.err), daemon=True),
        ]
        for reader in self.readers:
            reader.start()

    @staticmethod
    def _read(stream: Any, lines: list[str]) -> None:
        for line in stream:
            lines.append(line.rstrip("\n"))

    def wait_until_it_answers(self) -> None:
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            assert self.popen.poll() is None, f"the server exited: {self.out} {self.err}"
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"the server did not answer: {self.out} {self.err}")

    def wait_for(self, lines: list[str], marker: str) -> None:
        """Wait (bounded) until a line holding `marker` was written to `lines`."""
        deadline = time.monotonic() + PATIENCE
        while not any(marker in line for line in list(lines)):
            assert time.monotonic() < deadline, (marker, self.out, self.err)
            time.sleep(0.05)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=PATIENCE)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=PATIENCE)
        for reader in self.readers:
            reader.join(timeout=5)
        for stream in (self.popen.stdout, self.popen.stderr):
            if stream is not None:
                stream.close()


@contextmanager
def serving(tmp_path: Path, *arguments: str, **environ: str) -> Iterator[Serve]:
    database_url = f"sqlite:///{tmp_path / 'openscout.db'}"
    server = Serve(list(arguments), environment(database_url, **environ), tmp_path)
    try:
        server.wait_until_it_answers()
        yield server
    finally:
        server.stop()


def raw_exchange(port: int, request: bytes) -> bytes:
    """Send `request` as it is over a new connection; everything the server sends back until
    it closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def status_and_body(response: bytes) -> tuple[int, bytes]:
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def key_for(tmp_path: Path) -> str:
    """A key of a fresh account in the database the server of `serving` uses."""
    store = SqlStore(f"sqlite:///{tmp_path / 'openscout.db'}")
    try:
        schema.upgrade(store)
        return new_account(store).key
    finally:
        store.close()


def basic(key: str) -> bytes:
    return b"Basic " + base64.b64encode(f"{key}:X".encode())


class Command(Protocol):
    def __call__(self, *arguments: str, **environ: str) -> tuple[int, str, str]: ...


def _never_served(*_: object) -> None:
    raise AssertionError("the HTTP server was started")


@pytest.fixture
def command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Command:
    """`openscout ARGUMENTS` in this process (`cli.main`), on a database file in tmp_path, with
    these `OPENSCOUT_*` variables only and no HTTP server ever started: its exit status,
    stdout and stderr."""

    def run(*arguments: str, **environ: str) -> tuple[int, str, str]:
        with monkeypatch.context() as patch:
            for name in [name for name in os.environ if name.startswith("OPENSCOUT_")]:
                patch.delenv(name)
            patch.setenv("OPENSCOUT_DATABASE_URL", f"sqlite:///{tmp_path / 'openscout.db'}")
            for name, value in environ.items():
                patch.setenv(name, value)
            patch.chdir(tmp_path)
            for runner in ("_run_uvicorn", "_run_granian"):
                patch.setattr(cli, runner, _never_served)
            capsys.readouterr()
            code = cli.main(list(arguments))
            out, err = capsys.readouterr()
        return code, out, err

    return run


# -- raw bytes in the query string, on the default server ------------------------------------


def test_raw_quotes_and_brackets_in_a_query_string_reach_the_app(tmp_path: Path) -> None:
    key = key_for(tmp_path)
    auth = basic(key)
    with serving(tmp_path) as server:  # the default server
        with httpx.Client(base_url=server.url, auth=(key, "X"), timeout=10) as http:
            # A customer whose first name holds each byte clients leave unencoded.
            for byte in RAW_QUERY_BYTES:
                created = http.post(
                    "/v1/customers.json", json={"firstName": f"A{byte}B", "lastName": "Raw"}
                )
                assert created.status_code == 201, created.text
            created = http.post(
                "/v1/customers.json",
                json={"firstName": "Ann", "lastName": "Lee", "emails": [{"value": "ann@x.com"}]},
            )
            assert created.status_code == 201, created.text

        def get(target: bytes) -> tuple[int, Any]:
            answer = raw_exchange(
                server.port,
                b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nAuthorization: " + auth + b"\r\n"
                b"Connection: close\r\n\r\n",
            )
            status, body = status_and_body(answer)
            assert body, answer  # an answer of the app's, never an empty 400 of the server's
            return status, json.loads(body)

        # The search of v1 clients that send the search language as it is (issue 13 §2).
        status, found = get(b'/v1/search/customers.json?query=(email:"ann@x.com")&page=1')
        assert status == 200, found
        assert [item["firstName"] for item in found["items"]] == ["Ann"]
        # Each byte reaches the app unchanged: the list filter finds the name holding it.
        for byte in RAW_QUERY_BYTES:
            status, found = get(b"/v1/customers.json?firstName=A" + byte.encode() + b"B")
            assert status == 200, (byte, found)
            assert [item["firstName"] for item in found["items"]] == [f"A{byte}B"], byte
        # Every other printable byte but space (and `#`, which starts a fragment and which no
        # HTTP client sends) is answered by the app too, whatever the search makes of it.
        for code in range(0x21, 0x7F):
            if chr(code) in " #":
                continue
            status, answer = get(b"/v1/search/customers.json?query=a" + bytes([code]) + b"b")
            assert status in (200, 400), (chr(code), status, answer)
            assert "error" in answer or "items" in answer, (chr(code), answer)


# -- a port in use ---------------------------------------------------------------------------


@pytest.mark.parametrize("server_name", SERVERS)
def test_a_port_in_use_is_one_line_and_exit_1_before_anything_starts(
    command: Command, tmp_path: Path, server_name: str
) -> None:
    with socket.socket() as holder:
        # As granian listens: with SO_REUSEPORT, which let a second server share the port.
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = command("serve", "--port", str(port), OPENSCOUT_SERVER=server_name)
    assert done == (1, "", f"openscout: port {port} is in use\n")
    assert not (tmp_path / "openscout.db").exists()  # nothing was started, nothing made


def test_a_port_out_of_range_is_one_line_and_exit_2_before_anything_starts(
    command: Command, tmp_path: Path
) -> None:
    # The resolver took 99999 for another port; the port setting's parser refuses it.
    done = command("serve", "--port", "99999")
    assert done == (2, "", "openscout: bad setting: --port=99999 is too large (at most 65535)\n")
    assert not (tmp_path / "openscout.db").exists()


# -- one log format --------------------------------------------------------------------------


@pytest.mark.parametrize("server_name", SERVERS)
def test_every_line_served_to_a_pipe_is_json_with_time_level_and_logger(
    tmp_path: Path, server_name: str
) -> None:
    with serving(tmp_path, "--server", server_name) as server:
        key = json.loads(next(line for line in server.out if '"key"' in line))["key"]
        with httpx.Client(base_url=server.url, auth=(key, "X"), timeout=10) as http:
            assert http.get("/v1/customers.json").status_code == 200
        server.wait_for(server.out, '"path":"/v1/customers.json"')
    assert server.popen.returncode == 0 or server.popen.returncode == -signal.SIGTERM
    lines = [json.loads(line) for line in server.out + server.err]  # every line is JSON
    for line in lines:
        assert list(line)[:3] == ["time", "level", "logger"], line
        assert line["time"].endswith("Z")
    messages = [(line["logger"], line.get("message", "")) for line in lines]
    assert any(logger == "openscout" and "serving the Help Scout" in m for logger, m in messages)
    # The HTTP server's own lines, through the same formatter.
    server_logger = "uvicorn.error" if server_name == "uvicorn" else "_granian"
    assert any(logger == server_logger for logger, _ in messages), messages
    access = [line for line in lines if line["logger"] == "openscout.access"]
    assert any(
        (line["method"], line["path"], line["status"]) == ("GET", "/v1/customers.json", 200)
        for line in access
    )


# -- a client that hangs up in the middle of its body ----------------------------------------


@pytest.mark.parametrize("server_name", SERVERS)
def test_a_client_hanging_up_mid_body_is_an_info_line_not_an_error(
    tmp_path: Path, server_name: str
) -> None:
    auth = basic(key_for(tmp_path))  # credentials are checked before the body is read
    with serving(tmp_path, "--server", server_name) as server:
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", server.port), timeout=PATIENCE) as sock:
                # The server says `100 Continue` once the app asks for the body: the client
                # goes while the app is reading it, however busy the machine.
                sock.sendall(
                    b"POST /v1/customers.json HTTP/1.1\r\nHost: x\r\nAuthorization: "
                    + auth
                    + b"\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 1000\r\n"
                    b"Expect: 100-continue\r\n\r\n"
                )
                assert sock.recv(1024).startswith(b"HTTP/1.1 100 Continue")
                sock.sendall(b'{"firstNa')
        server.wait_for(server.err, "client disconnected")
        server.wait_for(server.out, '"status":499')
        assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
    lines = [json.loads(line) for line in server.out + server.err]
    disconnects = [line for line in lines if "client disconnected" in line.get("message", "")]
    assert len(disconnects) == 3
    assert {line["level"] for line in disconnects} == {"info"}
    assert all(line["path"] == "/v1/customers.json" for line in disconnects)
    assert not [line for line in lines if "exception" in line or line["level"] == "error"]
    assert not [line for line in lines if line.get("status") == 500]
    assert not any("Traceback" in line for line in server.out + server.err)


# -- a body that never finishes --------------------------------------------------------------


@pytest.mark.parametrize("server_name", SERVERS)
def test_a_body_that_never_finishes_is_answered_408_and_its_connection_closed(
    tmp_path: Path, server_name: str
) -> None:
    auth = basic(key_for(tmp_path))  # credentials are checked before the body is read
    with serving(tmp_path, "--server", server_name, "--body-timeout", "0.5") as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=PATIENCE) as sock:
            sock.sendall(
                b"PUT /v1/customers/1.json HTTP/1.1\r\nHost: x\r\nAuthorization: " + auth + b"\r\n"
                b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
            )
            received = b""
            sock.settimeout(0.2)
            for _ in range(int(PATIENCE / 0.2)):  # a byte every 0.2 s, at most PATIENCE s
                try:
                    sock.sendall(b" ")
                except OSError:  # closed by the server
                    break
                try:
                    chunk = sock.recv(65536)
                except TimeoutError:
                    continue
                except ConnectionResetError:  # closed with unread bytes of ours, after answering
                    break
                received += chunk
                if not chunk:  # closed by the server, after its answer
                    break
            sock.settimeout(PATIENCE)
            try:
                while chunk := sock.recv(65536):
                    received += chunk
            except ConnectionResetError:  # the server closed with unread bytes of ours
                pass
        status, body = status_and_body(received)
        assert (status, json.loads(body)) == (
            408,
            {"code": 408, "error": "The request body did not arrive in time"},
        )
        assert b"connection: close" in received.lower()
        server.wait_for(server.out, '"status":408')
    assert not any("Traceback" in line for line in server.out + server.err)


def test_a_body_in_time_is_served_and_the_connection_kept(tmp_path: Path) -> None:
    key = key_for(tmp_path)
    with (
        serving(tmp_path, "--body-timeout", "5") as server,
        httpx.Client(base_url=server.url, auth=(key, "X"), timeout=10) as http,
    ):
        for _ in range(3):
            created = http.post("/v1/customers.json", json={"firstName": "Ann", "lastName": "Lee"})
            assert created.status_code == 201, created.text
            assert "connection" not in created.headers


@pytest.mark.parametrize(
    ("arguments", "environ", "message"),
    [
        (["--body-timeout", "0"], {}, "--body-timeout=0 is not above 0"),
        (["--body-timeout", "inf"], {}, "--body-timeout=inf is not a finite number"),
        ([], {"OPENSCOUT_BODY_TIMEOUT": "soon"}, "OPENSCOUT_BODY_TIMEOUT='soon' is not a number"),
        ([], {"OPENSCOUT_BODY_TIMEOUT": "-1"}, "OPENSCOUT_BODY_TIMEOUT='-1' is not above 0"),
        ([], {"OPENSCOUT_BODY_TIMEOUT": "nan"}, "OPENSCOUT_BODY_TIMEOUT='nan' is not a finite"),
    ],
)
def test_a_body_timeout_must_be_a_positive_number(
    command: Command, tmp_path: Path, arguments: list[str], environ: dict[str, str], message: str
) -> None:
    code, out, err = command("serve", *arguments, **environ)
    assert (code, out) == (2, ""), err
    assert err.startswith(f"openscout: bad setting: {message}")
    assert len(err.splitlines()) == 1, err
    assert not (tmp_path / "openscout.db").exists()
