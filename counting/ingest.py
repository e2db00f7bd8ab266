"""Storing counts: validate every item, then write the raw rows and their rollups in one statement.

:func:`record_counts` is the one way counts enter Argus: the 000 API (``POST /api/v1/cameras/{id}/counts``)
and the video counter both call it. Its signature is stable.

How the rollups stay exact: a batch is one SQL statement whose data-modifying CTEs insert the raw rows
and upsert ``CountHourly`` and ``CountDaily`` (``INSERT ... ON CONFLICT DO UPDATE``), grouped by camera and
hour (day). Every figure a rollup keeps merges exactly: records and totals add, min and max take the
smaller and the larger, confidences add (their average is ``sum_confidence / records``). The statement runs
in the caller's transaction (or its own), so the raw rows and the rollups commit together or not at all.

Concurrency: ``ON CONFLICT DO UPDATE`` locks the rollup row; a second batch for the same camera and hour
waits for the first to commit and then adds to the committed figures, so nothing is lost. Every batch
locks rollup rows in the same order (hours ascending, then days ascending), so two batches cannot
deadlock on each other.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from cameras.models import Camera
from config.api.contracts import ApiError, FieldError, Kind
from config.api.timestamps import client_timestamp
from counting import realtime
from counting.models import CountRecord, CountSource

MAX_COUNT = 2**31 - 1  # the column is a 32-bit integer
IMAGE_URL_MAX = 500
ZONE_ID_MAX = 50

_INSERT_SQL = """
WITH src AS (
    SELECT *
    FROM unnest(%(ts)s::timestamptz[], %(n)s::integer[], %(conf)s::double precision[],
                %(img)s::varchar[], %(zone)s::varchar[])
         WITH ORDINALITY AS s(ts, n, conf, img, zone, ord)
),
ins AS (
    INSERT INTO counting_countrecord (camera_id, timestamp, count, confidence, image_url, source, zone_id, created_at)
    SELECT %(camera)s, ts, n, conf, img, %(source)s, zone, now() FROM src ORDER BY ord
    RETURNING id, created_at
),
hourly AS (
    INSERT INTO counting_counthourly AS r
        (camera_id, hour, records, total, min_count, max_count, sum_confidence, updated_at)
    SELECT %(camera)s, date_trunc('hour', ts, 'UTC'), count(*), sum(n), min(n), max(n), sum(conf), now()
    FROM src GROUP BY 2 ORDER BY 2
    ON CONFLICT (camera_id, hour) DO UPDATE SET
        records = r.records + EXCLUDED.records,
        total = r.total + EXCLUDED.total,
        min_count = LEAST(r.min_count, EXCLUDED.min_count),
        max_count = GREATEST(r.max_count, EXCLUDED.max_count),
        sum_confidence = r.sum_confidence + EXCLUDED.sum_confidence,
        updated_at = EXCLUDED.updated_at
    RETURNING 1
),
daily AS (
    INSERT INTO counting_countdaily AS r
        (camera_id, day, records, total, min_count, max_count, sum_confidence, updated_at)
    SELECT %(camera)s, (ts AT TIME ZONE 'UTC')::date, count(*), sum(n), min(n), max(n), sum(conf), now()
    FROM src GROUP BY 2 ORDER BY 2
    ON CONFLICT (camera_id, day) DO UPDATE SET
        records = r.records + EXCLUDED.records,
        total = r.total + EXCLUDED.total,
        min_count = LEAST(r.min_count, EXCLUDED.min_count),
        max_count = GREATEST(r.max_count, EXCLUDED.max_count),
        sum_confidence = r.sum_confidence + EXCLUDED.sum_confidence,
        updated_at = EXCLUDED.updated_at
    RETURNING 1
)
SELECT id, created_at FROM ins ORDER BY id
"""


def invalid_counts(errors: list[FieldError]) -> ApiError:
    return ApiError(Kind.VALIDATION, "Invalid count data", field_errors=errors)


def validate_counts(
    items: Sequence[Any],
    *,
    camera_id: str | None = None,
    prefix: str = "",
    single: bool = False,
    now: datetime | None = None,
) -> tuple[list[dict[str, Any]], list[FieldError]]:
    """Check every item; ``(clean items, every problem)``. Problems name the item: ``{prefix}{index}.field``
    (just ``field`` with ``single``, where the request carried one object rather than a list).

    An item is a mapping with ``count`` (integer, 0 or more), ``timestamp`` (aware datetime, or ISO 8601
    text with a time zone), ``confidence`` (0 to 1), and optionally ``image_url``, ``zone_id`` and
    ``camera_id`` (which must then be ``camera_id``, the camera the counts are stored for).
    """
    moment = now or timezone.now()
    clean: list[dict[str, Any]] = []
    errors: list[FieldError] = []
    for index, item in enumerate(items):
        where = "" if single else f"{prefix}{index}."
        clean_item = validate_count(item, where, errors, camera_id=camera_id, now=moment)
        if clean_item is not None:
            clean.append(clean_item)
    return clean, errors


def validate_count(
    item: Any, where: str, errors: list[FieldError], *, camera_id: str | None, now: datetime
) -> dict[str, Any] | None:
    """One item's clean values, or None with its problems appended to ``errors`` (fields prefixed ``where``)."""
    if not isinstance(item, Mapping):
        errors.append(FieldError(where.rstrip(".") or "body", "must be an object with count, timestamp, confidence"))
        return None
    found: list[FieldError] = []
    count = _count(item.get("count"), found)
    timestamp = _timestamp(item.get("timestamp"), found, now)
    confidence = _confidence(item.get("confidence"), found)
    image_url = _text("image_url", item.get("image_url"), IMAGE_URL_MAX, found)
    zone_id = _text("zone_id", item.get("zone_id"), ZONE_ID_MAX, found)
    claimed = item.get("camera_id")
    if claimed not in (None, "") and camera_id is not None and str(claimed) != camera_id:
        found.append(FieldError("camera_id", f"camera_id must be the camera of the path ({camera_id}) or absent"))
    for error in found:
        error.field = f"{where}{error.field}"
    errors.extend(found)
    if found:
        return None
    return {
        "count": count,
        "timestamp": timestamp,
        "confidence": confidence,
        "image_url": image_url,
        "zone_id": zone_id,
    }


