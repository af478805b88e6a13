"""What a WHIP offer may ask of the server, checked before aiortc reads it (issue 12).

An offer's ICE candidates are addresses the server will send connectivity
checks to. Unchecked, an offer listing thousands of them costs time that
grows with the square of their count, and an offer naming internal
addresses makes the server probe the bank's own networks for the caller.
So an offer lists at most ``max_candidates`` candidate lines
(:func:`check_candidate_count`), and only candidates whose address an
:class:`IceAllowList` allows are kept (:func:`keep_allowed_candidates`): by
default public addresses and the configured STUN/TURN servers; private and
loopback ranges only when a deployment (or a test) names them.

Pure text and :mod:`ipaddress`; no aiortc here.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Iterable
from urllib.parse import urlsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
KEYWORDS = ("public", "private", "loopback")


def candidate_count(sdp: str) -> int:
    return sum(1 for line in sdp.splitlines() if line.startswith("a=candidate:"))


class TooManyCandidates(ValueError):
    """The offer lists more ICE candidates than a browser ever gathers (the server answers 422)."""


def check_candidate_count(sdp: str, max_candidates: int) -> None:
    count = candidate_count(sdp)
    if count > max_candidates:
        raise TooManyCandidates(f"an offer lists at most {max_candidates} ICE candidates ({count} given)")


def ice_server_hosts(urls: Iterable[str]) -> list[str]:
    """The hosts of ``stun:``/``turn:``/``turns:`` URLs (RFC 7064/7065: ``turn:host:port?transport=udp``)."""
    hosts = []
    for url in urls:
        scheme, _, rest = url.partition(":")
        if scheme.lower() not in ("stun", "stuns", "turn", "turns"):
            continue
        host = urlsplit("//" + rest.split("?", 1)[0]).hostname
        if host:
            hosts.append(host)
    return hosts


@dataclass(frozen=True)
class IceAllowList:
    """Which candidate addresses the server may send connectivity checks to.

    ``entries``: ``public`` (globally routable), ``private`` (RFC 1918, ULA,
    link-local), ``loopback``, or a network in CIDR form (``10.20.0.0/16``).
    ``hosts``: addresses always allowed (the configured TURN servers').
    """

    entries: tuple[str, ...] = ("public",)
    hosts: frozenset[str] = frozenset()
    networks: tuple[IpNetwork, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        networks = []
        for entry in self.entries:
            if entry.lower() in KEYWORDS:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ValueError(f"an ICE allow-list entry is public, private, loopback or a CIDR network, not {entry!r}") from None
        object.__setattr__(self, "networks", tuple(networks))

    def allows(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False  # a name (mDNS .local or any other): resolving it is itself a request the caller steers
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if str(ip) in self.hosts:
            return True
        keywords = {entry.lower() for entry in self.entries}
        if ip.is_unspecified or ip.is_multicast:
            return False
        if ip.is_loopback:
            return "loopback" in keywords or any(ip in net for net in self.networks)
        if "public" in keywords and ip.is_global:
            return True
        if "private" in keywords and (ip.is_private or ip.is_link_local):
            return True
        return any(ip.version == net.version and ip in net for net in self.networks)


def keep_allowed_candidates(sdp: str, allow: IceAllowList) -> tuple[str, int, int]:
    """The offer with only the candidates ``allow`` allows; how many were kept and dropped.

    ``a=candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> ...``
    """
    kept_lines = []
    kept = dropped = 0
    ending = "\r\n" if "\r\n" in sdp else "\n"
    for line in sdp.splitlines():
        if line.startswith("a=candidate:"):
            parts = line.split()
            if len(parts) < 8 or not allow.allows(parts[4]):
                dropped += 1
                continue
            kept += 1
        kept_lines.append(line)
    return ending.join(kept_lines) + ending, kept, dropped
