"""Negative feedback: an operator marks a detection as the wrong person.

The rejected pair is kept as a :class:`~recognition.models.MatchRejection`: the profile, the embedding of the
rejected face (the detection's stored crop, embedded again by an inference worker: detections keep no
vectors), and the decision that produced the mistake (distance, top-1/top-2 margin, threshold). From then on
:func:`recognition.matching.identify` refuses that profile for a face near the rejected one
(:data:`recognition.matching.REJECTION_RADIUS`), so the next candidate, or nobody, stands. The detection
itself becomes unknown. Every surface (API, dashboard, Admin) rejects through :func:`reject_detection`,
which writes the audit entry.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.db import transaction

from config.api.contracts import ApiError, Kind
from recognition import analysis, inference
from recognition.choices import DetectionStatus
from recognition.engine import FaceEngine, get_engine
from recognition.enrolment import SYSTEM, Editor
from recognition.models import Detection, MatchRejection


def decision_of(detection: Detection) -> dict[str, Any]:
    """The decision that named (or did not name) the detection's person: distance and similarity to the
    match, the top-1/top-2 margin and the threshold, from its event's payload (the camera tracker writes
    them there; send-frame writes them per face)."""
    payload = (detection.event.payload if detection.event_id else None) or {}
    margin = payload.get("margin")
    threshold = payload.get("threshold")
    if "faces" in payload:  # send-frame: the face of this detection's box
        face = next((f for f in payload["faces"] if f.get("boundingBox") == detection.bounding_box), {})
        margin = face.get("margin")
    distance = detection.distance
    return {
        "distance": distance,
        "similarity": None if distance is None else round(1.0 - distance, 4),
        "margin": margin,
        "threshold": threshold,
    }


def _rejected_face(detection: Detection, engine: FaceEngine) -> np.ndarray:
    """The embedding of the detection's face, from its stored crop (the largest face in it)."""
    if not detection.thumbnail or not default_storage.exists(detection.thumbnail):
        raise ApiError(Kind.CONFLICT, "The detection has no face crop left to learn the rejected face from")
    with default_storage.open(detection.thumbnail, "rb") as handle:
        pixels = cv2.imdecode(np.frombuffer(handle.read(), dtype=np.uint8), cv2.IMREAD_COLOR)
    if pixels is None:
        raise ApiError(Kind.CONFLICT, "The detection's face crop cannot be read")
    [faces] = inference.run(analysis.faces_of, engine, [pixels])
    if not faces:
        raise ApiError(Kind.CONFLICT, "No face is found in the detection's crop", code="NO_FACE_DETECTED")
    return faces[0].embedding


def reject_detection(
    detection: Detection, *, by: Editor = SYSTEM, user: Any = None, engine: FaceEngine | None = None
) -> MatchRejection:
    """Record that ``detection`` is not the person it names: keep the rejected pair, turn the detection
    unknown, audit it (``detection.match_rejected``). Refuses (409) a detection that names nobody or whose
    crop is gone; the face is embedded before anything is written."""
    engine = engine or get_engine()
    if detection.profile_id is None:
        raise ApiError(Kind.CONFLICT, "The detection names nobody: there is no match to reject")
    vector = _rejected_face(detection, engine)
    decision = decision_of(detection)
    profile = detection.profile
    with transaction.atomic():
        rejection = MatchRejection.objects.create(
            profile=profile,
            detection=detection,
            model=engine.model_name,
            dimension=engine.dimension,
            embedding=vector.tolist(),
            distance=decision["distance"],
            margin=decision["margin"],
            threshold=decision["threshold"],
            rejected_by=user if isinstance(user, get_user_model()) else None,  # an API key is no user
            rejected_by_label=by.actor,
        )
        Detection.objects.filter(pk=detection.pk).update(
            profile=None, person_id="", name="", status=DetectionStatus.UNKNOWN
        )
        _audit(by, detection, profile, decision)
    transaction.on_commit(_refresh_live)
    detection.refresh_from_db()
    return rejection


def _refresh_live() -> None:
    from recognition.detections import _bump_live_version

    _bump_live_version()


def _audit(by: Editor, detection: Detection, profile, decision: dict[str, Any]) -> None:
    similarity = decision["similarity"]
    message = (
        f"Rejected the match of detection {detection.pk} to {profile.employee_id} ({profile.name})"
        + (f" at similarity {similarity:.4f}" if similarity is not None else "")
        + (f", margin {decision['margin']:.4f}" if decision["margin"] is not None else "")
    )
    context = {"employee_id": profile.employee_id, "camera_id": detection.camera_id, **decision}
    by.audit("detection.match_rejected", "detection", str(detection.pk), message, **context)
