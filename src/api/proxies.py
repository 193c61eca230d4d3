"""The client's address behind reverse proxies we trust (`CREDLEDGER_TRUSTED_PROXIES`).

`X-Forwarded-For` and `Forwarded` are plain request headers: anyone can send them. They say
something only when the TCP peer is a proxy of ours, and then only as far as the chain stays
inside our proxies: read right to left, each entry was written by the hop after it, so the
first (rightmost) address that is not one of our proxies is the client. Anything left of it
was written by that client and is worth nothing. From any other peer both headers are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from starlette.types import ASGIApp, Receive, Scope, Send

Network = IPv4Network | IPv6Network
Address = IPv4Address | IPv6Address

# One element of a header list: commas inside a quoted string do not split it (RFC 9110 §5.6).
_ELEMENT = re.compile(r'(?:[^,"]|"(?:[^"\\]|\\.)*")+')
_PAIR = re.compile(r'\s*([A-Za-z]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')
_SCHEMES = {"http", "https"}


def parse_trusted_proxies(text: str) -> tuple[Network, ...]:
    """`10.0.0.0/8, 2001:db8::/32, 127.0.0.1` as networks (a bare address is one host).

    Raises ValueError naming the bad entry: a typo must stop the server, not trust nobody
    (or everybody) in silence."""
    networks = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        try:
            networks.append(ip_network(entry, strict=True))
        except ValueError as error:
            raise ValueError(
                f"CREDLEDGER_TRUSTED_PROXIES: {entry!r} is not an IPv4 or IPv6 network ({error});"
                " give comma-separated CIDRs such as 10.0.0.0/8, 2001:db8::/32 or 127.0.0.1/32"
            ) from None
    return tuple(networks)


def parse_address(text: str) -> Address | None:
    """An address as proxies write it: `192.0.2.1`, `192.0.2.1:443`, `2001:db8::1`,
    `[2001:db8::1]:443`, quoted or not. None for anything else (`unknown`, `_hidden`, junk)."""
    text = text.strip().strip('"').strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:  # IPv4 with a port; a bare IPv6 address has two colons or more
        text = text.partition(":")[0]
    try:
        address = ip_address(text)
    except ValueError:
        return None
    # A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; one spelling per client.
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _elements(values: Iterable[str]) -> list[str]:
    """Every comma-separated element of a header's lines, in order."""
    return [m.group().strip() for value in values for m in _ELEMENT.finditer(value)]


def _forwarded_pairs(element: str) -> dict[str, str]:
    """`for=192.0.2.60;proto=https` as {"for": "192.0.2.60", "proto": "https"}."""
    pairs = {}
    for part in element.split(";"):
        if found := _PAIR.fullmatch(part):
            pairs[found.group(1).lower()] = found.group(2).strip().strip('"')
    return pairs


class ProxyResolver:
    def __init__(self, trusted: Sequence[Network]) -> None:
        self.trusted = tuple(trusted)

    def is_trusted(self, address: Address) -> bool:
        return any(address in network for network in self.trusted)

    def resolve(
        self, peer: str, headers: Sequence[tuple[bytes, bytes]]
    ) -> tuple[str, str | None] | None:
        """(client address, scheme or None) when a trusted peer forwarded the request;
        None when the peer is the client (untrusted peer, or nothing forwarded)."""
        peer_address = parse_address(peer)
        if peer_address is None or not self.is_trusted(peer_address):
            return None
        forwarded_for = [v.decode("latin-1") for k, v in headers if k == b"x-forwarded-for"]
        if forwarded_for:
            hops = [(entry, None) for entry in _elements(forwarded_for)]
            protos = [v.decode("latin-1") for k, v in headers if k == b"x-forwarded-proto"]
            scheme = protos[0].strip().lower() if len(protos) == 1 else None
        else:  # RFC 7239, only when no X-Forwarded-For came (README: what a proxy must send)
            lines = [v.decode("latin-1") for k, v in headers if k == b"forwarded"]
            pairs = [_forwarded_pairs(element) for element in _elements(lines)]
            hops = [(p.get("for", ""), p.get("proto", "").lower() or None) for p in pairs]
            scheme = None
        chosen = self._client_hop(hops)
        if chosen is None:
            return None
        client, hop_scheme = chosen
        scheme = hop_scheme or scheme
        return str(client), scheme if scheme in _SCHEMES else None

    def _client_hop(self, hops: list[tuple[str, str | None]]) -> tuple[Address, str | None] | None:
        """Right to left, the first address that is not a trusted proxy. If a hop is junk,
        the walk ends at the last trusted proxy before it: nothing vouches for what lies
        beyond. If every hop is trusted, the farthest one."""
        last: tuple[Address, str | None] | None = None
        for text, scheme in reversed(hops):
            address = parse_address(text)
            if address is None:
                return last
            last = (address, scheme)
            if not self.is_trusted(address):
                return last
        return last


class ForwardedClient:
    """ASGI middleware: `scope["client"]` (and `scheme`) as `ProxyResolver` finds them.

    Rewrites in place, as uvicorn's own middleware did, so its access log names the client."""

    def __init__(self, app: ASGIApp, trusted: Sequence[Network]) -> None:
        self.app = app
        self.resolver = ProxyResolver(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        peer = scope.get("client")
        if scope["type"] in ("http", "websocket") and peer and self.resolver.trusted:
            found = self.resolver.resolve(peer[0], scope["headers"])
            if found is not None:
                client, scheme = found
                scope["client"] = (client, 0)  # the client's port is not forwarded reliably
                if scheme is not None and scope["type"] == "http":
                    scope["scheme"] = scheme
        await self.app(scope, receive, send)
