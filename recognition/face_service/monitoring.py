"""Health and performance metrics of the face service (004 ``health`` and ``metrics``).

Every figure is counted from the database (sessions, session cameras, recognitions, embedding jobs), so
it is the same whichever web process answers and includes what the Celery workers did.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from django.db import DatabaseError
from django.db.models import Avg, Count, Q, Sum
from django.utils import timezone

from config.health import STARTED_AT
from config.redis import get_redis
from recognition.engine import FaceEngineUnavailable, get_engine
from recognition.face_service import conf
from recognition.face_service.callbacks import iso
from recognition.face_service.choices import EmbeddingJobKind, SessionCameraStatus, SessionStatus
from recognition.models import EmbeddingJob, RecognitionResult, RecognitionSession, SessionCamera


def uptime() -> int:
    return int(time.time() - STARTED_AT)


def _ratio(part: float | None, whole: float | None, digits: int = 2) -> float:
    return round(float(part or 0) / float(whole), digits) if whole else 0.0


def _round(value: float | None, digits: int = 2) -> float:
    return round(float(value or 0.0), digits)


def health() -> tuple[int, str, dict[str, Any]]:
    """(HTTP status, message, data). Unhealthy (503) without the database; degraded when Redis (the
    Celery broker) or the face engine's weights are unavailable."""
    base = {"service": conf.service_name()}
    try:
        active = RecognitionSession.objects.filter(status=SessionStatus.ACTIVE).count()
    except DatabaseError:
        return 503, "Service is unhealthy", {**base, "status": "unhealthy", "error": "Database connection failed"}
    problems = []
    try:
        get_redis().ping()
    except Exception:  # any Redis failure means the same thing here: callbacks cannot be queued
        problems.append("Redis unavailable")
    try:
        get_engine().ensure_weights()
    except FaceEngineUnavailable:
        problems.append("Face engine weights unavailable")
    status = "degraded" if problems else "healthy"
    data = {
        **base,
        "version": conf.service_version(),
        "status": status,
        "uptime": uptime(),
        "activeSessions": active,
        "timestamp": iso(),
    }
    return 200, ("Service is degraded: " + ", ".join(problems)) if problems else "Service is healthy", data


def _start_of_today() -> datetime:
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def metrics() -> dict[str, Any]:
    """004 ``metrics`` data."""
    sessions = RecognitionSession.objects.aggregate(
        active=Count("pk", filter=Q(status=SessionStatus.ACTIVE)),
        today=Count("pk", filter=Q(started_at__gte=_start_of_today())),
    )
    scans = SessionCamera.objects.aggregate(
        frames=Sum("frames_processed"),
        seconds=Sum("processing_seconds"),
        faces=Sum("faces_detected"),
        matched=Sum("faces_matched"),
    )
    results = RecognitionResult.objects.aggregate(total=Count("pk"), confidence=Avg("similarity"))
    jobs = EmbeddingJob.objects.filter(kind=EmbeddingJobKind.GENERATE).aggregate(
        total=Count("pk"),
        generated=Count("pk", filter=Q(succeeded=True)),
        mean_quality=Avg("quality", filter=Q(succeeded=True)),
        mean_seconds=Avg("processing_seconds"),
    )
    live = SessionCamera.objects.filter(session__status=SessionStatus.ACTIVE).aggregate(
        total=Count("pk"),
        active=Count("pk", filter=Q(status=SessionCameraStatus.ACTIVE)),
        failed=Count("pk", filter=Q(status=SessionCameraStatus.FAILED)),
        fps=Avg("frame_rate", filter=Q(status=SessionCameraStatus.ACTIVE)),
    )
    return {
        "service": {"uptime": uptime(), "activeSessions": sessions["active"], "totalSessionsToday": sessions["today"]},
        "recognition": {
            "totalRecognitions": results["total"],
            "averageConfidence": _round(results["confidence"]),
            "averageProcessingTime": _ratio(scans["seconds"], scans["frames"], 3),
            "recognitionRate": _ratio(scans["matched"], scans["faces"]),
        },
        "embedding": {
            "totalGenerated": jobs["generated"],
            "averageQuality": _round(jobs["mean_quality"]),
            "averageProcessingTime": _round(jobs["mean_seconds"]),
            "successRate": _ratio(jobs["generated"], jobs["total"]),
        },
        "cameras": {
            "totalCameras": live["total"],
            "activeCameras": live["active"],
            "failedCameras": live["failed"],
            "averageFrameRate": _round(live["fps"], 1),
        },
        "timestamp": iso(),
    }
