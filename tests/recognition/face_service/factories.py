"""Sessions built straight in the database, for tests about what happens after a session started."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from django.utils import timezone

from recognition.face_service.choices import SessionCameraStatus, SessionStatus
from recognition.models import RecognitionResult, RecognitionSession, SessionCamera, SessionStudent


def make_session(
    slot_id: int = 1,
    *,
    callback_url: str = "http://127.0.0.1:9/cb",
    started_ago: float = 0,
    camera_url: str = "rtsp://127.0.0.1:1/none.mp4",
    students: dict[int, list[float]] | None = None,
    **fields,
) -> RecognitionSession:
    """An active session with one active camera and its students."""
    students = students if students is not None else {201: list(np.ones(128, dtype=np.float32))}
    session = RecognitionSession.objects.create(
        slot_id=slot_id,
        room_id=1,
        similarity_threshold=fields.pop("similarity_threshold", 0.85),
        scan_interval=fields.pop("scan_interval", 1),
        callback_url=callback_url,
        callback_timeout=fields.pop("callback_timeout", 5.0),
        callback_max_attempts=fields.pop("callback_max_attempts", 4),
        callback_backoff_ms=fields.pop("callback_backoff_ms", 10),
        model_name="Dlib",
        total_students=len(students),
        total_cameras=1,
        active_cameras=1,
        started_at=timezone.now() - timedelta(seconds=started_ago),
        **fields,
    )
    SessionCamera.objects.create(
        session=session,
        camera_id=1,
        name="Camera A101-01",
        rtsp_url=camera_url,
        status=SessionCameraStatus.ACTIVE,
        frame_rate=10.0,
    )
    SessionStudent.objects.bulk_create(
        SessionStudent(
            session=session,
            user_id=user_id,
            full_name=f"Student {user_id}",
            roll_number=f"HE{user_id}",
            embedding=vector,
            embedding_version=1,
        )
        for user_id, vector in students.items()
    )
    return session


def add_results(session: RecognitionSession, count: int, similarity: float = 0.95) -> list[RecognitionResult]:
    """``count`` recognitions of new students of ``session``, undelivered."""
    camera = session.cameras.get()
    base = 1000 + session.students.count()
    students = SessionStudent.objects.bulk_create(
        SessionStudent(
            session=session,
            user_id=base + i,
            full_name=f"Student {base + i}",
            roll_number=f"HE{base + i}",
            embedding=list(np.ones(128, dtype=np.float32)),
            embedding_version=1,
        )
        for i in range(count)
    )
    now = timezone.now()
    return RecognitionResult.objects.bulk_create(
        RecognitionResult(
            session=session,
            student=student,
            camera=camera,
            similarity=similarity,
            bounding_box={"top": 1, "left": 2, "width": 3, "height": 4},
            detected_at=now,
        )
        for student in students
    )


def is_active(session: RecognitionSession) -> bool:
    session.refresh_from_db()
    return session.status == SessionStatus.ACTIVE
