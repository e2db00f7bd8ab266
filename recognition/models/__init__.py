"""The recognition domain's tables: enrolled faces (profiles.py), detections (detections.py), operators'
rejections of matches (feedback.py) and face-service sessions (sessions.py)."""

from recognition.models.detections import Detection, DetectionEventLog, DetectionProviderConfig
from recognition.models.feedback import MatchRejection
from recognition.models.profiles import (
    HNSW_EF_CONSTRUCTION,
    HNSW_M,
    FaceEmbedding,
    FaceImage,
    FaceProfile,
    embedding_index_name,
)
from recognition.models.sessions import (
    CallbackDelivery,
    EmbeddingJob,
    RecognitionResult,
    RecognitionSession,
    SessionCamera,
    SessionStudent,
)
from recognition.models.unknowns import UnknownCluster, UnknownSighting, cluster_index_name

__all__ = [
    "HNSW_EF_CONSTRUCTION",
    "HNSW_M",
    "CallbackDelivery",
    "Detection",
    "DetectionEventLog",
    "DetectionProviderConfig",
    "EmbeddingJob",
    "FaceEmbedding",
    "FaceImage",
    "FaceProfile",
    "MatchRejection",
    "RecognitionResult",
    "RecognitionSession",
    "SessionCamera",
    "SessionStudent",
    "UnknownCluster",
    "UnknownSighting",
    "cluster_index_name",
    "embedding_index_name",
]
