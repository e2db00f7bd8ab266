"""Face quality (004): face size, clarity (Laplacian variance), lighting, frontal angle, score, feedback."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from recognition.engine import Box, DetectedFace
from recognition.quality import ACCEPTABLE, frontal, quality


@pytest.fixture(scope="module")
def portrait(astronaut):
    """The astronaut's face filling a good part of the frame: the crop around her head."""
    return np.ascontiguousarray(astronaut[20:260, 110:330])


@pytest.fixture(scope="module")
def portrait_face(engine, portrait):
    return engine.detect(portrait)[0]


def test_a_clear_frontal_well_lit_face_is_acceptable(portrait, portrait_face):
    result = quality(portrait, portrait_face)

    assert result["score"] >= ACCEPTABLE and result["is_acceptable"] is True
    assert set(result["metrics"]) == {"face_size", "clarity", "lighting", "face_angle"}
    assert result["feedback"] == ["Face is clearly visible", "Good lighting conditions", "Face is frontal"]


def test_a_blurred_face_scores_lower_and_says_it_is_blurry(portrait, portrait_face):
    sharp = quality(portrait, portrait_face)
    blurred = quality(cv2.GaussianBlur(portrait, (15, 15), 0), portrait_face)

    assert blurred["sharpness"] < sharp["sharpness"] / 4
    assert blurred["metrics"]["clarity"] < 0.5 and blurred["is_acceptable"] is False
    assert any("blurry" in line for line in blurred["feedback"])


def test_a_dark_face_says_the_lighting_is_too_dark(portrait, portrait_face):
    result = quality((portrait * 0.2).astype(np.uint8), portrait_face)

    assert result["metrics"]["lighting"] < 0.5 and result["is_acceptable"] is False
    assert any("too dark" in line for line in result["feedback"])


def test_an_overexposed_face_says_the_lighting_is_too_bright(portrait, portrait_face):
    result = quality(cv2.convertScaleAbs(portrait, alpha=1.0, beta=150), portrait_face)

    assert any("too bright" in line for line in result["feedback"])


def test_a_small_face_in_a_large_frame_says_move_closer(engine, astronaut):
    frame = np.zeros((1600, 1600, 3), dtype=np.uint8)
    frame[:512, :512] = astronaut
    result = quality(frame, engine.detect(frame)[0])

    assert result["face_size_ratio"] < 0.01 and result["metrics"]["face_size"] < 0.3
    assert any("too small" in line for line in result["feedback"])


def test_a_turned_face_is_not_frontal():
    box = Box(0, 0, 100, 100)
    straight = DetectedFace(box, 1.0, {"left_eye": (70, 40), "right_eye": (30, 40), "nose": (50, 60)})
    turned = DetectedFace(box, 1.0, {"left_eye": (70, 40), "right_eye": (30, 40), "nose": (68, 60)})

    assert frontal(straight)[2] == 1.0
    yaw, _, score = frontal(turned)
    assert yaw == pytest.approx(0.45) and score < 0.4


def test_a_face_without_landmarks_gets_a_neutral_angle_score():
    assert frontal(DetectedFace(Box(0, 0, 100, 100), 1.0, {}))[2] == 0.5


def test_one_failing_metric_fails_the_face(portrait, portrait_face):
    """A mean alone would let three good metrics carry a blurred face over 0.70."""
    result = quality(cv2.GaussianBlur(portrait, (9, 9), 0), portrait_face)

    assert sum(result["metrics"].values()) / 4 >= 0.7 or result["metrics"]["clarity"] < 0.4
    assert result["score"] <= min(result["metrics"].values()) + 0.4 + 1e-9


def test_scores_stay_between_zero_and_one(engine, no_face_image, astronaut):
    face = engine.detect(astronaut)[0]
    for image in (astronaut, np.zeros_like(astronaut), np.full_like(astronaut, 255), no_face_image[:512, :512]):
        result = quality(image, face)
        assert 0.0 <= result["score"] <= 1.0
        assert all(0.0 <= value <= 1.0 for value in result["metrics"].values())
