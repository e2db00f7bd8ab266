"""The recognition domain's tables: enrolled faces (profiles.py), detections (detections.py) and face-service
sessions (sessions.py)."""

from recognition.models.detections import Detection, DetectionEventLog, DetectionProviderConfig
from recognition.models.profiles import (
    HNSW_EF_CONSTRUCTION,
    HNSW_M,
    FaceEmbedding,
    FaceImage,
    FaceProfile,
    embedding_index_name,
)

__all__ = [
    "HNSW_EF_CONSTRUCTION",
    "HNSW_M",
    "Detection",
    "DetectionEventLog",
    "DetectionProviderConfig",
    "FaceEmbedding",
    "FaceImage",
    "FaceProfile",
    "embedding_index_name",
]
