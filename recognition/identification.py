"""Identification and verification of the faces in an image (POST /faces/identify, /faces/verify).

The faces are found and embedded by an inference worker (:mod:`recognition.inference`); the search among
the enrolled people and the refusals happen here, on the request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from config.api.contracts import ApiError, FieldError, Kind
from recognition import analysis, inference
from recognition.choices import FaceStatus
from recognition.engine import DetectedFace, FaceEngine, get_engine
from recognition.matching import Match, Verification, identify, verify
from recognition.models import FaceEmbedding, FaceProfile


@dataclass
class IdentifiedFace:
    face: DetectedFace
    quality: dict[str, Any]
    matches: list[Match] = field(default_factory=list)

    @property
    def status(self) -> str:
        return FaceStatus.RECOGNIZED if self.matches else FaceStatus.UNKNOWN

    def as_api(self) -> dict[str, Any]:
        return {
            "bounding_box": self.face.box.as_api(),
            "quality": self.quality,
            "status": str(self.status),
            "matches": [
                {
                    "employee_id": match.profile.employee_id,
                    "name": match.profile.name,
                    "similarity": round(match.similarity, 4),
                }
                for match in self.matches
            ],
        }


def identify_faces(pixels: np.ndarray, limit: int = 3, engine: FaceEngine | None = None) -> list[IdentifiedFace]:
    """Every face of an image with the enrolled people it matches (within the threshold), best first.

    A face whose nearest person is farther than the threshold is ``unknown`` with no matches.
    """
    engine = engine or get_engine()
    [faces] = inference.run(analysis.faces_of, engine, [pixels])
    results = []
    for found in faces:
        matches = [
            match
            for match in identify(found.embedding, limit=limit, engine=engine)
            if match.distance <= engine.threshold
        ]
        results.append(IdentifiedFace(face=found.face, quality=found.quality, matches=matches))
    return results


def _embeddings(found: list[list[analysis.AnalysedFace]], index: int, field_name: str) -> list[np.ndarray]:
    """The embeddings of image ``index``'s faces, or NO_FACE_DETECTED naming ``field_name``."""
    faces = found[index] if index < len(found) else []
    if not faces:
        message = f"No face detected in {field_name}"
        raise ApiError(
            Kind.VALIDATION, message, code="NO_FACE_DETECTED", field_errors=[FieldError(field_name, message)]
        )
    return [face.embedding for face in faces]


def verify_images(first: np.ndarray, second: np.ndarray, engine: FaceEngine | None = None) -> Verification:
    """Whether two images show the same person. With several faces in an image, the closest pair counts
    (deepface's ``verify`` does the same): "is the person of one image in the other"."""
    engine = engine or get_engine()
    found = inference.run(analysis.faces_of, engine, [first, second])
    return verify(_embeddings(found, 0, "image1"), _embeddings(found, 1, "image2"), engine=engine)


def verify_against_profile(pixels: np.ndarray, profile: FaceProfile, engine: FaceEngine | None = None) -> Verification:
    """Whether an image shows the enrolled person: its closest face against each of their images."""
    engine = engine or get_engine()
    enrolled = [
        np.asarray(vector, dtype=np.float32)
        for vector in FaceEmbedding.objects.filter(profile=profile, model=engine.model_name).values_list(
            "embedding", flat=True
        )
    ]
    if not enrolled:
        message = f"Employee {profile.employee_id} has no enrolled image for the {engine.model_name} model"
        raise ApiError(
            Kind.VALIDATION, message, code="NO_ENROLLED_IMAGES", field_errors=[FieldError("employee_id", message)]
        )
    found = inference.run(analysis.faces_of, engine, [pixels])
    return verify(_embeddings(found, 0, "image1"), enrolled, engine=engine)
