"""Count analytics (000 ``GET /api/v1/counts/analytics``), from the rollups only.

Granularity is the hour: a range ``[start, end)`` is widened to whole UTC hours (start down to its
hour, end up to the next hour boundary), and the answer states the range it covers. Hours are the
smallest unit the rollups keep, so within that range every figure is exact.

Where the figures come from:

* hourly buckets: ``CountHourly`` rows of the range (only for ranges up to
  ``COUNTS_ANALYTICS_HOURLY_MAX_DAYS``: a year of hours is 8,760 buckets nobody reads as JSON);
* daily buckets and per-camera totals: ``CountDaily`` for the whole UTC days inside the range, plus
  ``CountHourly`` for the partial days at either end, in one query with ``GROUPING SETS`` so both
  come out of one pass;
* overall totals: the per-camera totals merged.

Every figure merges exactly: ``records`` and ``total`` add, ``min``/``max`` of mins and maxes,
``avg_count = total / records``, ``avg_confidence = sum_confidence / records``.

:func:`raw_analytics` computes the same answer from the raw table (for the benchmark and tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import connection

from cameras.models import Camera
from config.api.contracts import utc_iso

HOUR = timedelta(hours=1)
# Buckets are labelled by PostgreSQL: parsing and formatting thousands of datetimes in Python cost more
# than the query that found them.
HOUR_FORMAT = 'YYYY-MM-DD"T"HH24:00:00"Z"'
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Figures:
    records: int
    total: int
    min_count: int | None
    max_count: int | None
    sum_confidence: float

    @classmethod
    def empty(cls) -> Figures:
        return cls(0, 0, None, None, 0.0)

    def merge(self, other: Figures) -> Figures:
        return Figures(
            self.records + other.records,
            self.total + other.total,
            _pick(min, self.min_count, other.min_count),
            _pick(max, self.max_count, other.max_count),
            self.sum_confidence + other.sum_confidence,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "total_records": self.records,
            "total_count": self.total,
            "avg_count": self.total / self.records if self.records else None,
            "min_count": self.min_count,
            "max_count": self.max_count,
            "avg_confidence": self.sum_confidence / self.records if self.records else None,
        }

    def as_totals(self) -> dict[str, Any]:
        """:meth:`as_dict` with 000's names beside ours (``overall_avg``, ``peak_count``), for the per-camera
        and overall figures, where 000's analytics query puts them."""
        figures = self.as_dict()
        return {**figures, "overall_avg": figures["avg_count"], "peak_count": figures["max_count"]}


