"""Request validation of the 004 endpoints: each refusal with the code 004 lists for it.

004 names a code for a missing slot, students or cameras, for empty arrays, for a wrong embedding
dimension and for a threshold out of range; those are checked first and in that order. Anything else
that is malformed (a wrong type, a missing nested field) is the family's VALIDATION_ERROR naming each
field; where 004 is silent about a required field, its code follows the siblings' ``<FIELD>_REQUIRED``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import numpy as np
from django.conf import settings
from rest_framework import serializers

from cameras.streams import validate_stream_url
from config import outbound
from config.api.contracts import ApiError, FieldError, Kind
from recognition.face_service import conf, lift

SHORT_MAX = 32767
# PostgreSQL integer and bigint: a larger id is the client's 400, not a database error.
INT_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1


def invalid(code: str, message: str, field: str | None = None) -> ApiError:
    """A 400 with a 004 code (the field named in ``errors`` when there is one)."""
    field_errors = [FieldError(field, message)] if field else []
    return ApiError(Kind.VALIDATION, message, code=code, field_errors=field_errors)


def _missing(data: dict, key: str) -> bool:
    return data.get(key) in (None, "")


class FaceServiceStudentSerializer(serializers.Serializer):
    userId = serializers.IntegerField(min_value=1, max_value=BIGINT_MAX)
    fullName = serializers.CharField(max_length=255)
    rollNumber = serializers.CharField(max_length=50)
    embeddingVector = serializers.ListField(
        child=serializers.FloatField(),
        allow_empty=False,
        help_text="512 numbers, as embeddings/generate answers them (the model's vector lifted to 512)",
    )
    embeddingVersion = serializers.IntegerField(min_value=-INT_MAX - 1, max_value=INT_MAX)


class FaceServiceCameraSerializer(serializers.Serializer):
    id = serializers.IntegerField(min_value=0, max_value=SHORT_MAX)
    name = serializers.CharField(max_length=255)
    rtspUrl = serializers.CharField()


class FaceServiceSessionConfigSerializer(serializers.Serializer):
    similarityThreshold = serializers.FloatField(required=False)
    scanInterval = serializers.IntegerField(required=False, max_value=INT_MAX)
    callbackUrl = serializers.CharField()


class FaceServiceProcessSessionSerializer(serializers.Serializer):
    slotId = serializers.IntegerField(min_value=1, max_value=BIGINT_MAX)
    roomId = serializers.IntegerField(min_value=0, max_value=SHORT_MAX)
    students = FaceServiceStudentSerializer(many=True)
    cameras = FaceServiceCameraSerializer(many=True)
    config = FaceServiceSessionConfigSerializer()


@dataclass(frozen=True)
class StudentIn:
    user_id: int
    full_name: str
    roll_number: str
    embedding: np.ndarray
    embedding_version: int


@dataclass(frozen=True)
class CameraIn:
    camera_id: int
    name: str
    rtsp_url: str


@dataclass(frozen=True)
class SessionRequest:
    slot_id: int
    room_id: int
    students: list[StudentIn]
    cameras: list[CameraIn]
    similarity_threshold: float
    scan_interval: int
    callback_url: str


def _require_object(data: Any) -> dict:
    if not isinstance(data, dict):
        raise ApiError(Kind.MALFORMED, "Invalid request format: a JSON object is expected")
    return data


def _check_threshold(config: dict) -> float:
    raw = config.get("similarityThreshold")
    if raw is None:
        return conf.similarity_threshold()
    message = "Similarity threshold must be between 0.0 and 1.0"
    if isinstance(raw, bool):
        raise invalid("INVALID_SIMILARITY_THRESHOLD", message, "config.similarityThreshold")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise invalid("INVALID_SIMILARITY_THRESHOLD", message, "config.similarityThreshold") from None
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise invalid("INVALID_SIMILARITY_THRESHOLD", message, "config.similarityThreshold")
    return value


def _check_callback_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid("INVALID_CALLBACK_URL", "Callback URL must be an http:// or https:// URL", "config.callbackUrl")
    try:
        # The platform's callback key goes with every callback: only to hosts the site listed.
        outbound.check_allowed_host(url, settings.FACE_SERVICE_CALLBACK_HOSTS, "Callback URL")
    except outbound.BlockedTarget as exc:
        raise invalid("INVALID_CALLBACK_URL", str(exc), "config.callbackUrl") from None
    return url


def parse_process_session(data: Any, dimension: int) -> SessionRequest:
    """The validated ``process-session`` body, or the ApiError 004 names for its first fault."""
    data = _require_object(data)
    if _missing(data, "slotId"):
        raise invalid("SLOT_ID_REQUIRED", "Slot ID is required", "slotId")
    if data.get("students") is None:
        raise invalid("STUDENTS_REQUIRED", "Students array is required", "students")
    if data.get("cameras") is None:
        raise invalid("CAMERAS_REQUIRED", "Cameras array is required", "cameras")
    if data["students"] == []:
        raise invalid("STUDENTS_EMPTY", "Students array must not be empty", "students")
    if data["cameras"] == []:
        raise invalid("CAMERAS_EMPTY", "Cameras array must not be empty", "cameras")
    if _missing(data, "roomId"):
        raise invalid("ROOM_ID_REQUIRED", "Room ID is required", "roomId")
    if not isinstance(data.get("config"), dict):
        raise invalid("CONFIG_REQUIRED", "Config object is required", "config")
    if _missing(data["config"], "callbackUrl"):
        raise invalid("CALLBACK_URL_REQUIRED", "Callback URL is required", "config.callbackUrl")
    threshold = _check_threshold(data["config"])

    serializer = FaceServiceProcessSessionSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    valid = serializer.validated_data

    students = []
    for index, student in enumerate(valid["students"]):
        try:
            vector = lift.lower(student["embeddingVector"], dimension)
        except lift.NotLifted as exc:
            raise invalid("INVALID_EMBEDDING_DIMENSION", str(exc), f"students.{index}.embeddingVector") from None
        students.append(
            StudentIn(
                user_id=student["userId"],
                full_name=student["fullName"],
                roll_number=student["rollNumber"],
                embedding=vector,
                embedding_version=student["embeddingVersion"],
            )
        )
    seen_users = [s.user_id for s in students]
    if len(set(seen_users)) != len(seen_users):
        raise invalid("VALIDATION_ERROR", "Each student may appear only once (duplicate userId)", "students")

    cameras = []
    for index, camera in enumerate(valid["cameras"]):
        try:
            url = validate_stream_url("RTSP", camera["rtspUrl"])
            outbound.check_target(url, "rtspUrl")  # the outbound policy, as for the platform's cameras
        except ValueError as exc:
            raise invalid("INVALID_RTSP_URL", str(exc), f"cameras.{index}.rtspUrl") from None
        cameras.append(CameraIn(camera_id=camera["id"], name=camera["name"], rtsp_url=url))
    camera_ids = [c.camera_id for c in cameras]
    if len(set(camera_ids)) != len(camera_ids):
        raise invalid("VALIDATION_ERROR", "Each camera may appear only once (duplicate id)", "cameras")

    config = valid["config"]
    interval = config.get("scanInterval", conf.scan_interval())
    if interval < conf.min_scan_interval():
        raise invalid(
            "INVALID_SCAN_INTERVAL",
            f"Scan interval must be at least {conf.min_scan_interval()} second(s)",
            "config.scanInterval",
        )
    return SessionRequest(
        slot_id=valid["slotId"],
        room_id=valid["roomId"],
        students=students,
        cameras=cameras,
        similarity_threshold=threshold,
        scan_interval=interval,
        callback_url=_check_callback_url(config["callbackUrl"]),
    )


def parse_slot_id(data: Any) -> int:
    """The ``slotId`` of a ``stop-session`` body."""
    data = _require_object(data)
    if _missing(data, "slotId"):
        raise invalid("SLOT_ID_REQUIRED", "Slot ID is required", "slotId")
    field = serializers.IntegerField(min_value=1)
    try:
        return field.run_validation(data["slotId"])
    except serializers.ValidationError as exc:
        raise invalid("VALIDATION_ERROR", f"slotId: {exc.detail[0]}", "slotId") from None


def parse_generate(data: Any) -> tuple[str, int]:
    """``(videoUrl, submissionId)`` of an ``embeddings/generate`` body."""
    data = _require_object(data)
    if _missing(data, "videoUrl") or not isinstance(data["videoUrl"], str) or not data["videoUrl"].strip():
        raise invalid("VIDEO_URL_REQUIRED", "Video URL is required", "videoUrl")
    if _missing(data, "submissionId"):
        raise invalid("SUBMISSION_ID_REQUIRED", "Submission ID is required", "submissionId")
    try:
        submission_id = serializers.IntegerField(max_value=BIGINT_MAX).run_validation(data["submissionId"])
    except serializers.ValidationError as exc:
        raise invalid("VALIDATION_ERROR", f"submissionId: {exc.detail[0]}", "submissionId") from None
    return data["videoUrl"].strip(), submission_id


def parse_rtsp_url(value: str | None, *, required_code: str = "RTSP_URL_REQUIRED") -> str:
    """A query parameter ``rtspUrl``: present and an rtsp:// (or rtsps://) URL with a host."""
    if not (value or "").strip():
        raise invalid(required_code, "RTSP URL is required", "rtspUrl")
    try:
        url = validate_stream_url("RTSP", value)
        outbound.check_target(url, "rtspUrl")
        return url
    except ValueError as exc:
        raise invalid("INVALID_RTSP_URL", str(exc), "rtspUrl") from None
