"""Where the video counter's results go: count records per interval, and a live summary per camera.

Each interval becomes one count record through :func:`counting.ingest.record_counts` (``source="video"``):
``count`` is the interval's crossings in both directions (in + out; for a zone, entries + exits), its
``timestamp`` the interval's start, ``confidence`` the interval's confidence, ``zone_id`` ``"line"`` or
``"zone"``. The count record has no place for the direction, so the in/out split lives in the live summary
below (the latest intervals of each camera, in Redis) and in the run's result (task result, command
output); totals over time come from the records and their rollups.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.utils import timezone

from cameras.models import Camera
from counting.video.runner import IntervalCount

STATUS_TTL_SECONDS = 7 * 86400
RECENT_INTERVALS = 60


def epoch_moment(seconds: float) -> datetime:
    """A stream frame's clock (Unix seconds) as an aware UTC datetime."""
    return datetime.fromtimestamp(seconds, UTC)


def offset_moment(base: datetime) -> Callable[[float], datetime]:
    """A file's clock (seconds into the video) as datetimes from ``base``, the video's first moment."""
    return lambda seconds: base + timedelta(seconds=seconds)


def interval_counts(
    intervals: Iterable[IntervalCount], moment: Callable[[float], datetime], zone_id: str
) -> list[dict[str, Any]]:
    """The ``record_counts`` items for ``intervals``: one per interval, count = in + out."""
    return [
        {
            "count": interval.total,
            "timestamp": moment(interval.start),
            "confidence": interval.confidence,
            "zone_id": zone_id,
        }
        for interval in intervals
    ]


def store_intervals(
    camera: Camera, intervals: Iterable[IntervalCount], moment: Callable[[float], datetime], zone_id: str
) -> int:
    """Store the intervals as count records of ``camera`` (source ``video``); returns how many were stored."""
    from counting.ingest import record_counts

    items = interval_counts(intervals, moment, zone_id)
    return len(record_counts(camera, items, source="video")) if items else 0


def _key(camera_id: str) -> str:
    return f"counting:video:{camera_id}"


def read_status(camera_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The live summary of each camera that has one: ``{camera_id: {...}}`` (see :func:`update_status`)."""
    ids = list(camera_ids)
    found = cache.get_many([_key(camera_id) for camera_id in ids])
    return {camera_id: found[_key(camera_id)] for camera_id in ids if _key(camera_id) in found}


def update_status(
    camera_id: str,
    *,
    running: bool,
    moment: Callable[[float], datetime] = epoch_moment,
    interval: IntervalCount | None = None,
    totals: dict[str, int] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Record what the counter of ``camera_id`` is doing: running or not, its run totals, a finished interval.

    The summary keeps the latest :data:`RECENT_INTERVALS` intervals with their in/out split, for the
    dashboard's tiles; it is written by the one run that holds the camera's lock, so read-modify-write is safe.
    """
    status = cache.get(_key(camera_id)) or {"camera_id": camera_id, "recent": []}
    status.update(fields)
    status["running"] = running
    status["updated"] = timezone.now().isoformat()
    if totals is not None:
        status["run_totals"] = {"in": totals.get("in", 0), "out": totals.get("out", 0)}
    if interval is not None:
        entry = {
            "start": moment(interval.start).isoformat(),
            "end": moment(interval.end).isoformat(),
            "in": interval.entered,
            "out": interval.exited,
            "total": interval.total,
            "confidence": interval.confidence,
        }
        status["last_interval"] = entry
        status["recent"] = [*status.get("recent", []), entry][-RECENT_INTERVALS:]
    cache.set(_key(camera_id), status, timeout=STATUS_TTL_SECONDS)
    return status
