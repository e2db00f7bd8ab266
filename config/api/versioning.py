"""API versions (000's versioning example): every ``/api/vN/`` response says its version and status; a
version the site has retired (``ARGUS_API_RETIRED_VERSIONS``) answers 410 Gone with its ``Sunset`` date, as
000's version middleware does. No version is retired by default.

The SPA's ``/api/v1/cameras`` is not announced deprecated: ``/api/v2/cameras`` is 000's example of a newer
version, and 001's client keeps calling v1 (its main list), which stays stable."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time

from django.conf import settings
from django.http import JsonResponse
from django.utils.http import http_date

_VERSION = re.compile(r"^/api/v(\d+)/")


def sunset_of(version: str) -> str | None:
    """The ``Sunset`` HTTP date of a retired version, or None when ``version`` is not retired."""
    day = settings.API_RETIRED_VERSIONS.get(version)
    if day is None:
        return None
    return http_date(datetime.combine(day, time.min, UTC).timestamp())


def retired_response(version: str, sunset: str) -> JsonResponse:
    """000's answer to a retired version: 410 with the sunset date, in its body and its ``Sunset`` header."""
    message = "Please upgrade to a newer version"
    response = JsonResponse({"error": "API version deprecated", "sunset_date": sunset, "message": message}, status=410)
    response["Sunset"] = sunset
    response["X-API-Version"] = version
    response["X-API-Status"] = "retired"
    response["X-Error-Code"] = "API_VERSION_RETIRED"
    response["X-Error-Message"] = f"API version {version} was retired on {sunset}. {message}"
    return response


class ApiVersionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        match = _VERSION.match(request.path)
        if match is None:
            return self.get_response(request)
        version = match.group(1)
        sunset = sunset_of(version)
        if sunset is not None:
            return retired_response(version, sunset)
        response = self.get_response(request)
        info = settings.API_VERSIONS.get(version, {})
        response.setdefault("X-API-Version", version)
        response.setdefault("X-API-Status", info.get("status", "unknown"))
        return response
