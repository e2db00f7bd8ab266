"""The ``/events/stream`` group on the channel layer: every web process's stream consumers listen to it."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger("argus.anpr")

GROUP = "anpr.events"


def publish(payload: dict[str, Any]) -> None:
    """Send one accepted event (003 representation) to every connected stream, whatever the process."""
    event = {
        "type": "anpr.event",
        "camera_id": payload.get("camera_id"),
        "zone_id": payload.get("zone_id"),
        "data": payload,
    }
    try:
        async_to_sync(get_channel_layer().group_send)(GROUP, event)
    except Exception:  # a dropped live update must not fail the ingest that caused it (it is stored)
        logger.exception("could not publish event %s on the stream", payload.get("event_id"))
