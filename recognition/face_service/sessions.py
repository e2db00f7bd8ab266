"""Starting and stopping recognition sessions (004 ``process-session`` / ``stop-session``).

A session lives in the database (not in one process's memory, as 004's FastAPI design had it), so a
restart of the web or worker processes loses none: the vision workers watch the active cameras of active
sessions (:mod:`recognition.face_service.vision`) and take a session camera up again on another worker
when one dies, as they do the platform's cameras. A Beat watchdog expires sessions never stopped and sends
what waits to be delivered.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from celery import signature
from django.db import IntegrityError, transaction
from django.utils import timezone

from cameras.probing import ProbeResult, probe_stream
from config.api.contracts import ApiError, Kind
from recognition.face_service import conf
from recognition.face_service.callbacks import iso
from recognition.face_service.choices import DeliveryStatus, SessionCameraStatus, SessionStatus
from recognition.face_service.serializers import SessionRequest
from recognition.models import RecognitionResult, RecognitionSession, SessionCamera, SessionStudent

logger = logging.getLogger("argus.face_service")

# The Celery task (recognition.face_service.tasks) that calls back, sent by name: it runs this module, so
# this module never imports it.
DELIVER_TASK = "recognition.face_service.deliver_callbacks"


def _conflict(slot_id: int) -> ApiError:
    return ApiError(
        Kind.CONFLICT, f"Face recognition session already exists for slot {slot_id}", code="SESSION_ALREADY_EXISTS"
    )


def probe_cameras(urls: list[str]) -> list[ProbeResult]:
    """Each stream tested at once (every probe bounded by FACE_SERVICE_CONNECT_TIMEOUT), in order."""
    with ThreadPoolExecutor(max_workers=min(8, max(1, len(urls)))) as pool:
        return list(pool.map(lambda url: probe_stream(url, timeout=conf.connect_timeout()), urls))


def ensure_slot_free(slot_id: int) -> None:
    """409 SESSION_ALREADY_EXISTS while the slot has an active session (004 checks this right after
    validation, before anything else can fail)."""
    if RecognitionSession.objects.filter(slot_id=slot_id, status=SessionStatus.ACTIVE).exists():
        raise _conflict(slot_id)


def start_session(request: SessionRequest, model_name: str) -> dict[str, Any]:
    """Start watching a slot's cameras (the vision workers pick them up within a couple of seconds); the 004
    ``process-session`` answer data.

    409 SESSION_ALREADY_EXISTS while the slot has an active session; 503 MAX_SESSIONS_REACHED at
    FACE_SERVICE_MAX_SESSIONS; 500 ALL_CAMERAS_FAILED when no camera answers (nothing is stored then).
    """
    ensure_slot_free(request.slot_id)
    limit = conf.max_sessions()
    if RecognitionSession.objects.filter(status=SessionStatus.ACTIVE).count() >= limit:
        raise ApiError(
            Kind.UNAVAILABLE,
            f"Maximum number of concurrent sessions reached ({limit})",
            code="MAX_SESSIONS_REACHED",
        )

    probes = probe_cameras([camera.rtsp_url for camera in request.cameras])
    for camera, probe in zip(request.cameras, probes, strict=True):
        if not probe.ok:
            logger.warning(
                "camera connection failed: %s",
                probe.error,
                extra={"slotId": request.slot_id, "cameraId": camera.camera_id},
            )
    active = sum(1 for probe in probes if probe.ok)
    if active == 0:
        raise ApiError(
            Kind.INTERNAL, "Failed to connect to any camera. Cannot start session.", code="ALL_CAMERAS_FAILED"
        )

    now = timezone.now()
    try:
        with transaction.atomic():
            session = RecognitionSession.objects.create(
                slot_id=request.slot_id,
                room_id=request.room_id,
                similarity_threshold=request.similarity_threshold,
                scan_interval=request.scan_interval,
                callback_url=request.callback_url,
                callback_timeout=conf.callback_timeout(),
                callback_max_attempts=1 + conf.callback_retries(),
                callback_backoff_ms=conf.callback_backoff_ms(),
                model_name=model_name,
                total_students=len(request.students),
                total_cameras=len(request.cameras),
                active_cameras=active,
                failed_cameras=len(request.cameras) - active,
                started_at=now,
            )
            SessionStudent.objects.bulk_create(
                SessionStudent(
                    session=session,
                    user_id=student.user_id,
                    full_name=student.full_name,
                    roll_number=student.roll_number,
                    embedding=student.embedding,
                    embedding_version=student.embedding_version,
                )
                for student in request.students
            )
            SessionCamera.objects.bulk_create(
                SessionCamera(
                    session=session,
                    camera_id=camera.camera_id,
                    name=camera.name,
                    rtsp_url=camera.rtsp_url,
                    status=SessionCameraStatus.ACTIVE if probe.ok else SessionCameraStatus.FAILED,
                    error=probe.error,
                    frame_rate=probe.fps,
                    width=probe.width,
                    height=probe.height,
                    latency_ms=probe.latency_ms,
                )
                for camera, probe in zip(request.cameras, probes, strict=True)
            )
    except IntegrityError:
        # Another request started this slot's session between the check above and this insert.
        raise _conflict(request.slot_id) from None
    logger.info(
        "face recognition session started",
        extra={"slotId": session.slot_id, "cameras": active, "students": session.total_students},
    )
    return {
        "slotId": session.slot_id,
        "roomId": session.room_id,
        "totalStudents": session.total_students,
        "totalCameras": session.total_cameras,
        "activeCameras": session.active_cameras,
        "failedCameras": session.failed_cameras,
        "config": {"similarityThreshold": session.similarity_threshold, "scanInterval": session.scan_interval},
        "sessionStartedAt": iso(session.started_at),
    }


def end_session(session: RecognitionSession, status: str) -> None:
    """Mark a locked, active session ended: its cameras stop (the vision workers let them go)."""
    session.status = status
    session.stopped_at = timezone.now()
    session.save(update_fields=["status", "stopped_at"])
    SessionCamera.objects.filter(session=session, status=SessionCameraStatus.ACTIVE).update(
        status=SessionCameraStatus.STOPPED
    )


def stop_session(slot_id: int) -> dict[str, Any]:
    """Stop the slot's active session; the 004 ``stop-session`` summary.

    ``totalRecognitions`` counts the recognitions the caller has received (delivered batches).
    Recognitions still waiting are sent after the stop. 404 SESSION_NOT_FOUND without an active session.
    """
    with transaction.atomic():
        session = (
            RecognitionSession.objects.select_for_update().filter(slot_id=slot_id, status=SessionStatus.ACTIVE).first()
        )
        if session is None:
            raise ApiError(
                Kind.NOT_FOUND, f"No active face recognition session found for slot {slot_id}", code="SESSION_NOT_FOUND"
            )
        end_session(session, SessionStatus.STOPPED)
        delivered = RecognitionResult.objects.filter(session=session, delivery__status=DeliveryStatus.DELIVERED).count()
        if RecognitionResult.objects.filter(session=session, delivery__isnull=True).exists():
            session_id = str(session.pk)
            transaction.on_commit(lambda: signature(DELIVER_TASK).delay(session_id))
    duration = int((session.stopped_at - session.started_at).total_seconds())
    logger.info(
        "face recognition session stopped",
        extra={"slotId": slot_id, "sessionDuration": duration, "totalRecognitions": delivered},
    )
    return {
        "slotId": session.slot_id,
        "sessionDuration": duration,
        "totalRecognitions": delivered,
        "sessionStoppedAt": iso(session.stopped_at),
    }


def watch_sessions() -> dict[str, int]:
    """The watchdog (Celery Beat, every minute): expire sessions never stopped, send recognitions left
    waiting, and requeue batches a dead worker left half sent."""
    from recognition.face_service.callbacks import release_interrupted
    from recognition.face_service.camera_checks import prune_previews

    now = timezone.now()
    expired = 0
    cutoff = now - timedelta(hours=conf.max_session_hours())
    for session_id in RecognitionSession.objects.filter(status=SessionStatus.ACTIVE, started_at__lt=cutoff).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            session = RecognitionSession.objects.select_for_update().get(pk=session_id)
            if session.status == SessionStatus.ACTIVE:
                end_session(session, SessionStatus.EXPIRED)
                expired += 1

    requeued = release_interrupted(older_than_seconds=conf.callback_timeout() * 5 + 120)
    previews = prune_previews(now)
    waiting = set(
        RecognitionResult.objects.filter(delivery__isnull=True).values_list("session_id", flat=True).distinct()
    )
    for session_id in waiting:
        signature(DELIVER_TASK).delay(str(session_id))
    return {
        "expired": expired,
        "requeued": requeued,
        "deliveries": len(waiting),
        "previews_pruned": previews,
    }
