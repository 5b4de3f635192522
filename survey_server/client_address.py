"""The client's address: the socket's peer, or — only when that peer is one of the
operator's trusted proxies (CXLAB_TRUSTED_PROXIES) — the address the proxies saw.

X-Forwarded-For is read from the right: each proxy appends the address it received
the request from, so the rightmost entry that is not a trusted proxy is the client.
Entries further left were written by the client and can be anything.

>>> from ipaddress import ip_network
>>> trusted = (ip_network("10.0.0.0/8"),)
>>> client_address({"REMOTE_ADDR": "10.0.0.2",
...                 "HTTP_X_FORWARDED_FOR": "6.6.6.6, 198.51.100.7, 10.0.0.3"}, trusted)
'198.51.100.7'
>>> client_address({"REMOTE_ADDR": "203.0.113.9",          # not a proxy: header ignored
...                 "HTTP_X_FORWARDED_FOR": "198.51.100.7"}, trusted)
'203.0.113.9'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address

Network = IPv4Network | IPv6Network


def _trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        parsed = ip_address(address.strip())
    except ValueError:
        return False
    return any(parsed in network for network in trusted)


def client_address(environ: Mapping[str, str], trusted: Sequence[Network]) -> str:
    """The address to count sign-in failures against (``"unknown"`` if none)."""
    peer = environ.get("REMOTE_ADDR") or "unknown"
    if not trusted or not _trusted(peer, trusted):
        return peer
    forwarded = [part.strip() for part in environ.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed([part for part in forwarded if part]):
        if not _trusted(hop, trusted):
            try:
                return str(ip_address(hop))
            except ValueError:
                return peer  # garbage where an address should be: count the proxy
    return peer
