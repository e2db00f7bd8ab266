"""The face service's settings, each read with its default (004's "Configuration" section).

| setting                                 | default | what                                                   |
| FACE_SERVICE_SIMILARITY_THRESHOLD       | 0.85    | similarityThreshold when a request leaves it out       |
| FACE_SERVICE_SCAN_INTERVAL              | 5       | scanInterval (s) when a request leaves it out          |
| FACE_SERVICE_MIN_SCAN_INTERVAL          | 1       | the smallest scanInterval accepted                     |
| FACE_SERVICE_MAX_SESSIONS               | 10      | concurrent active sessions (004 MAX_SESSIONS)          |
| FACE_SERVICE_MAX_SESSION_HOURS          | 12      | an active session never stopped is expired after this  |
| FACE_SERVICE_CONNECT_TIMEOUT            | 10      | RTSP connection / frame grab timeout (s)               |
| FACE_SERVICE_CALLBACK_TIMEOUT           | 30      | callback request timeout (s)                           |
| FACE_SERVICE_CALLBACK_RETRIES           | 3       | callback retries after the first attempt               |
| FACE_SERVICE_CALLBACK_BACKOFF_MS        | 1000    | first retry delay; doubles each retry                  |
| FACE_SERVICE_CALLBACK_BATCH_SIZE        | 100     | recognitions per callback request                      |
| FACE_SERVICE_CALLBACK_API_KEY           | ""      | sent as X-API-Key with each callback when set          |
| FACE_SERVICE_ENFORCE_MODEL_THRESHOLD    | True    | never match below the face model's calibrated threshold|
|                                         |         | (max(session's, 1 - FaceEngine.threshold): 0.93 Dlib)  |
| FACE_SERVICE_MIN_EMBEDDING_QUALITY      | 0.70    | embeddings/generate refuses a best face under this     |
| FACE_SERVICE_MAX_VIDEO_BYTES            | 50 MB   | embeddings/validate upload and generate download limit |
| FACE_SERVICE_VIDEO_ROOT                 | ""      | folder videoUrl paths resolve in ("" = file storage)   |
| FACE_SERVICE_NAME / _VERSION            | FUACS Face Recognition Service / 1.0.0 | health     |
"""

from __future__ import annotations

from django.conf import settings


def _get(name: str, default):
    value = getattr(settings, name, None)
    return default if value in (None, "") else value


def similarity_threshold() -> float:
    return float(_get("FACE_SERVICE_SIMILARITY_THRESHOLD", 0.85))


def scan_interval() -> int:
    return int(_get("FACE_SERVICE_SCAN_INTERVAL", 5))


def analysis_fps() -> float:
    """How many frames a second a session camera is searched for faces, at most."""
    return float(_get("FACE_SERVICE_ANALYSIS_FPS", 5.0))


def min_scan_interval() -> int:
    return int(_get("FACE_SERVICE_MIN_SCAN_INTERVAL", 1))


def max_sessions() -> int:
    return int(_get("FACE_SERVICE_MAX_SESSIONS", 10))


def max_session_hours() -> float:
    return float(_get("FACE_SERVICE_MAX_SESSION_HOURS", 12))


def connect_timeout() -> float:
    return float(_get("FACE_SERVICE_CONNECT_TIMEOUT", 10))


def callback_timeout() -> float:
    return float(_get("FACE_SERVICE_CALLBACK_TIMEOUT", 30))


def callback_retries() -> int:
    return int(_get("FACE_SERVICE_CALLBACK_RETRIES", 3))


def callback_backoff_ms() -> int:
    return int(_get("FACE_SERVICE_CALLBACK_BACKOFF_MS", 1000))


def callback_batch_size() -> int:
    return int(_get("FACE_SERVICE_CALLBACK_BATCH_SIZE", 100))


def callback_api_key() -> str:
    return str(_get("FACE_SERVICE_CALLBACK_API_KEY", ""))


def enforce_model_threshold() -> bool:
    return bool(_get("FACE_SERVICE_ENFORCE_MODEL_THRESHOLD", True))


def min_embedding_quality() -> float:
    return float(_get("FACE_SERVICE_MIN_EMBEDDING_QUALITY", 0.70))


def max_video_bytes() -> int:
    return int(_get("FACE_SERVICE_MAX_VIDEO_BYTES", 50 * 1024 * 1024))


def video_root() -> str:
    return str(_get("FACE_SERVICE_VIDEO_ROOT", ""))


def service_name() -> str:
    return str(_get("FACE_SERVICE_NAME", "FUACS Face Recognition Service"))


def service_version() -> str:
    return str(_get("FACE_SERVICE_VERSION", "1.0.0"))
