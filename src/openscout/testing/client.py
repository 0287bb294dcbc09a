"""`HelpScoutAccount`: one account of an openscout server, and its control API from Python.

Every method is one call of the control API (docs/testing.md) over HTTP, made with the standard
library alone, so the same handle works for a server in this process (`HelpScoutServer`) and
for one started elsewhere with `openscout serve --control-api`.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openscout.testing.receiver import WebhookDelivery
    from openscout.testing.webhooks import AccountWebhooks

#: Where the control API is served.
CONTROL_PREFIX = "/_openscout"
#: Fixtures: a path to a JSON file, the JSON text as bytes, or the data itself.
FixtureSource = str | os.PathLike[str] | bytes | list[Any] | Mapping[str, Any]


@functools.cache
def _opener() -> Any:
    """urllib, loaded on first use (it takes a while to import), that never sends control
    requests through a proxy named in the environment: test servers are on loopback."""
    import urllib.request

    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ControlError(Exception):
    """The control API refused a request: its status and v1-shaped body (`code`, `error`, and
    `validationErrors` for fixtures that do not validate)."""

    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        detail = body.get("error") if isinstance(body, dict) else body
        problems = body.get("validationErrors") if isinstance(body, dict) else None
        if problems:
            detail = f"{detail}: " + "; ".join(
                f"{p.get('property')} {p.get('value')!r}: {p.get('message')}" for p in problems
            )
        super().__init__(f"{status} {detail}")


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request of the journal, as the server received it."""

    seq: int
    time: datetime
    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: str
    json: Any
    status: int
    #: The fault that answered or delayed it (`id`, `status`, `delayMs`, `processed`,
    #: `handledStatus`), or None.
    fault: Mapping[str, Any] | None
    body_truncated: bool = False

    @property
    def params(self) -> dict[str, str]:
        """The query parameters (the last value of a repeated one)."""
        return dict(urllib.parse.parse_qsl(self.query, keep_blank_values=True))

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> RecordedRequest:
        return cls(
            seq=item["seq"],
            time=_moment(item["time"]),
            method=item["method"],
            path=item["path"],
            query=item["query"],
            headers=item["headers"],
            body=item["body"],
            json=item["json"],
            status=item["status"],
            fault=item["fault"],
            body_truncated=item["bodyTruncated"],
        )


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A snapshot the server keeps of one account's customers (restore it with `restore`)."""

    id: int
    taken_at: datetime
    count: int


@dataclass(frozen=True, slots=True)
class Fault:
    """A queued fault: the next `remaining` matching requests get `status` after `delay_ms`."""

    id: int
    remaining: int
    status: int | None
    method: str | None
    path: str | None
    retry_after: int | None
    delay_ms: int | None
    processed: bool

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> Fault:
        return cls(
            item["id"],
            item["remaining"],
            item["status"],
            item["method"],
            item["path"],
            item["retryAfter"],
            item["delayMs"],
            item["processed"],
        )


