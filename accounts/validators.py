"""Validators of user preferences, shared by the model, the API serializer and the dashboard form."""

from __future__ import annotations

import functools
import json
import zoneinfo
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

# The free-form ``preferences`` document of a user, serialised as JSON, may not exceed this.
MAX_EXTRAS_BYTES = 16 * 1024


@functools.cache
def available_timezones() -> frozenset[str]:
    """Every IANA zone name this machine knows (the OS database, else the ``tzdata`` package).

    Cached: ``zoneinfo.available_timezones()`` walks the zone directories on every call.
    """
    return frozenset(zoneinfo.available_timezones())


def language_codes() -> list[str]:
    return [code for code, _ in settings.LANGUAGES]


def validate_timezone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(
            "Unknown time zone %(value)s; use an IANA name such as Asia/Ho_Chi_Minh",
            code="invalid_timezone",
            params={"value": value},
        )


def validate_language(value: str) -> None:
    codes = language_codes()
    if value not in codes:
        raise ValidationError(
            "Unsupported language %(value)s; one of %(codes)s",
            code="invalid_language",
            params={"value": value, "codes": ", ".join(codes)},
        )


def validate_extras(value: Any) -> None:
    """The extras are a JSON object of at most :data:`MAX_EXTRAS_BYTES` (UTF-8, compact)."""
    if not isinstance(value, dict):
        raise ValidationError("Must be a JSON object", code="invalid_extras")
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_EXTRAS_BYTES:
        raise ValidationError(f"Must be at most {MAX_EXTRAS_BYTES} bytes of JSON (got {size})", code="too_large")
