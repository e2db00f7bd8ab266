"""001 ``GET /system/summary``: the platform's figures of the day, each contributed by the app that owns it.

The summary names its fields, in 001's order; the app that owns a figure contributes its computation with
:func:`contribute` from its ``AppConfig.ready()``, so nothing here looks another app's model up. A field that no
installed app contributes answers None, never a made-up number.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.utils import timezone

logger = logging.getLogger(__name__)

SUMMARY_FIELDS = (
    "active_cameras",
    "registered_people",
    "people_detected_today",
    "unknown_face_alerts",
    "manual_overrides",
    "attendance_completion",
    "last_sync",
)


@dataclass(frozen=True)
class SummaryDay:
    """The site-local day a summary describes, and the moment it began."""

    date: date
    start: datetime


Figure = Callable[[SummaryDay], Any]
_figures: dict[str, Figure] = {}


def contribute(field: str, compute: Figure) -> None:
    """Let ``compute(day)`` answer ``field`` of the summary (one contributor per field; a later one replaces)."""
    if field not in SUMMARY_FIELDS:
        raise ValueError(f"{field!r} is not a summary field; one of {', '.join(SUMMARY_FIELDS)}")
    _figures[field] = compute


def withdraw(field: str) -> None:
    _figures.pop(field, None)


def today() -> SummaryDay:
    day = timezone.localdate()
    return SummaryDay(day, timezone.make_aware(datetime.combine(day, datetime.min.time())))


def summary(day: SummaryDay | None = None) -> dict[str, Any]:
    """Every summary field for ``day`` (today by default): its contributor's figure, or None without one."""
    day = day or today()
    return {field: _figures[field](day) if field in _figures else None for field in SUMMARY_FIELDS}
