"""The latest count of every camera (000 ``GET /api/v1/counts/realtime``), cached briefly in Redis.

Invalidation without races: the cache entry carries the *generation* it was computed in, and every
commit of new counts bumps the generation (``INCR``). A reader fetches the generation and the entry in
one ``MGET`` and uses the entry only when both match. A reader that computed its answer just before new
counts committed stores it under the old generation, where nobody will use it, so a stale answer can
never outlive the write that made it stale; the TTL only bounds how long an unused entry lingers.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import redis
from django.conf import settings
from django.db import connection

from cameras.choices import CameraStatus
from config.api.contracts import utc_iso
from config.redis import get_redis

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


def _keys() -> tuple[str, str]:
    prefix = settings.REDIS_PREFIX
    return f"{prefix}:counts:realtime:gen", f"{prefix}:counts:realtime"


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
    """:func:`compute_latest`, from cache when no count has been stored since it was computed."""
    ttl = settings.COUNTS_REALTIME_CACHE_SECONDS
    if ttl <= 0:
        return compute_latest()
    gen_key, data_key = _keys()
    client = get_redis()
    try:
        generation, cached = client.mget(gen_key, data_key)
    except redis.RedisError as exc:
        logger.warning("realtime count cache unavailable: %s", exc)
        return compute_latest()
    generation = int(generation or 0)
    if cached is not None:
        entry = json.loads(cached)
        if entry.get("generation") == generation:
            return entry["items"]
    items = compute_latest()
    try:
        client.set(data_key, json.dumps({"generation": generation, "items": items}), ex=ttl)
    except redis.RedisError as exc:
        logger.warning("realtime count cache unavailable: %s", exc)
    return items


def invalidate() -> None:
    """Make every cached answer stale (called once new counts are committed)."""
    gen_key, _ = _keys()
    try:
        get_redis().incr(gen_key)
    except redis.RedisError as exc:
        # The entry expires on its own within COUNTS_REALTIME_CACHE_SECONDS.
        logger.warning("could not invalidate the realtime count cache: %s", exc)
