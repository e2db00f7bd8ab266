"""The latest count of every camera (000 ``GET /api/v1/counts/realtime``), cached briefly in Redis and in each
process.

Invalidation without races: the answer is kept under the *stamp* (``config.stamps``) it was computed in, and
every commit of new counts bumps the stamp (``INCR``). A reader reads the stamp first (in the request's first
round trip to Redis, with authentication), then uses an answer kept under the same stamp: this process's copy,
else the one in Redis (computed by any process), else the database's, which it stores under the stamp it read.
A reader that computed its answer just before new counts committed stores it under the old stamp, where
nobody will use it, so a stale answer can never outlive the write that made it stale; the TTL bounds how
old an answer may be (camera names and states change without a bump) and how long an unused entry lingers.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import redis
from django.conf import settings
from django.db import connection

from cameras.choices import CameraStatus
from config.api.contracts import utc_iso
from config.api.plain import Kept
from config.redis import get_redis
from config.stamps import UNAVAILABLE, StampedValues

logger = logging.getLogger("argus.counting")

# One LATERAL lookup per camera on the (camera, timestamp) index: a few index probes per camera,
# whatever the size of the raw table (DISTINCT ON would walk every row of that index). Cameras without
# counts are listed with nulls, last, as 000's query does.
_LATEST_SQL = """
SELECT c.id, c.name, c.status, r.count, r.confidence, r.timestamp, r.image_url, r.zone_id
FROM cameras_camera c
LEFT JOIN LATERAL (
    SELECT count, confidence, timestamp, image_url, zone_id
    FROM counting_countrecord
    WHERE camera_id = c.id
    ORDER BY timestamp DESC
    LIMIT 1
) r ON true
ORDER BY r.timestamp DESC NULLS LAST, c.id
"""


# 000 spells camera status active/inactive (as its camera endpoints in Argus do).
_STATUS_000 = {CameraStatus.ONLINE: "active", CameraStatus.OFFLINE: "inactive"}


def _data_key() -> str:
    return f"{settings.REDIS_PREFIX}:counts:realtime"


# This process's answer: valid under the stamp it was computed in, for the cache's TTL since it was computed
# (kept with its rendered body: config.api.plain.Kept).
_local: StampedValues[Kept] = StampedValues("counting:realtime", max_age=settings.COUNTS_REALTIME_CACHE_SECONDS)


def compute_latest() -> list[dict[str, Any]]:
    """Every camera with its latest count (``count`` and the rest None where it has none), newest first."""
    with connection.cursor() as cursor:
        cursor.execute(_LATEST_SQL)
        rows = cursor.fetchall()
    return [
        {
            "camera_id": camera_id,
            "camera_name": name,
            "status": _STATUS_000.get(status, status),
            "count": count,
            "confidence": confidence,
            "timestamp": utc_iso(timestamp),
            "image_url": image_url or None,
            "zone_id": zone_id or None,
        }
        for camera_id, name, status, count, confidence, timestamp, image_url, zone_id in rows
    ]


def latest_counts() -> list[dict[str, Any]]:
    """:func:`compute_latest`, from cache when no count has been stored since it was computed (read only)."""
    ttl = settings.COUNTS_REALTIME_CACHE_SECONDS
    if ttl <= 0:
        return compute_latest()
    _local.max_age = ttl
    stamp = _local.stamp()  # before the rows are read: an answer kept under it is never older than it
    if stamp is UNAVAILABLE:
        return compute_latest()
    items = _local.get("*", stamp)
    if items is not None:
        return items
    generation = stamp.decode() if isinstance(stamp, bytes) else stamp
    client = get_redis()
    try:
        cached = client.get(_data_key())
    except redis.RedisError as exc:
        logger.warning("realtime count cache unavailable: %s", exc)
        return compute_latest()
    if cached is not None:
        entry = json.loads(cached)
        age = max(0.0, time.time() - entry.get("at", 0))
        if entry.get("generation") == generation and age <= ttl:
            return _local.put("*", stamp, Kept(entry["items"]), age=age)
    items = compute_latest()
    entry = {"generation": generation, "at": time.time(), "items": items}
    try:
        client.set(_data_key(), json.dumps(entry), ex=ttl)
    except redis.RedisError as exc:
        logger.warning("realtime count cache unavailable: %s", exc)
    return _local.put("*", stamp, Kept(items))


def invalidate() -> None:
    """Make every cached answer stale (called once new counts are committed)."""
    _local.bump()