class HelpScoutAccount:
    """An account of an openscout server with the control API on: its URL, its key, and the
    control operations, each scoped to this account alone."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        account: str | None = None,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        #: The account's name (as `openscout keys list` shows it).
        self.account = account
        #: The id and secret of the account's own OAuth app, for v2 clients (None for a handle
        #: made from a key alone).
        self.client_id = client_id
        self.client_secret = client_secret
        self._authorization = "Basic " + base64.b64encode(f"{api_key}:X".encode()).decode()
        self._v2_token: str | None = None
        self._webhooks: AccountWebhooks | None = None

    def __repr__(self) -> str:
        return f"<HelpScoutAccount {self.account or '?'} at {self.base_url}>"

    @property
    def auth(self) -> tuple[str, str]:
        """HTTP Basic credentials for httpx or requests: the key as user name (spec §3)."""
        return (self.api_key, "X")

    @property
    def v2_token(self) -> str:
        """An access token of the account's app (the client-credentials grant, spec v2 §1),
        asked for on first use and kept: what a v2 client sends as `Bearer`."""
        if self._v2_token is None:
            self._v2_token = self.new_v2_token()
        return self._v2_token

    @property
    def v2_auth(self) -> str:
        """The `Authorization` header of a v2 request: `Bearer <v2_token>`, e.g.
        `httpx.Client(headers={"Authorization": helpscout.v2_auth})`."""
        return f"Bearer {self.v2_token}"

    def new_v2_token(self) -> str:
        """A fresh access token of the account's app, from `POST /v2/oauth2/token`."""
        if self.client_id is None or self.client_secret is None:
            raise ValueError(f"{self!r} was made without its app's client id and secret")
        form = urllib.parse.urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            }
        ).encode()
        answer = self._send(
            "POST",
            f"{self.base_url}/v2/oauth2/token",
            form,
            {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        )
        token: str = answer["access_token"]
        return token

    def url(self, path: str) -> str:
        """An absolute URL on this server, e.g. `url("/v1/customers.json")`."""
        return f"{self.base_url}/{path.lstrip('/')}"

    # -- accounts and data

    def new_account(self) -> HelpScoutAccount:
        """A new, empty account on the same server, with a key of its own."""
        body = self._call("POST", "/accounts")
        return HelpScoutAccount(
            self.base_url,
            body["apiKey"],
            body["account"],
            client_id=body.get("clientId"),
            client_secret=body.get("clientSecret"),
        )

    def reset(self) -> int:
        """Remove the account's customers and clear its journal, faults and clock (its keys and
        snapshots stay); returns how many customers there were."""
        removed: int = self._call("POST", "/reset")["removed"]
        return removed

    def load(self, source: FixtureSource) -> list[int]:
        """Add fixture customers (a JSON file's path, its bytes, or the data: a list of
        customers in v1's full or create shape); returns their ids, in order. All or none are
        added; problems raise `ControlError` (400 listing each, 409 for a taken email)."""
        if isinstance(source, bytes):
            data = source
        elif isinstance(source, str | os.PathLike):
            data = Path(source).read_bytes()
        else:
            data = json.dumps(source).encode()
        ids: list[int] = self._call("POST", "/fixtures", data)["ids"]
        return ids

    def snapshot(self) -> Snapshot:
        """Keep the account's customers as they are now, on the server."""
        return _snapshot(self._call("POST", "/snapshots"))

    def restore(self, snapshot: Snapshot | int) -> None:
        """Make the account's customers what they were at `snapshot`: the same ids, values and
        timestamps; customers created since are gone."""
        snapshot_id = snapshot.id if isinstance(snapshot, Snapshot) else snapshot
        self._call("POST", f"/snapshots/{snapshot_id}/restore")

    def snapshots(self) -> list[Snapshot]:
        return [_snapshot(item) for item in self._call("GET", "/snapshots")["snapshots"]]

    def snapshot_customers(self, snapshot: Snapshot | int) -> list[dict[str, Any]]:
        """The customers of a snapshot in v1's full shape (loadable as fixtures elsewhere)."""
        snapshot_id = snapshot.id if isinstance(snapshot, Snapshot) else snapshot
        customers: list[dict[str, Any]] = self._call("GET", f"/snapshots/{snapshot_id}")[
            "customers"
        ]
        return customers

    def delete_snapshot(self, snapshot: Snapshot | int) -> None:
        snapshot_id = snapshot.id if isinstance(snapshot, Snapshot) else snapshot
        self._call("DELETE", f"/snapshots/{snapshot_id}")

    # -- the journal

    def requests(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        """The account's requests, oldest first (the last 1,000), optionally only those with
        this method and path."""
        items = self._call("GET", "/requests")["requests"]
        recorded = [RecordedRequest.from_json(item) for item in items]
        return [
            r
            for r in recorded
            if (method is None or r.method == method.upper()) and (path is None or r.path == path)
        ]

    def clear_requests(self) -> None:
        self._call("DELETE", "/requests")

    # -- faults

    def fail_next(
        self,
        n: int = 1,
        status: int | None = 503,
        *,
        method: str | None = None,
        path: str | None = None,
        retry_after: int | None = None,
        delay_ms: int | None = None,
        processed: bool = False,
    ) -> Fault:
        """Make the next `n` requests of the account (those with this method, and a path
        matching `path`, which may hold `*` wildcards) wait `delay_ms`, then answer `status`:
        429 (with `Retry-After`, 1 second unless `retry_after` says), 500 or 503, in the error
        shape of the request's API version (v1's, or v2's vnd.error on a v2 path).
        `status=None` only delays them. With `processed`, the request is carried out and only
        its answer is lost."""
        body = {
            "count": n,
            "status": status,
            "method": method,
            "path": path,
            "retryAfter": retry_after,
            "delayMs": delay_ms,
            "processed": processed,
        }
        return Fault.from_json(self._call("POST", "/faults", json.dumps(body).encode()))

    def delay_next(
        self, n: int = 1, *, delay_ms: int, method: str | None = None, path: str | None = None
    ) -> Fault:
        """Make the next `n` matching requests wait `delay_ms` before they are served."""
        return self.fail_next(n, None, method=method, path=path, delay_ms=delay_ms)

    def faults(self) -> list[Fault]:
        """The faults still queued, in the order they apply."""
        return [Fault.from_json(item) for item in self._call("GET", "/faults")["faults"]]

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    # -- the clock

    def now(self) -> datetime:
        """The account's current time (what `createdAt` and `modifiedAt` would say)."""
        return _moment(self._call("GET", "/clock")["now"])

    def set_time(self, moment: datetime | str | None, *, frozen: bool = True) -> datetime:
        """Set the account's clock to `moment` (a naive datetime is UTC): stopped there, or
        running on from it with `frozen=False`. None: back to the server's clock."""
        if isinstance(moment, datetime):
            aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            moment = aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = json.dumps({"now": moment, "frozen": frozen}).encode()
        return _moment(self._call("PUT", "/clock", body)["now"])

    def advance(self, seconds: float) -> datetime:
        """Move the account's clock on by `seconds`; returns the new time."""
        body = json.dumps({"seconds": seconds}).encode()
        return _moment(self._call("POST", "/clock/advance", body)["now"])

    # -- webhooks (docs/webhooks.md)

    @property
    def webhooks(self) -> AccountWebhooks:
        """The account's webhooks, and a receiver in this process they can deliver to."""
        if self._webhooks is None:
            from openscout.testing.webhooks import AccountWebhooks

            self._webhooks = AccountWebhooks(self)
        return self._webhooks

    def deliveries(
        self, event: str | None = None, *, count: int = 0, timeout: float = 10.0
    ) -> list[WebhookDelivery]:
        """The webhook deliveries the receiver of `webhooks` acknowledged (of `event`), in
        arrival order; with `count`, as soon as that many have arrived."""
        return self.webhooks.deliveries(event, count=count, timeout=timeout)

    def close(self) -> None:
        """Delete the webhooks `webhooks.subscribe` made and stop their receiver, if any."""
        if self._webhooks is not None:
            self._webhooks.close()

    # -- plumbing

    def _call(self, method: str, path: str, data: bytes | None = None) -> Any:
        return self._send(
            method,
            f"{self.base_url}{CONTROL_PREFIX}{path}",
            data,
            {
                "Authorization": self._authorization,
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
        )

    def _send(self, method: str, url: str, data: bytes | None, headers: dict[str, str]) -> Any:
        import urllib.error
        import urllib.request

        request = urllib.request.Request(
            url,
            data=data if data is not None else (b"" if method in ("POST", "PUT") else None),
            method=method,
            headers=headers,
        )
        try:
            with _opener().open(request, timeout=60) as response:
                payload = response.read()
        except urllib.error.HTTPError as error:
            with error:
                raw = error.read()
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
            raise ControlError(error.code, body) from None
        return json.loads(payload) if payload else None


def _moment(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _snapshot(item: Mapping[str, Any]) -> Snapshot:
    return Snapshot(item["id"], _moment(item["takenAt"]), item["count"])
