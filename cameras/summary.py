"""001's ``GET /cameras/summary``: per camera, today's detections, unknown faces and uptime."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.db.models import Count, Q
from django.utils import timezone

from cameras import services
from cameras.models import Camera


def _detection_counts(camera_ids: list[str], since) -> dict[str, dict[str, int]] | None:
    """Today's detections per camera from the recognition app; None while it records none."""
    try:
        detection = apps.get_model("recognition", "Detection")
    except LookupError:
        return None
    rows = (
        detection.objects.filter(camera_id__in=camera_ids, timestamp__gte=since)
        .values("camera_id")
        .annotate(total=Count("id"), unknown=Count("id", filter=Q(status="unknown")))
    )
    return {row["camera_id"]: {"total": row["total"], "unknown": row["unknown"]} for row in rows}


def camera_summaries(cameras: Iterable[Camera]) -> list[dict[str, Any]]:
    cameras = list(cameras)
    now = timezone.localtime()
    start_of_day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    counts = _detection_counts([c.pk for c in cameras], start_of_day)
    summaries = []
    for camera in cameras:
        figures = counts.get(camera.pk, {"total": 0, "unknown": 0}) if counts is not None else None
        summaries.append(
            {
                "id": camera.pk,
                "detections_today": figures["total"] if figures else None,
                "unknown_faces": figures["unknown"] if figures else None,
                "uptime_percent": services.uptime_percent(camera.pk, timezone.now().date()),
            }
        )
    return summaries
