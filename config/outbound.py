"""Where the server may be sent: the destinations users configure (camera streams, exporters, the detection
provider, Odoo, face-service callbacks and video downloads).

:func:`check_target` is the outbound policy: which address ranges a user-set destination may not reach.

:func:`same_destination` decides whether a stored secret may stay with a changed URL: only while scheme,
host and port are unchanged, so nobody with write access can redirect a stored password to their own host.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

DEFAULT_PORTS = {
    "http": 80,
    "https": 443,
    "rtsp": 554,
    "rtsps": 322,
    "mqtt": 1883,
    "mqtts": 8883,
    "ws": 80,
    "wss": 443,
}


def destination(url: str | None) -> tuple[str, str, int | None] | None:
    """``(scheme, host, port)`` of ``url``, the port defaulted by scheme; None when it names no host."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    scheme = parts.scheme.lower()
    return scheme, parts.hostname.lower().rstrip("."), port or DEFAULT_PORTS.get(scheme)


def same_destination(old: str | None, new: str | None) -> bool:
    """True when ``new`` goes where ``old`` went (same scheme, host and port): a stored secret may stay."""
    before = destination(old)
    return before is not None and before == destination(new)


# --- Which addresses users may send the server to ----------------------------------------------------

_RANGES = {
    "loopback": lambda ip: ip.is_loopback,
    # 169.254.169.254 is where clouds answer with instance credentials.
    "link-local": lambda ip: ip.is_link_local,
    "private": lambda ip: ip.is_private and not ip.is_loopback and not ip.is_link_local,
}
# Never a real destination, whatever the settings say.
_ALWAYS = (lambda ip: ip.is_unspecified, lambda ip: ip.is_multicast, lambda ip: ip.is_reserved)


class BlockedTarget(ValueError):
    """A URL whose host is (or resolves to) an address the outbound policy refuses."""


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, OSError):
        return []  # unresolvable: the connection will fail on its own, saying so
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        # An IPv4 address mapped into IPv6 is checked as the IPv4 address it is.
        addresses.append(getattr(address, "ipv4_mapped", None) or address)
    return addresses


def check_target(url: str | None, what: str) -> None:
    """Refuse ``url`` when its host is, or resolves to, a blocked range (``ARGUS_OUTBOUND_BLOCKED_RANGES``:
    loopback, link-local, private; loopback and link-local by default outside development). Called where a
    user-set destination is saved and again where it is used, as a name may resolve elsewhere later.

    The message names no address: it tells nobody what the server can see.
    """
    target = destination(url)
    if target is None:
        return
    blocked = [_RANGES[name] for name in settings.OUTBOUND_BLOCKED_RANGES if name in _RANGES]
    for address in _addresses(target[1]):
        if any(rule(address) for rule in (*_ALWAYS, *blocked)):
            ranges = ", ".join(settings.OUTBOUND_BLOCKED_RANGES) or "none"
            raise BlockedTarget(f"{what} may not point at this address (blocked ranges: {ranges})")


def check_allowed_host(url: str | None, allowed: list[str], what: str) -> None:
    """Refuse ``url`` unless its host is one of ``allowed`` (exact names), then apply :func:`check_target`."""
    target = destination(url)
    hosts = {host.strip().lower().strip("[]").rstrip(".") for host in allowed}
    if target is None or target[1].strip("[]") not in hosts:
        raise BlockedTarget(f"{what} must be on a host the platform is configured to call back")
    check_target(url, what)
