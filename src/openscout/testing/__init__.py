"""openscout as Help Scout's stand-in in test suites (docs/testing.md).

    from openscout.testing import HelpScoutServer

    with HelpScoutServer() as hs:
        httpx.post(hs.url("/v1/customers.json"), auth=hs.auth, json={...})

Installing openscout also installs a pytest plugin (`openscout.testing.pytest_plugin`) with a
`helpscout` fixture: a fresh account of a server shared by the session, for every test.
Importing this package is cheap: the server's modules load when a server starts.
"""

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

__all__ = [
    "ControlError",
    "DatabaseUnavailable",
    "Fault",
    "HelpScoutAccount",
    "HelpScoutServer",
    "RecordedRequest",
    "Snapshot",
    "ThreadedServer",
    "id_starts",
]
