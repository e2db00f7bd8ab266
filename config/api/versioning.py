"""API versions (000's versioning example): every ``/api/vN/`` response says its version and status;
an endpoint with a newer version says so with ``Deprecation``, ``Sunset`` and a successor link."""

from __future__ import annotations

import re

from django.conf import settings

_VERSION = re.compile(r"^/api/v(\d+)/")


class ApiVersionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = _VERSION.match(request.path)
        if match:
            version = match.group(1)
            info = settings.API_VERSIONS.get(version, {})
            response.setdefault("X-API-Version", version)
            response.setdefault("X-API-Status", info.get("status", "unknown"))
        return response


def mark_superseded(response, *, successor: str):
    """Headers of an endpoint whose newer version is ``successor`` (RFC 8594 Sunset, RFC 9745 Deprecation)."""
    response["Deprecation"] = "true"
    sunset = settings.API_SUPERSEDED_SUNSET
    if sunset:
        response["Sunset"] = sunset
    response["Link"] = f'<{successor}>; rel="successor-version"'
    return response
