"""One run of tap-helpscout's sync, in a process of its own, as its `main()` runs it:

    python -m tests.clients.tap SERVER_URL CONFIG_PATH STATE_JSON

A client made from the config file (the tap writes the rotated refresh token back to it),
then `sync` with the discovered catalog's `customers` stream selected and the state given; the
Singer messages go to standard output, the tap's log to standard error.

Its own process because the tap configures logging for the whole process when imported (Singer
sets the root logger to INFO with a handler on standard error), which would change what every
later test in a pytest process sees.

The tap's code names `https://api.helpscout.net` and takes no base URL, so its requests are sent
to openscout at the transport (`HelpScoutHost`); nothing of the tap is changed."""

from __future__ import annotations

import json
import sys
from typing import Any

import requests
from requests.adapters import HTTPAdapter

#: Where Help Scout's API lives, as clients that cannot be given another base URL write it.
HELPSCOUT = "https://api.helpscout.net"


class HelpScoutHost(HTTPAdapter):
    """Sends requests for `https://api.helpscout.net` to openscout, unchanged but for the
    scheme and host: what a hosts-file entry and a TLS terminator would do for a client whose
    code names Help Scout's host. Mounted on the client's `requests.Session`."""

    def __init__(self, server_url: str) -> None:
        super().__init__()
        self.server_url = server_url.rstrip("/")

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        assert request.url is not None and request.url.startswith(HELPSCOUT + "/"), request.url
        request.url = self.server_url + request.url.removeprefix(HELPSCOUT)
        return super().send(request, **kwargs)


def run(server_url: str, config_path: str, state: dict[str, Any]) -> None:
    from singer import metadata
    from tap_helpscout.client import HelpScoutClient
    from tap_helpscout.discover import discover
    from tap_helpscout.sync import sync

    with open(config_path) as file:
        config = json.load(file)
    catalog = discover()
    for stream in catalog.streams:
        if stream.tap_stream_id == "customers":
            chosen = metadata.to_map(stream.metadata)
            chosen[()]["selected"] = True
            stream.metadata = metadata.to_list(chosen)
    client = HelpScoutClient(config_path, config)
    client._HelpScoutClient__session.mount(f"{HELPSCOUT}/", HelpScoutHost(server_url))
    with client:
        sync(client=client, catalog=catalog, state=state, start_date=config["start_date"])


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))
