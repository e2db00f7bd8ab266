"""001 section 3 (live detections and the provider) and ``GET /history/person/{employeeId}``."""

from __future__ import annotations

import functools

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from accounts.audit import actor_of, record_read
from config import stamps
from config.api.base import validated
from config.api.contracts import ApiError, Kind
from config.api.spa import SpaAPIView, SpaGenericAPIView, SpaListView
from recognition import detections, feedback, tasks
from recognition.api import detection_serializers as serializers
from recognition.api.filters import DetectionEventFilterSet, PersonHistoryFilterSet
from recognition.enrolment import Editor
from recognition.models import Detection, DetectionEventLog, DetectionProviderConfig, FaceProfile


class LiveDetectionsView(SpaAPIView):
    required_permissions = "detections:read"
    audit_enabled = False
    prefetch_stamps = True  # the live lists' stamp comes with authentication's round trip (config.stamps)

    @extend_schema(
        parameters=[OpenApiParameter("cameraId", str), OpenApiParameter("limit", int)],
        responses=serializers.DetectionSerializer(many=True),
    )
    def get(self, request):
        params = request.query_params
        camera_id, limit = _live_query(params.get("cameraId"), params.get("limit"))
        with stamps.prefetched(getattr(request._request, "argus_stamps", None)):
            answer = detections.live_detections_camel_cased(camera_id, limit)
        return Response(answer)


@functools.lru_cache(maxsize=256)
def _live_query(camera_id: str | None, limit: str | None) -> tuple[str | None, int]:
    """The live list's query parameters checked (a dashboard polls with the same few): the camera and the
    limit, or the contract's validation error (which is not kept)."""
    query = validated(
        serializers.LiveQuerySerializer,
        {key: value for key, value in {"camera_id": camera_id, "limit": limit}.items() if value},
    )
    return query.get("camera_id") or None, query["limit"]


class SendFrameView(SpaAPIView):
    required_permissions = "detections:write"
    audit_resource = "detection_job"
    audit_action = "detections.send_frame"

    @extend_schema(request=serializers.SendFrameSerializer, responses={202: serializers.SendFrameResponseSerializer})
    def post(self, request):
        data = validated(serializers.SendFrameSerializer, request.data)
        try:
            with transaction.atomic():
                event = tasks.queue_frame(data["camera_id"])
        except detections.UnknownCamera as exc:
            raise ApiError(Kind.NOT_FOUND, str(exc)) from None
        except detections.FrameRefused as exc:
            raise ApiError(Kind.CONFLICT, str(exc)) from None
        return Response({"job_id": str(event.id), "status": "queued"}, status=status.HTTP_202_ACCEPTED)


class DetectionEventListView(SpaListView):
    """001 ``GET /detections/events``: the filters (``status``, ``cameraId``, ``from``, ``to``) are documented
    from the filterset, under the names it reads."""

    required_permissions = "detections:read"
    audit_enabled = False
    queryset = DetectionEventLog.objects.order_by("-timestamp", "id")
    serializer_class = serializers.DetectionEventSerializer
    filterset_class = DetectionEventFilterSet


class ProviderConfigView(SpaAPIView):
    required_permissions = {"GET": "detections:read", "PUT": "detections:write"}
    audit_resource = "detection_provider"

    @extend_schema(responses=serializers.ProviderConfigSerializer)
    def get(self, request):
        return Response(serializers.ProviderConfigSerializer(DetectionProviderConfig.load()).data)

    @extend_schema(request=serializers.ProviderConfigSerializer, responses=serializers.ProviderConfigSerializer)
    def put(self, request):
        with transaction.atomic():
            config = DetectionProviderConfig.objects.select_for_update().get(pk=DetectionProviderConfig.load().pk)
            serializer = serializers.ProviderConfigSerializer(config, data=request.data, partial=True)
            serializer.is_valid(raise_exception=True)
            config = serializer.save()
        return Response(serializers.ProviderConfigSerializer(config).data)


class TestProviderView(SpaAPIView):
    required_permissions = "detections:write"
    audit_resource = "detection_provider"
    audit_action = "detections.test_provider"

    @extend_schema(request=None, responses=serializers.ProviderTestSerializer)
    def post(self, request):
        return Response(detections.check_provider())


class RejectDetectionView(SpaAPIView):
    """An operator says the detection is not the person it names (issue 20's negative feedback)."""

    required_permissions = "faces:write"
    audit_resource = "detection"
    audit_action = "reject"

    @extend_schema(request=None, responses={201: serializers.MatchRejectionSerializer})
    def post(self, request, id):
        detection = Detection.objects.select_related("profile", "event").filter(pk=id).first()
        if detection is None:
            raise ApiError(Kind.NOT_FOUND, f"Detection {id} not found")
        actor, role = actor_of(request)
        rejection = feedback.reject_detection(detection, by=Editor(actor, role), user=request.user)
        return Response(serializers.MatchRejectionSerializer(rejection).data, status=status.HTTP_201_CREATED)


class PersonHistoryView(SpaGenericAPIView):
    """A person's detections, newest first (001 section 9), with who they are."""

    required_permissions = "detections:read"
    audit_enabled = False
    filterset_class = PersonHistoryFilterSet

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no employee id
            return Detection.objects.none()
        return Detection.objects.filter(person_id=self.kwargs["employee_id"]).order_by("-timestamp", "id")

    @extend_schema(responses=serializers.PersonDetectionSerializer(many=True))  # filters: from the filterset
    def get(self, request, employee_id: str):
        profile = FaceProfile.objects.filter(employee_id=employee_id).first()
        queryset = self.get_queryset()
        if profile is None and not queryset.exists():
            raise ApiError(Kind.NOT_FOUND, f"No person with employee id {employee_id}")
        page = self.paginate_queryset(self.filter_queryset(queryset.select_related("camera")))
        items = [{**detections.detection_payload(d), "camera_name": d.camera.name} for d in page]
        record_read(
            request,
            action="person_history.view",
            employee_id=employee_id,
            message=f"Viewed the detection history (with face crops) of {employee_id}",
            resource_type="person_history",
            resource_id=employee_id,
            detections=len(items),
        )
        return self.get_paginated_response(items)
