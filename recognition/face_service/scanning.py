"""One scan of one session camera: grab a frame, find the faces, match them against the session's students.

Matching is 1:N over the students the caller sent with the session (not the enrolled profiles of
the platform): each face takes the student whose embedding is most similar (cosine), and counts as
that student when the similarity reaches the session's threshold. With
FACE_SERVICE_ENFORCE_MODEL_THRESHOLD (default) the threshold never drops below the face model's own
calibrated one (``1 - engine.threshold``, 0.92 for Dlib): 004's default 0.85 was written for another
model, and under Dlib it would take some strangers for students (different people measure 0.90 there).

A student is recorded once per session (the first time a camera sees them); later sightings only
count in the camera's statistics. Each scan re-reads the session, so a stopped session ends its chain.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import cv2
import numpy as np
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cameras.probing import StreamUnavailable, grab_frame
from config.metrics import count_recognition
from recognition.engine import FaceEngine, get_engine
from recognition.face_service import conf
from recognition.face_service.choices import SessionCameraStatus, SessionStatus
from recognition.models import RecognitionResult, RecognitionSession, SessionCamera, SessionStudent

logger = logging.getLogger("argus.face_service")


@dataclass(frozen=True)
class ScanOutcome:
    """What a scan did. ``keep_scanning`` is False once the chain must end (session or camera stopped,
    or the chain superseded); ``new_results`` counts students recognised for the first time."""

    keep_scanning: bool
    interval: int = 0
    session_id: str | None = None
    faces: int = 0
    matched: int = 0
    new_results: int = 0
    error: str = ""


@dataclass(frozen=True)
class FaceMatch:
    student_id: int
    similarity: float
    box: dict


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


def _claim(camera_pk: int, chain: str) -> SessionCamera | None:
    """The camera if this chain is still the live one of an active camera of an active session."""
    camera = SessionCamera.objects.select_related("session").filter(pk=camera_pk).first()
    if camera is None or str(camera.scan_chain) != str(chain):
        return None
    if camera.status != SessionCameraStatus.ACTIVE or camera.session.status != SessionStatus.ACTIVE:
        return None
    return camera


def scan_camera(camera_pk: int, chain: str, engine: FaceEngine | None = None) -> ScanOutcome:
    """Scan one camera once (see the module docstring); never raises for a camera or stream failure."""
    camera = _claim(camera_pk, chain)
    if camera is None:
        return ScanOutcome(keep_scanning=False)
    session = camera.session
    base = {"interval": session.scan_interval, "session_id": str(session.pk)}
    log = {"slotId": session.slot_id, "cameraId": camera.camera_id}
    now = timezone.now()
    try:
        jpeg = grab_frame(camera.rtsp_url, timeout=conf.connect_timeout())
        pixels = cv2.imdecode(np.frombuffer(jpeg, dtype=np.uint8), cv2.IMREAD_COLOR)
        if pixels is None:
            raise StreamUnavailable("The camera sent an undecodable frame")
    except StreamUnavailable as exc:
        SessionCamera.objects.filter(pk=camera.pk).update(
            scans=F("scans") + 1,
            failed_scans=F("failed_scans") + 1,
            consecutive_failures=F("consecutive_failures") + 1,
            error=str(exc)[:1000],
            last_scan_at=now,
        )
        logger.warning("camera frame grab failed: %s", exc, extra=log)
        return ScanOutcome(keep_scanning=True, error=str(exc), **base)

    engine = engine or get_engine()
    started = time.perf_counter()
    faces = [(face.box.as_api(), vector) for face, vector in engine.represent(pixels)]
    students = [
        (pk, np.asarray(vector, dtype=np.float32))
        for pk, vector in SessionStudent.objects.filter(session=session).values_list("pk", "embedding")
    ]
    matches, matched_faces = match_faces(faces, students, effective_threshold(session.similarity_threshold, engine))
    elapsed = time.perf_counter() - started

    new_results = 0
    with transaction.atomic():
        current = RecognitionSession.objects.select_for_update().get(pk=session.pk)
        SessionCamera.objects.filter(pk=camera.pk).update(
            scans=F("scans") + 1,
            consecutive_failures=0,
            error="",
            frames_processed=F("frames_processed") + 1,
            processing_seconds=F("processing_seconds") + elapsed,
            faces_detected=F("faces_detected") + len(faces),
            faces_matched=F("faces_matched") + matched_faces,
            last_scan_at=now,
            last_frame_at=now,
        )
        if current.status == SessionStatus.ACTIVE and matches:
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
                    detected_at=now,
                )
                for match in matches
                if match.student_id not in known
            ]
            # The session row lock serialises the cameras of one session; the unique constraint stays the
            # last word all the same.
            RecognitionResult.objects.bulk_create(fresh, ignore_conflicts=True)
            new_results = len(fresh)
    count_recognition("recognized", matched_faces)
    count_recognition("unknown", len(faces) - matched_faces)
    if new_results:
        logger.info("students recognised", extra={**log, "recognitions": new_results})
    return ScanOutcome(keep_scanning=True, faces=len(faces), matched=matched_faces, new_results=new_results, **base)


def scan_camera_outcome_after_error(camera_pk: int, chain: str) -> ScanOutcome:
    """After an unexpected error in a scan: go on with the chain if it is still the live one."""
    camera = _claim(camera_pk, chain)
    if camera is None:
        return ScanOutcome(keep_scanning=False)
    SessionCamera.objects.filter(pk=camera.pk).update(
        scans=F("scans") + 1, failed_scans=F("failed_scans") + 1, last_scan_at=timezone.now()
    )
    return ScanOutcome(keep_scanning=True, interval=camera.session.scan_interval, session_id=str(camera.session_id))
