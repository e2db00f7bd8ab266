"""Filesystem storage whose URLs are signed and expire, like S3 presigned URLs.

Files are never served from a public path: ``url(name)`` returns ``/files/<name>?expires=..&signature=..``
and :func:`serve_signed_file` checks both before it streams the file.
"""

from __future__ import annotations

import hashlib
import hmac
import mimetypes
import re
import time
from urllib.parse import urlencode

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.http import FileResponse, Http404, HttpResponseForbidden
from django.urls import reverse


def _signature(name: str, expires: int) -> str:
    return hmac.new(settings.ARGUS_FILE_URL_KEY.encode(), f"{name}:{expires}".encode(), hashlib.sha256).hexdigest()


class SignedFileSystemStorage(FileSystemStorage):
    def url(self, name: str, expire: int | None = None) -> str:
        expires = int(time.time()) + (expire or settings.SIGNED_URL_MAX_AGE)
        path = reverse("signed-file", kwargs={"name": name})
        query = urlencode({"expires": expires, "signature": _signature(name, expires)})
        # Absolute when the site's public address is configured, so clients on other origins can follow it.
        return f"{settings.PUBLIC_BASE_URL.rstrip('/')}{path}?{query}"


def signed_url(name: str, expire: int | None = None) -> str:
    """A signed, expiring URL for a stored file, whatever the backend."""
    if isinstance(default_storage, SignedFileSystemStorage):
        return default_storage.url(name, expire=expire)
    if expire is not None and hasattr(default_storage, "querystring_expire"):
        return default_storage.url(name, expire=expire)
    return default_storage.url(name)


def serve_signed_file(request, name: str):
    try:
        expires = int(request.GET.get("expires", ""))
    except ValueError:
        return HttpResponseForbidden("missing or malformed signature")
    signature = request.GET.get("signature", "")
    if expires < time.time() or not hmac.compare_digest(signature, _signature(name, expires)):
        return HttpResponseForbidden("invalid or expired signature")
    if not isinstance(default_storage, SignedFileSystemStorage) or not default_storage.exists(name):
        raise Http404("file not found")
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    try:
        handle = default_storage.open(name, "rb")
    except FileNotFoundError:  # replaced between the check and the read (a camera's rotating thumbnail)
        raise Http404("file not found") from None
    download = download_name(request.GET.get("download", ""), name)
    if download:
        return FileResponse(handle, content_type=content_type, as_attachment=True, filename=download)
    return FileResponse(handle, content_type=content_type)


def download_name(asked: str, name: str) -> str:
    """The name a download is saved under when the link asks for one (``?download=attendance_2026-11.csv``):
    letters, digits, dot, dash and underscore only, at most 100 characters, and always the stored file's own
    extension, so a link cannot pass the file off as another kind. "" when none (or nothing usable) is asked.
    """
    stem = re.sub(r"[^A-Za-z0-9._-]", "", asked.rsplit(".", 1)[0])[:100].strip("._-")
    if not stem:
        return ""
    extension = name.rsplit(".", 1)[1] if "." in name.rsplit("/", 1)[-1] else ""
    return f"{stem}.{extension}" if extension else stem
