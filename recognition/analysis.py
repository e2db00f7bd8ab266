"""Face analysis as pure computation: pixels (or a video file) in; faces, embeddings and quality out.

These are the jobs the inference workers run (:mod:`recognition.inference`). They read no database, no
settings and no storage, so they give the same answer in a worker process as in the caller's own; what
is refused, and how, stays with the caller. The engine they are given reaches a worker as its
configuration and is loaded there once (:meth:`recognition.engine.FaceEngine.__reduce__`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from recognition.engine import DetectedFace, FaceEngine
from recognition.face_service.video import sample_frames
from recognition.quality import quality


@dataclass(frozen=True)
class AnalysedFace:
    """One face with its embedding and its quality (:func:`recognition.quality.quality`)."""

    face: DetectedFace
    embedding: np.ndarray
    quality: dict[str, Any]


def faces_of(engine: FaceEngine, images: Sequence[np.ndarray]) -> list[list[AnalysedFace]]:
    """Every face of each image (BGR) with its embedding and quality, largest first.

    Stops after the first image in which no face is found: a caller refuses that image, and analysing the
    ones after it would be work thrown away (so the answer may hold fewer lists than there were images).
    """
    found: list[list[AnalysedFace]] = []
    for pixels in images:
        faces = [
            AnalysedFace(face, engine.embed(pixels, face), quality(pixels, face)) for face in engine.detect(pixels)
        ]
        found.append(faces)
        if not faces:
            break
    return found


@dataclass(frozen=True)
class EnrolmentFaces:
    """What enrolment needs of an upload: the faces found in each image and, only when every image shows
    exactly one, that face of each with its embedding and quality."""

    faces: list[list[DetectedFace]]
    analysed: list[AnalysedFace] | None


def enrolment_faces(engine: FaceEngine, images: Sequence[np.ndarray]) -> EnrolmentFaces:
    """Detect the faces of every image; embed them only if each image has exactly one (an upload with a
    refused image is refused whole, so embedding the others would be wasted)."""
    detected = [engine.detect(pixels) for pixels in images]
    if any(len(faces) != 1 for faces in detected):
        return EnrolmentFaces(detected, None)
    analysed = [
        AnalysedFace(faces[0], engine.embed(pixels, faces[0]), quality(pixels, faces[0]))
        for pixels, faces in zip(images, detected, strict=True)
    ]
    return EnrolmentFaces(detected, analysed)


@dataclass(frozen=True)
class VideoFaces:
    """The largest face of each sampled frame of a video, by its quality.

    ``best_embedding`` is the embedding of the best-scoring face, computed only when that face scores at
    least what the caller asked for; ``qualities`` has one entry per frame with a face, in frame order.
    """

    total_frames: int = 0
    qualities: list[dict[str, Any]] = field(default_factory=list)
    best_embedding: np.ndarray | None = None

    @property
    def frames_with_face(self) -> int:
        return len(self.qualities)

    @property
    def best_quality(self) -> dict[str, Any] | None:
        return max(self.qualities, key=lambda item: item["score"], default=None)


def faces_of_video(
    engine: FaceEngine, path: Path | str, every_seconds: float, embed_from: float | None = None
) -> VideoFaces:
    """The largest face of each frame sampled every ``every_seconds`` with its quality (004 wording:
    "Video ..."); with ``embed_from``, the best face is embedded when its score reaches that.

    A frame without a face is skipped (004). Only the best frame's pixels are kept while the video is read.
    Raises :class:`recognition.face_service.video.VideoUnreadable`.
    """
    total = 0
    qualities: list[dict[str, Any]] = []
    best: tuple[np.ndarray, DetectedFace] | None = None
    best_score = -1.0
    for frame in sample_frames(path, every_seconds):
        total += 1
        faces = engine.detect(frame.pixels)
        if not faces:
            continue
        largest = faces[0]
        scored = quality(frame.pixels, largest, subject="Video")
        qualities.append(scored)
        # Strictly better only: of equally good frames the first stays the best, as max() would keep it.
        if scored["score"] > best_score:
            best, best_score = (frame.pixels, largest), scored["score"]
    embedding = None
    if best is not None and embed_from is not None and best_score >= embed_from:
        embedding = engine.embed(*best)
    return VideoFaces(total_frames=total, qualities=qualities, best_embedding=embedding)
