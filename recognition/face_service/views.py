"""The 004 face-service API under /face-service/api/v1: thin views over the face_service modules."""

from __future__ import annotations

import tempfile
from pathlib import Path

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers as drf
from rest_framework.negotiation import DefaultContentNegotiation

from config.api.base import PUBLIC
from config.api.contracts import ApiError, Kind
from config.api.face_service import FaceServiceAPIView, FaceServiceResponse
from recognition.engine import FaceEngineUnavailable, get_engine
from recognition.face_service import camera_checks, conf, embeddings, monitoring, sessions
from recognition.face_service.serializers import (
    FaceServiceProcessSessionSerializer,
    invalid,
    parse_generate,
    parse_process_session,
    parse_rtsp_url,
    parse_slot_id,
)
from recognition.face_service.video import ALLOWED_FORMATS, sniff_format

_SLOT = inline_serializer("FaceServiceStopSession", {"slotId": drf.IntegerField()})
_GENERATE = inline_serializer(
    "FaceServiceGenerateEmbedding", {"videoUrl": drf.CharField(), "submissionId": drf.IntegerField()}
)
_VIDEO = inline_serializer("FaceServiceValidateVideo", {"video": drf.FileField()})


def _answer(name: str):
    """The 004 answer: ``{status, message, data}`` (errors: ``{status, message, code}``)."""
    return inline_serializer(
        f"FaceService{name}Response",
        {"status": drf.IntegerField(), "message": drf.CharField(), "data": drf.JSONField()},
    )


def _engine(ready: bool = True):
    """The face engine; with ``ready`` its weights are checked too (503 FACE_ENGINE_UNAVAILABLE)."""
    try:
        engine = get_engine()
        if ready:
            engine.ensure_weights()
        return engine
    except FaceEngineUnavailable as exc:
        raise ApiError(Kind.UNAVAILABLE, str(exc), code="FACE_ENGINE_UNAVAILABLE") from None


class ProcessSessionView(FaceServiceAPIView):
    audit_resource = "face_recognition_session"

    @extend_schema(
        request=FaceServiceProcessSessionSerializer, responses=_answer("ProcessSession"), tags=["face-service"]
    )
    def post(self, request):
        # The model's dimension is known without its weights: a bad request is a 400 either way.
        session_request = parse_process_session(request.data, _engine(ready=False).dimension)
        sessions.ensure_slot_free(session_request.slot_id)
        engine = _engine()
        data = sessions.start_session(session_request, engine.model_name)
        return FaceServiceResponse(data, "Face recognition session started successfully")


class StopSessionView(FaceServiceAPIView):
    audit_resource = "face_recognition_session"

    @extend_schema(request=_SLOT, responses=_answer("StopSession"), tags=["face-service"])
    def post(self, request):
        data = sessions.stop_session(parse_slot_id(request.data))
        return FaceServiceResponse(data, "Face recognition session stopped successfully")


class GenerateEmbeddingView(FaceServiceAPIView):
    audit_resource = "face_embedding"

    @extend_schema(request=_GENERATE, responses=_answer("GenerateEmbedding"), tags=["face-service"])
    def post(self, request):
        video_url, submission_id = parse_generate(request.data)
        data = embeddings.generate_embedding(video_url, submission_id, engine=_engine())
        return FaceServiceResponse(data, "Face embedding generated successfully")


class ValidateVideoView(FaceServiceAPIView):
    audit_resource = "face_video"

    @extend_schema(request={"multipart/form-data": _VIDEO}, responses=_answer("ValidateVideo"), tags=["face-service"])
    def post(self, request):
        upload = request.FILES.get("video")
        if upload is None:
            raise invalid("VIDEO_FILE_REQUIRED", "Video file is required", "video")
        limit = conf.max_video_bytes()
        if upload.size > limit:
            raise invalid("FILE_TOO_LARGE", f"Video file exceeds maximum size of {limit // (1024 * 1024)}MB", "video")
        upload.seek(0)
        head = upload.read(16)
        upload.seek(0)
        if sniff_format(head) not in ALLOWED_FORMATS:
            raise invalid("INVALID_FILE_FORMAT", "Invalid video format. Allowed: MP4, MOV, AVI", "video")
        engine = _engine()
        if hasattr(upload, "temporary_file_path"):
            message, data = embeddings.validate_video(Path(upload.temporary_file_path()), upload.name, engine)
        else:
            with tempfile.NamedTemporaryFile(prefix="argus-validate-", suffix=".video") as handle:
                for chunk in upload.chunks():
                    handle.write(chunk)
                handle.flush()
                message, data = embeddings.validate_video(Path(handle.name), upload.name, engine)
        return FaceServiceResponse(data, message)


class TestConnectionView(FaceServiceAPIView):
    @extend_schema(
        parameters=[OpenApiParameter("rtspUrl", str, required=True)],
        responses=_answer("TestConnection"),
        tags=["face-service"],
    )
    def get(self, request):
        message, data = camera_checks.test_connection(parse_rtsp_url(request.query_params.get("rtspUrl")))
        return FaceServiceResponse(data, message)


class JsonOnlyNegotiation(DefaultContentNegotiation):
    """Always JSON: 004's ``format`` query parameter names the frame's format, not the response's."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class CaptureFrameView(FaceServiceAPIView):
    content_negotiation_class = JsonOnlyNegotiation

    @extend_schema(
        parameters=[
            OpenApiParameter("cameraId", int),
            OpenApiParameter("rtspUrl", str),
            OpenApiParameter("format", str, enum=list(camera_checks.FORMATS)),
        ],
        responses=_answer("CaptureFrame"),
        tags=["face-service"],
    )
    def get(self, request):
        params = request.query_params
        data = camera_checks.capture_frame(params.get("cameraId"), params.get("rtspUrl"), params.get("format"))
        return FaceServiceResponse(data, "Frame captured successfully")


class HealthView(FaceServiceAPIView):
    required_permissions = PUBLIC
    rate_category = None

    @extend_schema(responses=_answer("Health"), tags=["face-service"])
    def get(self, request):
        status, message, data = monitoring.health()
        return FaceServiceResponse(data, message, status=status)


class MetricsView(FaceServiceAPIView):
    @extend_schema(responses=_answer("Metrics"), tags=["face-service"])
    def get(self, request):
        return FaceServiceResponse(monitoring.metrics(), "Metrics retrieved successfully")
