"""Who is calling: the client's IP address, trusting ``X-Forwarded-For`` only from configured proxies."""

from __future__ import annotations

import functools
import ipaddress

from django.conf import settings


@functools.cache
def _trusted(networks: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(n, strict=False) for n in networks)


def _is_trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _trusted(tuple(settings.TRUSTED_PROXIES)))


def client_ip(request) -> str | None:
    """REMOTE_ADDR, or behind trusted proxies the right-most address in X-Forwarded-For they did not add."""
    meta = getattr(request, "META", {})
    remote = meta.get("REMOTE_ADDR") or None
    if not remote or not _is_trusted(remote):
        return remote
    forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    for address in reversed(forwarded):
        if not _is_trusted(address):
            try:
                return str(ipaddress.ip_address(address))
            except ValueError:
                return remote
    return remote