def record_counts(camera: Camera, counts: list[dict], *, source: str = "api") -> list[CountRecord]:
    """Store ``counts`` for ``camera`` with their hourly and daily rollups, all or nothing.

    Each item: ``count`` (int >= 0), ``timestamp`` (aware datetime or ISO 8601 text with a zone),
    ``confidence`` (0..1), optional ``image_url`` and ``zone_id``. ``source`` is ``"api"`` or ``"video"``.
    Raises :class:`ApiError` (validation, listing every bad item) before anything is written. Returns the
    stored rows in the order given. Runs inside the caller's transaction when there is one; the realtime
    cache is invalidated once the rows are committed.
    """
    if source not in CountSource.values:
        raise ValueError(f"source must be one of {CountSource.values}, not {source!r}")
    if not counts:
        return []
    clean, errors = validate_counts(counts, camera_id=camera.pk)
    if errors:
        raise invalid_counts(errors)
    params = {
        "camera": camera.pk,
        "source": source,
        "ts": [item["timestamp"] for item in clean],
        "n": [item["count"] for item in clean],
        "conf": [item["confidence"] for item in clean],
        "img": [item["image_url"] for item in clean],
        "zone": [item["zone_id"] for item in clean],
    }
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_INSERT_SQL, params)
            stored = cursor.fetchall()
        transaction.on_commit(lambda: _after_commit(len(clean)))
    records = []
    for (pk, created_at), item in zip(stored, clean, strict=True):
        record = CountRecord(id=pk, camera=camera, source=source, created_at=created_at, **item)
        record._state.adding = False
        record._state.db = connection.alias
        records.append(record)
    return records


def _after_commit(stored: int) -> None:
    realtime.invalidate()
    from config import metrics

    count_ingest = getattr(metrics, "count_ingest", None)
    if count_ingest is not None:
        count_ingest("count", stored)


# --- Field rules -------------------------------------------------------------------------------------------


def _count(value: Any, errors: list[FieldError]) -> int:
    if value is None:
        errors.append(FieldError("count", "count is required"))
        return 0
    # bool is an int to Python, never a count to anyone else; 3.0 is 3, 3.5 is no count.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        errors.append(FieldError("count", "count must be an integer"))
    elif not 0 <= value <= MAX_COUNT:
        errors.append(FieldError("count", f"count must be between 0 and {MAX_COUNT}"))
    else:
        return value
    return 0


def _timestamp(value: Any, errors: list[FieldError], now: datetime) -> datetime:
    if value is None or value == "":
        errors.append(FieldError("timestamp", "timestamp is required"))
        return now
    return client_timestamp(value, errors, now, example="2024-01-01T12:00:00Z") or now


def _confidence(value: Any, errors: list[FieldError]) -> float:
    if value is None:
        errors.append(FieldError("confidence", "confidence is required"))
    elif isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        errors.append(FieldError("confidence", "confidence must be a number between 0 and 1"))
    elif not 0 <= value <= 1:
        errors.append(FieldError("confidence", "confidence must be between 0 and 1"))
    else:
        return float(value)
    return 0.0


def _text(name: str, value: Any, limit: int, errors: list[FieldError]) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.append(FieldError(name, f"{name} must be a string"))
    elif len(value) > limit:
        errors.append(FieldError(name, f"{name} must be at most {limit} characters"))
    elif not value.isprintable():
        errors.append(FieldError(name, f"{name} may not hold control characters"))
    else:
        return value.strip()
    return ""
