"""Event statistics (003 ``GET /events/stats``): four aggregate queries over the filtered events.

- totals: count, confidence average/min/max, distinct normalised plates, first and last timestamp;
- per camera and per zone: count and average confidence (events without a zone are left out of
  ``by_zone``; they are in every other figure);
- the timeline: ``date_trunc`` of the interval (minute, hour, day, ISO week from Monday) in UTC, one
  entry per bucket that has events, oldest first.

``event_rate`` is the count over the range: from ``start_date`` (or the first event) to ``end_date``
(or the last event), and never shorter than one interval, so a single event in an hour reads as one
per hour rather than as an infinite rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Avg, Count, FloatField, Max, Min
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Trunc
from django.utils import timezone

from anpr.choices import INTERVAL_SECONDS, StatsInterval
from anpr.models import PlateEvent
from anpr.payloads import iso
from anpr.search import EventQuery, filter_events, invalid_query, parse_bound
from config.api.contracts import FieldError


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def parse_stats_query(params: Mapping[str, str]) -> tuple[EventQuery, str]:
    """(filters, interval) from the query parameters; 400 with every bad one otherwise."""
    errors: list[FieldError] = []
    get = lambda name: (params.get(name) or "").strip()  # noqa: E731
    start = end = None
    end_exclusive = False
    if get("start_date"):
        start, _ = parse_bound("start_date", get("start_date"), errors, end=False)
    if get("end_date"):
        end, end_exclusive = parse_bound("end_date", get("end_date"), errors, end=True)
    if start and end and end < start:
        errors.append(FieldError("end_date", "end_date must not be before start_date"))
    interval = get("interval") or StatsInterval.HOUR
    if interval not in StatsInterval.values:
        errors.append(FieldError("interval", f"interval must be one of {', '.join(StatsInterval.values)}"))
    if errors:
        raise invalid_query(errors)
    query = EventQuery(
        camera_id=get("camera_id"), zone_id=get("zone_id"), start=start, end=end, end_exclusive=end_exclusive
    )
    return query, interval


def event_stats(query: EventQuery, interval: str = StatsInterval.HOUR) -> dict[str, Any]:
    """The 003 statistics document for the events ``query`` selects."""
    events = filter_events(query)
    totals = events.aggregate(
        total=Count("event_id"),
        avg=Avg("confidence"),
        min=Min("confidence"),
        max=Max("confidence"),
        plates=Count("plate_normalized", distinct=True),
        first=Min("timestamp"),
        last=Max("timestamp"),
    )
    by_camera = {
        row["camera_id"]: {"count": row["count"], "avg_confidence": _round(row["avg"])}
        for row in events.values("camera_id")
        .annotate(count=Count("event_id"), avg=Avg("confidence"))
        .order_by("camera_id")
    }
    by_zone = {
        row["zone_id"]: {"count": row["count"], "avg_confidence": _round(row["avg"])}
        for row in events.exclude(zone_id="")
        .values("zone_id")
        .annotate(count=Count("event_id"), avg=Avg("confidence"))
        .order_by("zone_id")
    }
    timeline = [
        {"timestamp": iso(row["bucket"]), "count": row["count"], "avg_confidence": _round(row["avg"])}
        for row in events.annotate(bucket=Trunc("timestamp", interval, tzinfo=UTC))
        .values("bucket")
        .annotate(count=Count("event_id"), avg=Avg("confidence"))
        .order_by("bucket")
    ]
    return {
        "total_events": totals["total"],
        "avg_confidence": _round(totals["avg"]),
        "min_confidence": _round(totals["min"]),
        "max_confidence": _round(totals["max"]),
        "unique_plates": totals["plates"],
        "event_rate": event_rate(
            totals["total"], query.start or totals["first"], query.end or totals["last"], interval
        ),
        "by_camera": by_camera,
        "by_zone": by_zone,
        "timeline": timeline,
    }


def event_rate(total: int, start: datetime | None, end: datetime | None, interval: str) -> dict[str, float]:
    """Events per second, minute and hour over [start, end], the span being at least one interval."""
    if not total or start is None or end is None:
        return {"per_second": 0.0, "per_minute": 0.0, "per_hour": 0.0}
    seconds = max((end - start).total_seconds(), INTERVAL_SECONDS[StatsInterval(interval)])
    per_second = total / seconds
    return {
        "per_second": round(per_second, 6),
        "per_minute": round(per_second * 60, 4),
        "per_hour": round(per_second * 3600, 2),
    }


METRICS_WINDOW = timedelta(hours=1)


def engine_metrics(now: datetime | None = None) -> dict[str, Any]:
    """003's ``metrics`` block of ``/healthz/detailed``: every event stored, the events per minute over the last
    hour (by the time they were stored), and the average ``metadata.processing_time_ms`` the edge workers
    reported for that hour's events (null when none reported one)."""
    now = now or timezone.now()
    recent = PlateEvent.objects.filter(created_at__gte=now - METRICS_WINDOW)
    figures = recent.aggregate(
        count=Count("pk"),
        processing=Avg(Cast(KeyTextTransform("processing_time_ms", "metadata"), FloatField())),
    )
    return {
        "events_total": PlateEvent.objects.count(),
        "events_per_minute": round(figures["count"] / (METRICS_WINDOW.total_seconds() / 60), 2),
        "avg_processing_time_ms": _round(figures["processing"], 1),
    }
