"""What a session camera saw, matched and recorded: faces against the session's students, reported per interval.

The vision workers search a session camera's frames for faces (:mod:`recognition.face_service.vision`) and
report every ``scanInterval`` seconds through :func:`record_report`.

Matching is 1:N over the students the caller sent with the session (not the enrolled profiles of
the platform): each face takes the student whose embedding is most similar (cosine), and counts as
that student when the similarity reaches the session's threshold. With
FACE_SERVICE_ENFORCE_MODEL_THRESHOLD (default) the threshold never drops below the face model's own
calibrated one (``1 - engine.threshold``, 0.93 for Dlib; ``recognition.matching``): 004's default 0.85 was
written for another model, and under Dlib it would take some strangers for students (different people measure
0.90 there).

A student is recorded once per session (the first time a camera sees them); later sightings only
count in the camera's statistics. A report on a stopped session or camera records no result.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from celery import signature
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from config.metrics import count_recognition
from recognition.engine import FaceEngine
from recognition.face_service import conf
from recognition.face_service.choices import SessionCameraStatus, SessionStatus
from recognition.face_service.sessions import DELIVER_TASK
from recognition.models import RecognitionResult, RecognitionSession, SessionCamera

logger = logging.getLogger("argus.face_service")


@dataclass(frozen=True)
class FaceMatch:
    student_id: int
    similarity: float
    box: dict
    captured_at: float | None = None  # epoch seconds of the frame it was seen in


@dataclass
class Period:
    """What a camera's analysis did between two reports: frames searched, faces found and matched, time spent."""

    frames: int = 0
    faces: int = 0
    matched: int = 0
    seconds: float = 0.0
    last_frame: float | None = None

    def add(self, *, faces: int, matched: int, seconds: float, at: float) -> None:
        self.frames += 1
        self.faces += faces
        self.matched += matched
        self.seconds += seconds
        self.last_frame = at


def effective_threshold(session_threshold: float, engine: FaceEngine) -> float:
    """The similarity a face needs to count as a student in a session with ``session_threshold``."""
    if conf.enforce_model_threshold():
        return max(session_threshold, 1.0 - engine.threshold)
    return session_threshold


def match_faces(
    embeddings: list[tuple[dict, np.ndarray]], students: list[tuple[int, np.ndarray]], threshold: float
) -> tuple[list[FaceMatch], int]:
    """(best match per student over ``embeddings`` at or above ``threshold``, faces matched).

    ``embeddings`` are (bounding box, vector) of the faces of one frame; ``students`` (student pk, vector).
    """
    if not embeddings or not students:
        return [], 0
    matrix = np.stack([vector for _, vector in students]).astype(np.float32)
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    best: dict[int, FaceMatch] = {}
    matched_faces = 0
    for box, vector in embeddings:
        unit = vector / max(float(np.linalg.norm(vector)), 1e-12)
        similarities = matrix @ unit
        index = int(np.argmax(similarities))
        similarity = float(similarities[index])
        if similarity < threshold:
            continue
        matched_faces += 1
        student_id = students[index][0]
        if student_id not in best or similarity > best[student_id].similarity:
            best[student_id] = FaceMatch(student_id, similarity, box)
    return list(best.values()), matched_faces


def _moment(epoch: float | None) -> datetime:
    return datetime.fromtimestamp(epoch, UTC) if epoch is not None else timezone.now()


def record_report(camera_pk: int, period: Period, matches: list[FaceMatch], *, error: str = "") -> int:
    """Record one report of a session camera: its statistics, and a result for each student matched for the
    first time in the session (timed at the capture of the matching frame), whose callback delivery is then
    queued. ``error`` (the stream gave no frame) counts a failed scan instead. Returns the new results."""
    camera = SessionCamera.objects.select_related("session").filter(pk=camera_pk).first()
    if camera is None:
        return 0
    session = camera.session
    log = {"slotId": session.slot_id, "cameraId": camera.camera_id}
    now = timezone.now()
    new_results = 0
    with transaction.atomic():
        current = RecognitionSession.objects.select_for_update().get(pk=session.pk)
        if error:
            SessionCamera.objects.filter(pk=camera.pk).update(
                scans=F("scans") + 1,
                failed_scans=F("failed_scans") + 1,
                consecutive_failures=F("consecutive_failures") + 1,
                error=error[:1000],
                last_scan_at=now,
            )
            logger.warning("camera gave no frame: %s", error, extra=log)
        else:
            SessionCamera.objects.filter(pk=camera.pk).update(
                scans=F("scans") + 1,
                consecutive_failures=0,
                error="",
                frames_processed=F("frames_processed") + period.frames,
                processing_seconds=F("processing_seconds") + period.seconds,
                faces_detected=F("faces_detected") + period.faces,
                faces_matched=F("faces_matched") + period.matched,
                last_scan_at=now,
                last_frame_at=_moment(period.last_frame) if period.last_frame is not None else F("last_frame_at"),
            )
        active = current.status == SessionStatus.ACTIVE and camera.status == SessionCameraStatus.ACTIVE
        if active and matches:
            known = set(
                RecognitionResult.objects.filter(
                    session=session, student_id__in=[m.student_id for m in matches]
                ).values_list("student_id", flat=True)
            )
            fresh = [
                RecognitionResult(
                    session=session,
                    student_id=match.student_id,
                    camera=camera,
                    similarity=round(match.similarity, 4),
                    bounding_box=match.box,
                    detected_at=_moment(match.captured_at),
                )
                for match in matches
                if match.student_id not in known
            ]
            # The session row lock serialises the cameras of one session; the unique constraint stays the
            # last word all the same.
            RecognitionResult.objects.bulk_create(fresh, ignore_conflicts=True)
            new_results = len(fresh)
            if new_results:
                session_id = str(session.pk)
                transaction.on_commit(lambda: signature(DELIVER_TASK).delay(session_id))
    count_recognition("recognized", period.matched)
    count_recognition("unknown", period.faces - period.matched)
    if new_results:
        logger.info("students recognised", extra={**log, "recognitions": new_results})
    return new_results
