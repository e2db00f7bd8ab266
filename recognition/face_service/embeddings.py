"""Embeddings from face videos (``embeddings/generate``) and video quality checks (``embeddings/validate``).

Each sampled frame's largest face is scored with recognition.quality (004's metrics: size, clarity,
lighting, angle). ``generate`` embeds only the best-scoring face (the same choice as embedding every
face and keeping the best one, at a fraction of the cost); ``validate`` averages the metrics over the
frames with a face. The video is decoded and analysed by an inference worker (:mod:`recognition.inference`);
its download, the refusals and the log stay here. Every call is logged as an :class:`EmbeddingJob` for the
metrics endpoint.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from config.api.contracts import ApiError, Contract, Kind
from recognition import analysis, inference
from recognition.analysis import VideoFaces
from recognition.engine import FaceEngine, FaceEngineUnavailable, get_engine
from recognition.face_service import conf, lift
from recognition.face_service.choices import EmbeddingJobKind
from recognition.face_service.video import VideoNotFound, VideoUnreadable, open_video
from recognition.models import EmbeddingJob
from recognition.quality import ACCEPTABLE

logger = logging.getLogger("argus.face_service")

GENERATE_EVERY_SECONDS = 0.5  # 004: "sample every 0.5 seconds"
VALIDATE_EVERY_SECONDS = 1.0  # 004: "every 1 second"
METRIC_NAMES = {"face_size": "faceSize", "clarity": "clarity", "lighting": "lighting", "face_angle": "faceAngle"}
POSITIVE_FEEDBACK = ["Face is clearly visible", "Good lighting conditions", "Face is properly centered"]


def _scan(engine: FaceEngine, path: Path, every_seconds: float, embed_from: float | None = None) -> VideoFaces:
    """The video's faces, analysed by an inference worker (decoding included) within the video timeout."""
    return inference.run(
        analysis.faces_of_video, engine, path, every_seconds, embed_from=embed_from, timeout=inference.video_timeout()
    )


def _log_job(kind: str, started: float, **fields: Any) -> None:
    EmbeddingJob.objects.create(kind=kind, processing_seconds=round(time.perf_counter() - started, 4), **fields)


def generate_embedding(video_url: str, submission_id: int, engine: FaceEngine | None = None) -> dict[str, Any]:
    """The best-quality embedding of the face in the video at ``video_url`` (004 ``embeddings/generate``).

    Raises 404 VIDEO_FILE_NOT_FOUND, 400 NO_FACE_DETECTED, 400 LOW_QUALITY_FACE (best face under
    FACE_SERVICE_MIN_EMBEDDING_QUALITY) or 500 VIDEO_PROCESSING_FAILED.
    """
    started = time.perf_counter()
    job = {"submission_id": submission_id, "video": video_url[:2000]}
    scan = VideoFaces()
    try:
        engine = engine or get_engine()
        minimum = conf.min_embedding_quality()
        with open_video(video_url) as path:
            scan = _scan(engine, path, GENERATE_EVERY_SECONDS, embed_from=minimum)
        best = scan.best_quality
        if best is None:
            raise ApiError(
                Kind.VALIDATION,
                "No face detected in video. Please record video with clear face visibility.",
                code="NO_FACE_DETECTED",
            )
        score = float(best["score"])
        if score < minimum or scan.best_embedding is None:
            raise ApiError(
                Kind.VALIDATION,
                f"Face quality too low (score: {score:.2f}). Please record in better lighting and ensure face "
                "is clearly visible.",
                code="LOW_QUALITY_FACE",
            )
        vector = scan.best_embedding
    except VideoNotFound:
        _log_job(EmbeddingJobKind.GENERATE, started, error_code="VIDEO_FILE_NOT_FOUND", **job)
        raise ApiError(Kind.NOT_FOUND, f"Video file not found: {video_url}", code="VIDEO_FILE_NOT_FOUND") from None
    except VideoUnreadable as exc:
        _log_job(EmbeddingJobKind.GENERATE, started, error_code="VIDEO_PROCESSING_FAILED", **job)
        raise ApiError(Kind.INTERNAL, f"Failed to process video: {exc}", code="VIDEO_PROCESSING_FAILED") from None
    except FaceEngineUnavailable as exc:
        _log_job(EmbeddingJobKind.GENERATE, started, error_code="VIDEO_PROCESSING_FAILED", **job)
        raise ApiError(Kind.INTERNAL, f"Failed to process video: {exc}", code="VIDEO_PROCESSING_FAILED") from None
    except ApiError as exc:
        _log_job(
            EmbeddingJobKind.GENERATE,
            started,
            error_code=exc.code_for(Contract.FACE_SERVICE),
            total_frames=scan.total_frames,
            frames_with_face=scan.frames_with_face,
            **job,
        )
        raise
    elapsed = round(time.perf_counter() - started, 3)
    _log_job(
        EmbeddingJobKind.GENERATE,
        started,
        succeeded=True,
        quality=score,
        total_frames=scan.total_frames,
        frames_with_face=scan.frames_with_face,
        **job,
    )
    logger.info(
        "embedding generated",
        extra={"submissionId": submission_id, "quality": score, "framesWithFace": scan.frames_with_face},
    )
    return {
        "submissionId": submission_id,
        "embeddingVector": [round(float(value), 8) for value in lift.lift(vector)],  # 004's 512 dimensions
        "quality": round(score, 2),
        "faceDetected": True,
        "totalFrames": scan.total_frames,
        "framesWithFace": scan.frames_with_face,
        "processingTime": elapsed,
    }


