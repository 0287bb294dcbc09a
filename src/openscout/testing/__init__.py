"""openscout as Help Scout's stand-in in test suites (docs/testing.md).

    from openscout.testing import HelpScoutServer

    with HelpScoutServer() as hs:
        httpx.post(hs.url("/v1/customers.json"), auth=hs.auth, json={...})

Installing openscout also installs a pytest plugin (`openscout.testing.pytest_plugin`) with a
`helpscout` fixture: a fresh account of a server shared by the session, for every test.
Importing this package is cheap: the server's modules load when a server starts.
"""

from typing import TYPE_CHECKING, Any

from openscout.testing.client import (
    ControlError,
    Fault,
    HelpScoutAccount,
    RecordedRequest,
    Snapshot,
)
from openscout.testing.server import (
    DatabaseUnavailable,
    HelpScoutServer,
    ThreadedServer,
    id_starts,
)

if TYPE_CHECKING:
    from openscout.testing.receiver import WebhookDelivery, WebhookReceiver
    from openscout.testing.webhooks import AccountWebhooks, Subscription

#: Loaded on first use: the receiver brings in `http.server`.
_LAZY = {
    "AccountWebhooks": "openscout.testing.webhooks",
    "Subscription": "openscout.testing.webhooks",
    "WebhookDelivery": "openscout.testing.receiver",
    "WebhookReceiver": "openscout.testing.receiver",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AccountWebhooks",
    "ControlError",
    "DatabaseUnavailable",
    "Fault",
    "HelpScoutAccount",
    "HelpScoutServer",
    "RecordedRequest",
    "Snapshot",
    "Subscription",
    "ThreadedServer",
    "WebhookDelivery",
    "WebhookReceiver",
    "id_starts",
]
