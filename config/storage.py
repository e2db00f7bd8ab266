"""Filesystem storage whose URLs are signed and expire, like S3 presigned URLs.

Files are never served from a public path: ``url(name)`` returns ``/files/<name>?expires=..&signature=..``
and :func:`serve_signed_file` checks both before it streams the file.
"""

from __future__ import annotations

import hashlib
import hmac
import mimetypes
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
    return FileResponse(default_storage.open(name, "rb"), content_type=content_type)