def _feedback(scan: VideoFaces) -> list[str]:
    """Advice that holds for at least half of the frames with a face, most common first."""
    negatives = Counter(
        message
        for item in scan.qualities
        for message in item["feedback"]
        if message not in ("Face is clearly visible", "Good lighting conditions", "Face is frontal")
    )
    half = max(1, (scan.frames_with_face + 1) // 2)
    feedback = [message for message, count in negatives.most_common() if count >= half]
    if scan.frames_with_face < scan.total_frames / 2:
        feedback.append("Face is not visible in most of the video. Keep your face in the frame")
    return feedback or list(POSITIVE_FEEDBACK)


def validate_video(path: Path, name: str, engine: FaceEngine | None = None) -> tuple[str, dict[str, Any]]:
    """(message, data) of 004 ``embeddings/validate`` for a video file already checked for size and format.

    The quality is the mean of the per-frame scores over frames with a face, acceptable at 0.70.
    Raises 400 NO_FACE_DETECTED or 500 VIDEO_PROCESSING_FAILED.
    """
    started = time.perf_counter()
    job = {"video": name[:2000]}
    try:
        engine = engine or get_engine()
        scan = _scan(engine, path, VALIDATE_EVERY_SECONDS)
    except (VideoUnreadable, FaceEngineUnavailable) as exc:
        _log_job(EmbeddingJobKind.VALIDATE, started, error_code="VIDEO_PROCESSING_FAILED", **job)
        raise ApiError(Kind.INTERNAL, f"Failed to process video: {exc}", code="VIDEO_PROCESSING_FAILED") from None
    except ApiError as exc:  # the inference workers busy or gone: 503
        _log_job(EmbeddingJobKind.VALIDATE, started, error_code=exc.code_for(Contract.FACE_SERVICE), **job)
        raise
    counts = {"total_frames": scan.total_frames, "frames_with_face": scan.frames_with_face}
    if not scan.qualities:
        _log_job(EmbeddingJobKind.VALIDATE, started, error_code="NO_FACE_DETECTED", **counts, **job)
        raise ApiError(Kind.VALIDATION, "No face detected in video", code="NO_FACE_DETECTED")
    metrics = {
        api: round(float(np.mean([item["metrics"][name] for item in scan.qualities])), 2)
        for name, api in METRIC_NAMES.items()
    }
    score = round(float(np.mean([item["score"] for item in scan.qualities])), 2)
    acceptable = score >= ACCEPTABLE
    _log_job(EmbeddingJobKind.VALIDATE, started, succeeded=True, quality=score, **counts, **job)
    data = {
        "quality": score,
        "faceDetected": True,
        "isAcceptable": acceptable,
        "metrics": metrics,
        "feedback": _feedback(scan),
    }
    return ("Video quality is good" if acceptable else "Video quality needs improvement"), data
