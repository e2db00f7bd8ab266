"""What the unknown-face tests share: real faces of ``../shared/data/faces`` (embedded once) seen as unknown
tracks through the pipeline's own ``record_track``."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings

from recognition.detections import TrackVerdict, record_track
from recognition.engine import FaceEngine
from tests.recognition.conftest import read_photo

FACES = Path(settings.BASE_DIR).parent / "shared" / "data" / "faces"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_tracks = itertools.count(1)


@dataclass(frozen=True)
class Face:
    """One photo's face: the frame, its box (001 shape) and its embedding."""

    photo: str
    pixels: np.ndarray
    box: dict[str, int]
    embedding: np.ndarray


def face_of(engine: FaceEngine, photo: str) -> Face:
    if not FACES.is_dir():
        pytest.skip("../shared/data/faces is absent")
    pixels = read_photo(FACES / photo)
    [face] = engine.detect(pixels)
    return Face(photo, pixels, face.box.as_api(), engine.embed(pixels, face))


def see(
    camera,
    face: Face,
    at: datetime,
    *,
    quality: float = 0.6,
    existing=None,
    profile=None,
    track_id: str | None = None,
):
    """One unknown track of ``face`` on ``camera`` at ``at``, as the camera analyzer stores it."""
    verdict = TrackVerdict(
        track_id=track_id or (existing.track_id if existing else f"TRACK-{next(_tracks):06d}"),
        profile=profile,
        distance=0.2 if profile is None else 0.03,
        margin=None,
        confidence=90.0,
        box=face.box,
        captured_at=at.timestamp(),
        shots=3,
        embedding=face.embedding if profile is None else None,
        quality=quality,
    )
    detection, _ = record_track(camera, face.pixels, verdict, existing=existing)
    return detection


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)
