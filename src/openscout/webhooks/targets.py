"""Which receivers the server may call (`--webhook-allow`; docs/webhooks.md, "Safety").

Any account can point a webhook anywhere, and the server then POSTs there: from inside your
network, to addresses the account's owner could not reach (metadata services, admin ports on
loopback). `--webhook-allow` lists the networks and host names that may be called; by default,
anything may. A host name on the list is allowed whatever it resolves to; any other host is
resolved, and every address it resolves to must be in an allowed network.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Targets:
    """The receivers `allowed` (the normalized text of `config.allow_list`; None: any)."""

    def __init__(self, allowed: str | None) -> None:
        self.anywhere = allowed is None
        networks: list[Network] = []
        names: set[str] = set()
        for item in (allowed or "").split(","):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                names.add(item.lower().rstrip("."))
        self.networks = tuple(networks)
        self.names = frozenset(names)

    def is_allowed_address(self, address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # without an IPv6 zone
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self.networks)

    async def refusal(self, url: str) -> str | None:
        """None when `url` may be called; else why not, in a line for the delivery log."""
        if self.anywhere:
            return None
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".")
        if host in self.names:
            return None
        try:
            return None if self.is_allowed_address(host) else _refused(host)
        except ValueError:
            pass  # a name, not an address
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            found = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except OSError as error:
            return f"{host} cannot be resolved ({error.strerror or error})"
        addresses = sorted({str(entry[4][0]) for entry in found})
        outside = [address for address in addresses if not self.is_allowed_address(address)]
        if outside or not addresses:
            return _refused(f"{host} ({', '.join(outside or addresses)})")
        return None


def _refused(what: str) -> str:
    return f"{what} is not allowed by --webhook-allow"
