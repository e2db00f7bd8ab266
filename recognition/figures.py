"""Recognition's figures in the platform's summaries (contributed in ``RecognitionConfig.ready()``)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Q

from config.system.summary import SummaryDay
from recognition.choices import DetectionStatus, ProfileStatus
from recognition.models import Detection, FaceProfile


def registered_people(day: SummaryDay) -> int:
    """Face profiles that are not archived."""
    return FaceProfile.objects.exclude(status=ProfileStatus.ARCHIVED).count()


def people_detected_today(day: SummaryDay) -> int:
    """Distinct known people detected since the day began."""
    return (
        Detection.objects.filter(timestamp__gte=day.start)
        .exclude(Q(person_id__isnull=True) | Q(person_id=""))
        .values("person_id")
        .distinct()
        .count()
    )


def unknown_face_alerts(day: SummaryDay) -> int:
    """Detections of unknown faces since the day began."""
    return Detection.objects.filter(timestamp__gte=day.start, status=DetectionStatus.UNKNOWN).count()


def detections_per_camera(camera_ids: list[str], since: datetime) -> dict[str, dict[str, int]]:
    """Per camera, detections and unknown faces since ``since`` (001's camera summary)."""
    rows = (
        Detection.objects.filter(camera_id__in=camera_ids, timestamp__gte=since)
        .values("camera_id")
        .annotate(total=Count("id"), unknown=Count("id", filter=Q(status=DetectionStatus.UNKNOWN)))
    )
    return {row["camera_id"]: {"detections_today": row["total"], "unknown_faces": row["unknown"]} for row in rows}
