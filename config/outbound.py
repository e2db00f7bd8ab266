"""Where the server may be sent: the destinations users configure (camera streams, exporters, the detection
provider, Odoo, face-service callbacks and video downloads).

:func:`same_destination` decides whether a stored secret may stay with a changed URL: only while scheme,
host and port are unchanged, so nobody with write access can redirect a stored password to their own host.
"""

from __future__ import annotations

from urllib.parse import urlsplit

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
