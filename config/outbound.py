"""Where the server may be sent: the destinations users configure (camera streams, exporters, the detection
provider, Odoo, face-service callbacks and video downloads).

:func:`check_target` is the outbound policy: which address ranges a user-set destination may not reach.

:func:`pinned_client` and :func:`pinned_stream_url` close the gap between the check and the connection (DNS
rebinding): the name is resolved once, the addresses are checked, and the connection goes to a checked
address; a second resolution that would answer a blocked address never happens.

:func:`same_destination` decides whether a stored secret may stay with a changed URL: only while scheme,
host and port are unchanged, so nobody with write access can redirect a stored password to their own host.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
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


Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# How names are resolved: ``socket.getaddrinfo``'s signature. Tests put a resolver of their own here to play
# a DNS server that answers differently the second time.
resolve: Callable[..., list[Any]] = socket.getaddrinfo


def _addresses(host: str) -> list[Address]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = resolve(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, OSError):
        return []  # unresolvable: the connection will fail on its own, saying so
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        # An IPv4 address mapped into IPv6 is checked as the IPv4 address it is.
        address = getattr(address, "ipv4_mapped", None) or address
        if address not in addresses:
            addresses.append(address)
    return addresses


def check_target(url: str | None, what: str) -> list[Address]:
    """Refuse ``url`` when its host is, or resolves to, a blocked range (``ARGUS_OUTBOUND_BLOCKED_RANGES``:
    loopback, link-local, private; loopback and link-local by default outside development). Called where a
    user-set destination is saved and again where it is used, as a name may resolve elsewhere later.

    Returns the addresses it checked (empty when the URL names no host or the name does not resolve): a
    caller that connects to one of them connects where the policy allowed (see :func:`pinned_client`).

    The message names no address: it tells nobody what the server can see.
    """
    target = destination(url)
    if target is None:
        return []
    blocked = [_RANGES[name] for name in settings.OUTBOUND_BLOCKED_RANGES if name in _RANGES]
    addresses = _addresses(target[1])
    for address in addresses:
        if any(rule(address) for rule in (*_ALWAYS, *blocked)):
            ranges = ", ".join(settings.OUTBOUND_BLOCKED_RANGES) or "none"
            raise BlockedTarget(f"{what} may not point at this address (blocked ranges: {ranges})")
    return addresses


def check_allowed_host(url: str | None, allowed: list[str], what: str) -> None:
    """Refuse ``url`` unless its host is one of ``allowed`` (exact names), then apply :func:`check_target`."""
    target = destination(url)
    hosts = {host.strip().lower().strip("[]").rstrip(".") for host in allowed}
    if target is None or target[1].strip("[]") not in hosts:
        raise BlockedTarget(f"{what} must be on a host the platform is configured to call back")
    check_target(url, what)


# --- Connecting to the address that was checked ------------------------------------------------------


class _PinnedBackend(httpcore.SyncBackend):
    """httpcore's network backend, connecting a pinned host name to its checked addresses only.

    Only the TCP connection changes: httpcore still sends the name in the Host header and as the TLS server
    name, and verifies the certificate against it. A host nobody pinned is refused (a redirect is not
    followed anyway; this makes sure of it).
    """

    def __init__(self, pins: dict[str, list[Address]]) -> None:
        self.pins = pins

    def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, local_address: str | None = None, socket_options=None
    ) -> httpcore.NetworkStream:
        addresses = self.pins.get(host.lower().strip("[]").rstrip("."))
        if addresses is None:
            raise httpcore.ConnectError(f"{host} was not checked by the outbound policy")
        if not addresses:
            raise httpcore.ConnectError(f"{host} could not be resolved")
        failure: Exception | None = None
        for address in addresses:  # in the resolver's order, as a connection by name would try them
            try:
                return super().connect_tcp(str(address), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure


def pinned_client(url: str, what: str, **options: Any) -> httpx.Client:
    """An ``httpx.Client`` for requests to ``url``'s host, after :func:`check_target` (raises
    :class:`BlockedTarget`); its connections go to the addresses that were checked, never to a fresh
    resolution of the name. ``options`` are ``httpx.Client``'s (timeout, headers, ...); redirects are never
    followed and proxies from the environment are not used (a proxy would resolve the name itself).
    """
    addresses = check_target(url, what)
    target = destination(url)
    host = target[1].strip("[]") if target else ""
    ssl_context = httpx.create_ssl_context()  # httpx's defaults (certifi, SSL_CERT_FILE/SSL_CERT_DIR)
    transport = httpx.HTTPTransport(verify=ssl_context)
    # httpx takes no network backend of its own; its pool is httpcore's, which does.
    transport._pool = httpcore.ConnectionPool(
        ssl_context=ssl_context, network_backend=_PinnedBackend({host: addresses})
    )
    options.pop("follow_redirects", None)
    return httpx.Client(transport=transport, follow_redirects=False, trust_env=False, **options)


def pinned_stream_url(url: str, what: str) -> str:
    """``url`` checked by :func:`check_target`, with its host replaced by the checked address where that is
    safe, for ffmpeg (which resolves names itself and cannot be handed an address).

    Pinned: ``rtsp://`` (no TLS; the request line carries the URL and cameras do not route by host name).
    Left by name, checked only: ``rtsps://`` and ``https://`` (TLS verifies the certificate against the
    name in the URL) and ``http://`` (an HTTP server may route by the Host header, which ffmpeg takes from
    the URL). Of several checked addresses the first that accepts a TCP connection is used.
    """
    addresses = check_target(url, what)
    parts = urlsplit(url)
    if parts.scheme.lower() != "rtsp" or not addresses or not parts.hostname:
        return url
    try:
        ipaddress.ip_address(parts.hostname)
        return url  # already an address: nothing to resolve
    except ValueError:
        pass
    chosen = reachable_address(addresses, parts.port or DEFAULT_PORTS["rtsp"])
    host = f"[{chosen}]" if chosen.version == 6 else str(chosen)
    userinfo, _, hostport = parts.netloc.rpartition("@")
    port = hostport[hostport.rfind(":") :] if hostport.rfind(":") > hostport.rfind("]") else ""
    netloc = (userinfo + "@" if userinfo else "") + host + port
    return parts._replace(netloc=netloc).geturl()


def reachable_address(addresses: list[Address], port: int) -> Address:
    """Of the checked ``addresses`` (at least one), the first that accepts a TCP connection on ``port``, as a
    client connecting by name would try them; the first when none does (the client then says why)."""
    if len(addresses) == 1:
        return addresses[0]
    for address in addresses:
        try:
            with socket.create_connection((str(address), port), timeout=2.0):
                return address
        except OSError:
            continue
    return addresses[0]
