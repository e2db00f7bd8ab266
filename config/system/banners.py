"""Banner messages shown across the top of every client until they expire."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone

from config.api.contracts import ApiError, Kind
from config.api.contracts import FieldError as ApiFieldError
from config.models import BannerMessage
from config.system.choices import BannerLevel

logger = logging.getLogger(__name__)

BANNER_LEVELS = tuple(BannerLevel.values)
BANNER_MAX_LENGTH = 1000


def active_banners() -> list[BannerMessage]:
    """Banners to show now: active, started, and not expired."""
    now = timezone.now()
    return list(
        BannerMessage.objects.filter(active=True, starts_at__lte=now)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("-created_at")
    )


def post_banner(
    message: str, level: str = BannerLevel.INFO, expires_at: datetime | None = None, by=None
) -> BannerMessage:
    """Publish a banner shown from now until ``expires_at`` (or until an admin deactivates it).

    Refused (400) when the message is empty or over 1000 characters, the level is not one of
    info/warning/critical, or the expiry is not in the future.
    """
    message = (message or "").strip()
    errors = []
    if not message:
        errors.append(ApiFieldError("message", "Message must not be empty"))
    elif len(message) > BANNER_MAX_LENGTH:
        errors.append(ApiFieldError("message", f"Message must be at most {BANNER_MAX_LENGTH} characters"))
    if level not in BANNER_LEVELS:
        errors.append(ApiFieldError("level", f"Level must be one of {', '.join(BANNER_LEVELS)}"))
    now = timezone.now()
    if expires_at is not None:
        if timezone.is_naive(expires_at):
            expires_at = timezone.make_aware(expires_at)
        if expires_at <= now:
            errors.append(ApiFieldError("expires_at", "Expiry must be in the future"))
    if errors:
        raise ApiError(Kind.VALIDATION, errors[0].message, field_errors=errors)
    author = (getattr(by, "email", None) or str(by)) if by is not None else ""
    return BannerMessage.objects.create(
        message=message, level=level, starts_at=now, expires_at=expires_at, created_by=author[:255]
    )


def banner_dict(banner: BannerMessage) -> dict[str, Any]:
    """The API shape of one banner."""
    return {
        "id": str(banner.id),
        "message": banner.message,
        "level": banner.level,
        "starts_at": banner.starts_at,
        "expires_at": banner.expires_at,
        "created_by": banner.created_by,
        "created_at": banner.created_at,
    }
