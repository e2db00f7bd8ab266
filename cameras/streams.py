"""Stream URLs: credentials kept apart from the URL, masking for display, and validation per stream type.

A camera's ``stream_url`` is stored without its password (the password lives encrypted beside it); the
platform puts the password back only when it opens the stream itself, and shows ``***`` everywhere else.
Passwords are percent-encoded inside URLs, so any character may appear in them.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from django.conf import settings

from config import outbound

MASK = "***"

# Characters a userinfo may carry unencoded (RFC 3986 unreserved + sub-delims); the rest is percent-encoded.
_USERINFO_SAFE = "-._~!$&'()*+,;="
_HOST_PREFIX = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-_]+)(:\d*)?(?=[/?#]|$)")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")


def _split_raw(url: str) -> tuple[str, str | None, str | None, str]:
    """``(scheme://, user, password, rest-after-userinfo)`` with user and password percent-decoded.

    Cameras are often configured with raw ``#``, ``?`` or ``@`` in their password; a strict parser would
    take them for the fragment, query or host. The userinfo ends at the last ``@`` that is followed by a
    host, as long as it holds no ``/`` (a ``/`` in a password must be written ``%2F``).
    """
    match = _SCHEME.match(url)
    if not match:
        return "", None, None, url
    prefix, rest = match.group(0), url[match.end() :]
    at = rest.rfind("@")
    userinfo = rest[:at] if at >= 0 else None
    if userinfo is None or "/" in userinfo or not _HOST_PREFIX.match(rest[at + 1 :]):
        # Fall back to the standard parser: the '@' (if any) sits before the first '/', '?' or '#'.
        authority_end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
        at = rest.rfind("@", 0, authority_end)
        if at < 0:
            return prefix, None, None, rest
        userinfo = rest[:at]
    user, sep, password = userinfo.partition(":")
    return prefix, unquote(user), unquote(password) if sep else None, rest[at + 1 :]


def _join(prefix: str, user: str | None, password: str | None, rest: str) -> str:
    if user is None and password is None:
        return prefix + rest
    userinfo = quote(user or "", safe=_USERINFO_SAFE)
    if password is not None:
        userinfo += ":" + quote(password, safe=_USERINFO_SAFE)
    return f"{prefix}{userinfo}@{rest}"


def split_credentials(url: str) -> tuple[str, str]:
    """Split a stream URL into ``(url_without_password, password)``.

    The user name stays in the URL; the password is returned decoded (``""`` when there is none).
    ``rtsp://admin:p%40ss@cam:554/live`` gives ``("rtsp://admin@cam:554/live", "p@ss")``.
    """
    url = (url or "").strip()
    prefix, user, password, rest = _split_raw(url)
    if password is None:
        return url, ""
    return _join(prefix, user, None, rest), password


def with_password(url: str, password: str) -> str:
    """The URL with ``password`` put back (percent-encoded) after its user name, for opening the stream.

    A password already in ``url`` is replaced; an empty ``password`` leaves ``url`` unchanged.
    """
    url = (url or "").strip()
    if not password:
        return url
    prefix, user, _old, rest = _split_raw(url)
    if not prefix:
        return url
    return _join(prefix, user or "", password, rest)


def with_address(url: str, *, port: int | None = None, user: str | None = None) -> str:
    """``url`` with its port and/or user name replaced (000 sends them beside the address); ``user=""``
    removes the user name. The password (if any) stays where it is. A URL without a scheme is returned as is.
    """
    prefix, old_user, password, rest = _split_raw((url or "").strip())
    if not prefix:
        return url
    if port is not None:
        match = _HOST_PREFIX.match(rest)
        if match:
            rest = f"{match.group(1)}:{port}{rest[match.end() :]}"
    if user is not None:
        old_user = user or None
    return _join(prefix, old_user, password if old_user is not None else None, rest)


def address_url(host: str, port: int | None) -> str:
    """The RTSP URL of a camera known only by its address and port (000's camera has no stream URL)."""
    literal = f"[{host}]" if ":" in host else host
    return f"rtsp://{literal}:{port or 554}"


def port_of(url: str) -> int | None:
    """The port of a stream URL, or its scheme's default (554 for RTSP), or None (device, file, garbage)."""
    prefix, _user, _password, rest = _split_raw((url or "").strip())
    try:
        port = urlsplit("//" + rest).port
    except ValueError:
        return None
    return port or {"rtsp://": 554, "rtsps://": 322, "http://": 80, "https://": 443}.get(prefix.lower())


def user_of(url: str) -> str | None:
    """The user name of a stream URL (decoded), or None."""
    _prefix, user, _password, _rest = _split_raw((url or "").strip())
    return user or None


def masked_url(url: str, password: str = "") -> str:
    """The URL for display: ``rtsp://admin:***@host:554/path`` when there is a password, else the URL as is.

    ``password`` is the camera's stored password; a password written inside ``url`` is masked too.
    """
    url = (url or "").strip()
    prefix, user, in_url, rest = _split_raw(url)
    if not prefix or not (password or in_url):
        return url
    return _join(prefix, user or "", MASK, rest)


def is_masked_password(password: str | None) -> bool:
    """True when a client wrote the mask back instead of a password (the stored one must stay)."""
    return password == MASK


def host_of(url: str) -> str | None:
    """The host name or IP of a stream URL (``host:port`` accepted too), or None (device, file, garbage)."""
    url = (url or "").strip()
    prefix, _user, _password, rest = _split_raw(url)
    if not prefix:
        if not re.match(r"^[A-Za-z0-9.\-\[\]:]+:\d+$", url):
            return None
        rest = url
    try:
        host = urlsplit("//" + rest).hostname
    except ValueError:
        return None
    return host or None


def ip_address_of(url: str) -> str | None:
    """The host of ``url`` when it is a literal IPv4/IPv6 address (for ``Camera.ip_address``), else None."""
    host = host_of(url)
    if not host:
        return None
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def _require_host(url: str, schemes: tuple[str, ...], label: str) -> None:
    prefix, _user, _password, rest = _split_raw(url)
    scheme = prefix[:-3].lower()
    if scheme not in schemes:
        wanted = " or ".join(f"{s}://" for s in schemes)
        raise ValueError(f"{label} stream URL must start with {wanted} (got {url!r})")
    try:
        parts = urlsplit("//" + rest)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{label} stream URL has an invalid host or port: {exc}") from None
    if not parts.hostname:
        raise ValueError(f"{label} stream URL has no host")
    if port is not None and not 0 < port < 65536:
        raise ValueError(f"{label} stream URL port must be between 1 and 65535")


_STREAM_TYPES = {
    "rtsp": "RTSP",
    "http": "HTTP",
    "https": "HTTP",
    "usb": "USB",
    "socket": "Socket",
    "tcp": "Socket",
    "local file": "Local File",
    "file": "Local File",
    "localfile": "Local File",
}
LOCAL_FILE_REFUSED = "Local file must be the full path of a video file in ARGUS_CAMERA_FILES_ROOT"


def _normalise_type(stream_type: str) -> str:
    key = (stream_type or "").strip().lower().replace("_", " ")
    if key not in _STREAM_TYPES:
        raise ValueError(f"unknown stream type {stream_type!r}: use RTSP, HTTP, USB, Socket or Local File")
    return _STREAM_TYPES[key]


def validate_stream_url(stream_type: str, url: str) -> str:
    """Check that ``url`` fits ``stream_type`` (a ``StreamType`` value) and return it stripped.

    RTSP wants ``rtsp://`` (or ``rtsps://``) with a host; HTTP ``http(s)://`` with a host; USB a device
    index (``0``) or ``/dev/video*``; Socket ``tcp://host:port`` or ``host:port``; Local File an existing
    file inside ``CAMERA_FILES_ROOT`` (its full path or ``file://`` URL). Raises ``ValueError`` saying
    what is wrong.
    """
    kind = _normalise_type(stream_type)
    url = (url or "").strip()
    if not url:
        raise ValueError("stream URL is required")
    if kind == "RTSP":
        _require_host(url, ("rtsp", "rtsps"), "RTSP")
    elif kind == "HTTP":
        _require_host(url, ("http", "https"), "HTTP")
    elif kind == "USB":
        if not (url.isdigit() or re.fullmatch(r"/dev/video\d+", url)):
            raise ValueError(f"USB stream must be a device index like 0 or a device like /dev/video0 (got {url!r})")
    elif kind == "Socket":
        target = url if _SCHEME.match(url) else f"tcp://{url}"
        if not target.lower().startswith(("tcp://", "udp://")):
            raise ValueError(f"Socket stream must be tcp://host:port or host:port (got {url!r})")
        _require_host(target, ("tcp", "udp"), "Socket")
        if urlsplit(target).port is None:
            raise ValueError(f"Socket stream needs a port: tcp://host:port or host:port (got {url!r})")
    else:
        confined_local_file(url)
    return url


def confined_local_file(url: str) -> str:
    """The real path of the local file ``url`` names (a full path or ``file://`` URL), when it is a file
    inside ``CAMERA_FILES_ROOT`` once every symlink is followed; else ``ValueError``.

    Called when the URL is saved and again each time the file is opened (decoder, probe, snapshot): a symlink
    swapped after saving would otherwise lead out of the folder. The caller opens the path returned, which
    holds no symlink.
    """
    url = (url or "").strip()
    path = Path(unquote(urlsplit(url).path)) if url.lower().startswith("file://") else Path(url)
    root = Path(settings.CAMERA_FILES_ROOT).resolve()
    # One answer for a path outside the folder, a missing file and a directory alike: the message must
    # not tell whether some path exists on the server.
    candidate = path.resolve()
    if not path.is_absolute() or not candidate.is_relative_to(root) or not candidate.is_file():
        raise ValueError(LOCAL_FILE_REFUSED)
    return str(candidate)


def url_to_open(url: str, stream_type: str) -> str:
    """What ffmpeg opens for a camera's stream ``url`` (password included) now, checked again at each open.

    Local File: the real path, confined to ``CAMERA_FILES_ROOT`` (:func:`confined_local_file`). RTSP/HTTP:
    the outbound policy again, and an ``rtsp://`` host replaced by the address checked
    (:func:`config.outbound.pinned_stream_url`). Raises ``ValueError`` with a message for a person.
    """
    kind = _STREAM_TYPES.get((stream_type or "").strip().lower().replace("_", " "))
    if kind == "Local File":
        return confined_local_file(url)
    if kind in ("RTSP", "HTTP"):
        return outbound.pinned_stream_url(url, "The stream URL")
    return url