def _pick(choose, a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return choose(a, b)


def _figures(row: tuple) -> Figures:
    records, total, low, high, confidence = row
    return Figures(int(records), int(total), low, high, float(confidence))


def hour_range(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """``[start, end)`` widened to whole UTC hours."""
    start = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    end_utc = end.astimezone(UTC)
    floored = end_utc.replace(minute=0, second=0, microsecond=0)
    return start, floored if floored == end_utc else floored + HOUR


def _camera_filter(column: str, camera_ids: list[str] | None) -> str:
    if camera_ids is None:
        return ""
    # One camera as a plain equality: the planner then reads the (camera, time) index for sure.
    return f" AND {column} = %(camera)s" if len(camera_ids) == 1 else f" AND {column} = ANY(%(cameras)s)"


def _split_days(start: datetime, end: datetime) -> tuple[date, date, datetime, datetime]:
    """(first whole day, day after the last whole day, end of the leading partial hours, start of the
    trailing ones). Without a whole day inside the range the daily part is empty and hours cover it all."""
    first = (start + DAY - timedelta(microseconds=1)).date()  # the first midnight at or after start
    last = end.date()  # the last midnight at or before end
    if first >= last:
        return first, first, end, end
    return first, last, datetime.combine(first, time.min, UTC), datetime.combine(last, time.min, UTC)


def analytics(
    start: datetime,
    end: datetime,
    camera_ids: list[str] | None = None,
    *,
    hourly: bool | None = None,
    use_daily_rollup: bool = True,
) -> dict[str, Any]:
    """Per-camera and overall figures over ``[start, end)`` (widened to whole hours), with daily and
    hourly buckets. ``camera_ids`` None means every camera. ``hourly`` None lists hourly buckets for ranges
    up to ``COUNTS_ANALYTICS_HOURLY_MAX_DAYS``. ``use_daily_rollup`` False reads whole days from the
    hourly rollup too (the benchmark's comparison)."""
    start, end = hour_range(start, end)
    if hourly is None:
        hourly = end - start <= timedelta(days=settings.COUNTS_ANALYTICS_HOURLY_MAX_DAYS)
    if use_daily_rollup:
        first_day, last_day, lead_end, trail_start = _split_days(start, end)
    else:
        first_day = last_day = start.date()
        lead_end = trail_start = end
    params = {
        "start": start,
        "end": end,
        "first_day": first_day,
        "last_day": last_day,
        "lead_end": lead_end,
        "trail_start": trail_start,
        "cameras": camera_ids,
        "camera": camera_ids[0] if camera_ids else None,
        "hour_format": HOUR_FORMAT,
    }
    # GROUPING(camera_id, day) is 1 for the per-camera rows (day aggregated away), 2 for the per-day rows.
    sql = f"""
        WITH parts AS (
            SELECT camera_id, day, records, total, min_count, max_count, sum_confidence
            FROM counting_countdaily
            WHERE day >= %(first_day)s AND day < %(last_day)s{_camera_filter("camera_id", camera_ids)}
            UNION ALL
            SELECT camera_id, (hour AT TIME ZONE 'UTC')::date, records, total, min_count, max_count, sum_confidence
            FROM counting_counthourly
            WHERE ((hour >= %(start)s AND hour < %(lead_end)s) OR (hour >= %(trail_start)s AND hour < %(end)s))
                {_camera_filter("camera_id", camera_ids)}
        )
        SELECT GROUPING(camera_id, day), camera_id, to_char(day, 'YYYY-MM-DD'),
               SUM(records)::bigint, SUM(total)::bigint, MIN(min_count), MAX(max_count), SUM(sum_confidence)
        FROM parts
        GROUP BY GROUPING SETS ((camera_id), (day))
    """
    per_camera: dict[str, Figures] = {}
    per_day: dict[str, Figures] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for grouping, camera_id, day, *figures in cursor.fetchall():
            if grouping == 1:
                per_camera[camera_id] = _figures(tuple(figures))
            else:
                per_day[day] = _figures(tuple(figures))
        hours: list[tuple] = []
        if hourly:
            cursor.execute(
                f"""
                SELECT to_char(hour AT TIME ZONE 'UTC', %(hour_format)s) AS label, SUM(records)::bigint,
                       SUM(total)::bigint, MIN(min_count), MAX(max_count), SUM(sum_confidence)
                FROM counting_counthourly
                WHERE hour >= %(start)s AND hour < %(end)s{_camera_filter("camera_id", camera_ids)}
                GROUP BY hour ORDER BY hour
                """,
                params,
            )
            hours = cursor.fetchall()
    return _answer(start, end, camera_ids, per_camera, per_day, hours if hourly else None)


def raw_analytics(start: datetime, end: datetime, camera_ids: list[str] | None = None, *, hourly: bool | None = None):
    """:func:`analytics` computed from the raw ``CountRecord`` table (same range rules, same answer)."""
    start, end = hour_range(start, end)
    if hourly is None:
        hourly = end - start <= timedelta(days=settings.COUNTS_ANALYTICS_HOURLY_MAX_DAYS)
    params = {
        "start": start,
        "end": end,
        "cameras": camera_ids,
        "camera": camera_ids[0] if camera_ids else None,
        "hour_format": HOUR_FORMAT,
    }
    where = f"timestamp >= %(start)s AND timestamp < %(end)s{_camera_filter('camera_id', camera_ids)}"
    per_camera: dict[str, Figures] = {}
    per_day: dict[str, Figures] = {}
    with connection.cursor() as cursor:
        # One pass over the raw rows into (camera, day) groups, then both groupings from those: the
        # quickest plain-SQL form (GROUPING SETS straight over millions of rows sorts them all).
        cursor.execute(
            f"""
            WITH per_camera_day AS (
                SELECT camera_id, (timestamp AT TIME ZONE 'UTC')::date AS day, COUNT(*) AS records,
                       SUM(count) AS total, MIN(count) AS low, MAX(count) AS high, SUM(confidence) AS conf
                FROM counting_countrecord WHERE {where}
                GROUP BY 1, 2
            )
            SELECT GROUPING(camera_id, day), camera_id, to_char(day, 'YYYY-MM-DD'),
                   SUM(records)::bigint, SUM(total)::bigint, MIN(low), MAX(high), SUM(conf)
            FROM per_camera_day
            GROUP BY GROUPING SETS ((camera_id), (day))
            """,
            params,
        )
        for grouping, camera_id, day, *figures in cursor.fetchall():
            if grouping == 1:
                per_camera[camera_id] = _figures(tuple(figures))
            else:
                per_day[day] = _figures(tuple(figures))
        hours: list[tuple] = []
        if hourly:
            cursor.execute(
                f"""
                SELECT to_char(date_trunc('hour', timestamp, 'UTC') AT TIME ZONE 'UTC', %(hour_format)s),
                       COUNT(*), SUM(count)::bigint, MIN(count), MAX(count), SUM(confidence)
                FROM counting_countrecord WHERE {where}
                GROUP BY date_trunc('hour', timestamp, 'UTC') ORDER BY date_trunc('hour', timestamp, 'UTC')
                """,
                params,
            )
            hours = cursor.fetchall()
    return _answer(start, end, camera_ids, per_camera, per_day, hours if hourly else None)


def _answer(
    start: datetime,
    end: datetime,
    camera_ids: list[str] | None,
    per_camera: dict[str, Figures],
    per_day: dict[str, Figures],
    hours: list[tuple] | None,
) -> dict[str, Any]:
    names = dict(Camera.objects.filter(pk__in=list(per_camera)).values_list("pk", "name")) if per_camera else {}
    overall = Figures.empty()
    cameras = []
    for camera_id in sorted(per_camera):
        figures = per_camera[camera_id]
        overall = overall.merge(figures)
        cameras.append({"camera_id": camera_id, "camera_name": names.get(camera_id), **figures.as_totals()})
    return {
        "camera_id": camera_ids[0] if camera_ids and len(camera_ids) == 1 else None,
        "start_date": utc_iso(start),
        "end_date": utc_iso(end),
        "granularity": "hour",
        "summary": overall.as_totals(),
        "cameras": cameras,
        "daily": [{"date": day, **per_day[day].as_dict()} for day in sorted(per_day)],
        "hourly": None
        if hours is None
        else [{"hour": hour, **_figures(tuple(figures)).as_dict()} for hour, *figures in hours],
    }
