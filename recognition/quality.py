"""Face quality as 004 defines it: face size, clarity (Laplacian variance), lighting and frontal angle,
combined into one score from 0 to 1 (acceptable at 0.70) with sentences a person can act on.

Every metric is computed on the face itself, not on the whole frame: the crop is resized to a fixed
size first, so sharpness does not depend on how large the photo is.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from recognition.engine import DetectedFace

ACCEPTABLE = 0.70

# 004: "Face size: percentage of frame occupied by face (>= 20%)". A face that large scores 1.
TARGET_FACE_SHARE = 0.20
# A face narrower than this many pixels loses detail the model needs (Dlib's input is 150 pixels).
MIN_FACE_PIXELS = 80
# Sharpness: Laplacian variance of the face resized to NORMALISED_SIDE pixels. Sharp photographs measure
# 150-900 there; a face blurred with a 9-pixel Gaussian kernel measures under 40.
NORMALISED_SIDE = 160
SHARP_VARIANCE = 120.0
# Lighting: mean grey level of the face, and its spread (contrast).
DARK_MEAN, BRIGHT_MEAN = 70.0, 190.0
LOW_CONTRAST_STD = 30.0
# Frontal angle. Yaw: the nose's offset from the eyes' midpoint, in eye distances; frontal faces of the
# shared photographs measure 0.00-0.10, a face turned to three-quarters about 0.4. Roll (a tilted head) is
# undone by alignment, so only a strong tilt costs.
FRONTAL_YAW, MAX_YAW = 0.05, 0.40
FRONTAL_ROLL_DEGREES, MAX_ROLL_DEGREES = 10.0, 35.0

# 004's examples are the plain mean of the four metrics (0.95, 0.88, 0.93, 0.92 -> 0.92).
WEIGHTS = {"face_size": 0.25, "clarity": 0.25, "lighting": 0.25, "face_angle": 0.25}
# A mean lets one failing metric hide behind three good ones (a blurred but large, frontal, well-lit face
# would pass): the score is capped at the weakest metric plus this. Both of 004's examples keep their value.
WEAKEST_METRIC_MARGIN = 0.4


def _clip(value: float) -> float:
    return float(min(1.0, max(0.0, value)))


def face_crop(image: np.ndarray, face: DetectedFace) -> np.ndarray:
    box = face.box
    height, width = image.shape[:2]
    x0, y0 = max(0, box.x), max(0, box.y)
    x1, y1 = min(width, box.x + box.w), min(height, box.y + box.h)
    return image[y0:y1, x0:x1]


def _grey(crop: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop


def face_size_score(image: np.ndarray, face: DetectedFace) -> tuple[float, float]:
    """(share of the frame the face covers, score). Full marks at 20 % (004); a face under
    MIN_FACE_PIXELS wide is capped, however large its share of a small frame."""
    height, width = image.shape[:2]
    share = face.box.area / float(width * height)
    score = _clip(math.sqrt(share / TARGET_FACE_SHARE))
    if face.box.w < MIN_FACE_PIXELS:
        score = min(score, face.box.w / MIN_FACE_PIXELS)
    return share, score


def sharpness(crop: np.ndarray) -> tuple[float, float]:
    """(Laplacian variance of the face at a fixed size, score)."""
    grey = cv2.resize(_grey(crop), (NORMALISED_SIDE, NORMALISED_SIDE), interpolation=cv2.INTER_AREA)
    variance = float(cv2.Laplacian(grey, cv2.CV_64F).var())
    return variance, _clip(variance / SHARP_VARIANCE)


def lighting(crop: np.ndarray) -> tuple[float, float, float]:
    """(mean grey level 0-255, contrast as standard deviation, score)."""
    grey = _grey(crop).astype(np.float32)
    mean, std = float(grey.mean()), float(grey.std())
    if mean < DARK_MEAN:
        exposure = mean / DARK_MEAN
    elif mean > BRIGHT_MEAN:
        exposure = (255.0 - mean) / (255.0 - BRIGHT_MEAN)
    else:
        exposure = 1.0
    contrast = _clip(std / LOW_CONTRAST_STD)
    return mean, std, _clip(0.7 * _clip(exposure) + 0.3 * contrast)


def frontal(face: DetectedFace) -> tuple[float | None, float | None, float]:
    """(yaw as nose offset in eye distances, roll in degrees, score) from the landmarks' symmetry.

    Without eyes the score is neutral (0.5): the detector found a face but cannot say how it is turned.
    Without a nose, yaw is read from where the eyes sit in the box.
    """
    left, right = face.landmarks.get("left_eye"), face.landmarks.get("right_eye")
    if left is None or right is None:
        return None, None, 0.5
    dx, dy = left[0] - right[0], left[1] - right[1]
    eye_distance = math.hypot(dx, dy)
    if eye_distance < 1:
        return None, None, 0.5
    roll = math.degrees(math.atan2(dy, dx))
    mid_x, mid_y = (left[0] + right[0]) / 2, (left[1] + right[1]) / 2
    nose = face.landmarks.get("nose")
    if nose is not None:
        # The nose's offset from the eyes' midpoint, measured along the eye line.
        yaw = abs(((nose[0] - mid_x) * dx + (nose[1] - mid_y) * dy) / eye_distance) / eye_distance
    else:
        centre = face.box.x + face.box.w / 2
        yaw = abs(mid_x - centre) / max(1.0, face.box.w) * 2
    yaw_score = _clip(1.0 - max(0.0, yaw - FRONTAL_YAW) / (MAX_YAW - FRONTAL_YAW))
    roll_score = _clip(1.0 - max(0.0, abs(roll) - FRONTAL_ROLL_DEGREES) / (MAX_ROLL_DEGREES - FRONTAL_ROLL_DEGREES))
    return yaw, roll, _clip(0.7 * yaw_score + 0.3 * roll_score)


def quality(image: np.ndarray, face: DetectedFace, subject: str = "Image") -> dict[str, Any]:
    """The quality of one face of ``image`` (BGR): metrics, scores, overall score and feedback.

    ``subject`` names what the feedback speaks of: ``Image`` (a photo) or ``Video`` (004's wording)."""
    crop = face_crop(image, face)
    share, size_score = face_size_score(image, face)
    variance, clarity_score = sharpness(crop)
    mean, std, lighting_score = lighting(crop)
    yaw, roll, angle_score = frontal(face)
    scores = {"face_size": size_score, "clarity": clarity_score, "lighting": lighting_score, "face_angle": angle_score}
    mean_score = sum(WEIGHTS[name] * value for name, value in scores.items())
    overall = _clip(min(mean_score, min(scores.values()) + WEAKEST_METRIC_MARGIN))

    feedback: list[str] = []
    if size_score < 0.6:
        feedback.append("Face is too small. Move closer to camera")
    if clarity_score < 0.5:
        feedback.append(f"{subject} is blurry. Hold camera steady and keep the face in focus")
    elif clarity_score < 0.8:
        feedback.append(f"{subject} is slightly blurry. Hold camera steady")
    if mean < DARK_MEAN:
        feedback.append("Lighting is too dark. Record in brighter environment")
    elif mean > BRIGHT_MEAN:
        feedback.append("Lighting is too bright. Avoid direct light on the face")
    elif std < LOW_CONTRAST_STD:
        feedback.append("Lighting is flat. Avoid backlight and use even light on the face")
    if angle_score < 0.6:
        feedback.append("Face is not frontal. Look straight at the camera")
    if not feedback:
        feedback = ["Face is clearly visible", "Good lighting conditions", "Face is frontal"]

    return {
        "score": round(overall, 3),
        "is_acceptable": overall >= ACCEPTABLE,
        "metrics": {name: round(value, 3) for name, value in scores.items()},
        "face_size_ratio": round(share, 4),
        "sharpness": round(variance, 1),
        "brightness": round(mean, 1),
        "contrast": round(std, 1),
        "yaw": None if yaw is None else round(yaw, 3),
        "roll": None if roll is None else round(roll, 1),
        "feedback": feedback,
    }
