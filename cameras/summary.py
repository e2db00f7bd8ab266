"""001's ``GET /cameras/summary``: per camera, today's detections, unknown faces and uptime.

Uptime is the cameras app's own figure; detections belong to recognition, which contributes them with
:func:`contribute` from its ``AppConfig.ready()``. While nobody contributes a figure, it answers None.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.utils import timezone

from cameras import services
from cameras.models import Camera

CONTRIBUTED_FIELDS = ("detections_today", "unknown_faces")

# compute(camera ids, start of the day) -> {camera id: {field: value}}; cameras left out have zero.
PerCameraFigures = Callable[[list[str], datetime], dict[str, dict[str, Any]]]
_contributors: dict[tuple[str, ...], PerCameraFigures] = {}


def contribute(fields: tuple[str, ...], compute: PerCameraFigures) -> None:
    """Let ``compute`` answer ``fields`` (some of :data:`CONTRIBUTED_FIELDS`) for every camera of a summary."""
    unknown = set(fields) - set(CONTRIBUTED_FIELDS)
    if unknown:
        raise ValueError(f"not camera summary fields: {', '.join(sorted(unknown))}")
    _contributors[tuple(fields)] = compute


def withdraw(fields: tuple[str, ...]) -> None:
    _contributors.pop(tuple(fields), None)


def camera_summaries(cameras: Iterable[Camera]) -> list[dict[str, Any]]:
    cameras = list(cameras)
    now = timezone.localtime()
    start_of_day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    camera_ids = [camera.pk for camera in cameras]
    figures: dict[str, dict[str, Any]] = {camera_id: dict.fromkeys(CONTRIBUTED_FIELDS) for camera_id in camera_ids}
    for fields, compute in _contributors.items():
        found = compute(camera_ids, start_of_day)
        for camera_id in camera_ids:
            for field in fields:
                figures[camera_id][field] = found.get(camera_id, {}).get(field, 0)
    uptime = services.uptime_percents(camera_ids, timezone.now().date())
    return [{"id": camera.pk, **figures[camera.pk], "uptime_percent": uptime[camera.pk]} for camera in cameras]
