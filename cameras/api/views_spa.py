"""001 camera, alert and notification endpoints (``/api/v1``)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import notifications
from accounts.models import Notification, User
from cameras import alerting, monitoring, services, snapshots
from cameras.api import serializers
from cameras.api.filters import AlertFilterSet, CameraFilterSet
from cameras.models import Alert, Camera
from cameras.probing import StreamUnavailable
from cameras.summary import camera_summaries
from config.api.base import AUTHENTICATED, validated
from config.api.contracts import ApiError, FieldError, Kind, utc_iso
from config.api.exceptions import flatten_errors
from config.api.spa import SpaAPIView, SpaGenericAPIView, SpaListView, SpaViewSet, expected_version

# 002's per-endpoint limit of /api/v1/cameras (100/min per client), for every camera route under it.
CAMERAS_RATE_CATEGORY = "cameras"


class CameraViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, SpaViewSet):
    rate_category = CAMERAS_RATE_CATEGORY
    queryset = Camera.objects.order_by("id")
    serializer_class = serializers.CameraSerializer
    filterset_class = CameraFilterSet
    not_found = "Camera {pk} not found"
    audit_resource = "camera"
    required_permissions = {
        "list": "cameras:read",
        "retrieve": "cameras:read",
        "create": "cameras:write",
        "update": "cameras:write",
        "partial_update": "cameras:write",
        "destroy": "cameras:delete",
        "state": "cameras:write",
        "status": "cameras:write",
        "test_connection": "cameras:write",
        "snapshot": "cameras:write",
    }

    def _respond(self, camera: Camera, status_code: int = 200) -> Response:
        response = Response(serializers.CameraSerializer(camera).data, status=status_code)
        response["ETag"] = f'"{camera.version}"'
        return response

    def retrieve(self, request, *args, **kwargs):
        return self._respond(self.get_object())

    @extend_schema(request=serializers.CameraWriteSerializer, responses={201: serializers.CameraSerializer})
    def create(self, request):
        data = validated(serializers.CameraWriteSerializer, request.data)
        data.pop("version", None)
        return self._respond(services.create_camera(data), status.HTTP_201_CREATED)

    @extend_schema(request=serializers.CameraWriteSerializer, responses=serializers.CameraSerializer)
    def update(self, request, pk=None):
        camera = self.get_object()
        data = validated(serializers.CameraWriteSerializer, request.data, partial=True)
        if data.get("id", camera.pk) != camera.pk:
            raise ApiError(Kind.VALIDATION, "A camera's id cannot change", details={"field": "id"})
        data.pop("id", None)
        version = expected_version(request, data, "camera")
        return self._respond(services.update_camera(camera, data, expected_version=version))

    partial_update = update

    def destroy(self, request, pk=None):
        services.delete_camera(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=serializers.CameraStateSerializer, responses=serializers.CameraSerializer)
    @action(detail=True, methods=["patch"], url_path="state")
    def state(self, request, pk=None):
        data = validated(serializers.CameraStateSerializer, request.data)
        return self._respond(services.set_enabled(self.get_object(), data["enabled"]))

    @extend_schema(request=serializers.CameraStatusSerializer, responses=serializers.CameraSerializer)
    @action(detail=True, methods=["patch"], url_path="status")
    def status(self, request, pk=None):
        """000's ``PATCH /cameras/{id}/status``; on a path 001 shares, so in 001's envelope."""
        data = validated(serializers.CameraStatusSerializer, request.data)
        return self._respond(services.set_status(self.get_object(), data["status"]))

    @extend_schema(request=None, responses=serializers.ConnectionTestSerializer)
    @action(detail=True, methods=["post"], url_path="test-connection")
    def test_connection(self, request, pk=None):
        camera = self.get_object()
        services.require_stream_url(camera)
        result = monitoring.probe_camera(camera)
        body = {
            "success": result.ok,
            "latency_ms": round(result.latency_ms) if result.latency_ms is not None else None,
            "bitrate": round(result.bitrate_mbps, 2) if result.bitrate_mbps is not None else None,
            "fps": result.fps,
            "resolution": f"{result.width}x{result.height}" if result.width and result.height else None,
            "codec": result.codec,
            "message": "Connection OK" if result.ok else f"Connection failed: {result.error}",
        }
        return Response(body)

    @extend_schema(request=None, responses={201: serializers.SnapshotSerializer})
    @action(detail=True, methods=["post"], url_path="snapshot")
    def snapshot(self, request, pk=None):
        camera = self.get_object()
        services.require_stream_url(camera)
        try:
            shot = snapshots.take_snapshot(camera)
        except StreamUnavailable as exc:
            raise ApiError(
                Kind.UNAVAILABLE, f"Could not grab a frame from {camera.pk}: {exc}", code="CAMERA_UNREACHABLE"
            ) from None
        body = {
            "asset_id": str(shot.id),
            "url": snapshots.snapshot_url(shot),
            "timestamp": utc_iso(shot.taken_at),
            "width": shot.width,
            "height": shot.height,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class CameraSummaryView(SpaAPIView):
    rate_category = CAMERAS_RATE_CATEGORY
    required_permissions = "cameras:read"

    @extend_schema(responses=serializers.CameraSummarySerializer(many=True))
    def get(self, request):
        return Response(camera_summaries(Camera.objects.order_by("id")))


class CameraExportView(SpaAPIView):
    rate_category = CAMERAS_RATE_CATEGORY
    required_permissions = "cameras:read"

    @extend_schema(responses=serializers.CameraExportSerializer(many=True))
    def get(self, request):
        response = Response(services.export_cameras(Camera.objects.order_by("id")))
        if request.query_params.get("download"):
            response["Content-Disposition"] = 'attachment; filename="cameras.json"'
        return response


class CameraImportView(SpaAPIView):
    rate_category = CAMERAS_RATE_CATEGORY
    required_permissions = "cameras:write"
    audit_resource = "camera"

    @extend_schema(
        request=serializers.CameraImportRequestSerializer,
        responses={201: serializers.CameraImportResultSerializer},
    )
    def post(self, request):
        documents = request.data.get("cameras") if isinstance(request.data, dict) else request.data
        if isinstance(documents, list) and all(isinstance(document, dict) for document in documents):
            documents = _validated_import(documents)
        return Response(services.import_cameras(documents), status=status.HTTP_201_CREATED)


def _validated_import(documents: list[dict]) -> list[dict]:
    """Each document checked like a create before anything is written: the service stores what it is
    given, so a wrong type (``fps: "fast"``) or a bad id would otherwise reach the database as a 500."""
    cleaned: list[dict] = []
    errors: list[FieldError] = []
    for index, document in enumerate(documents):
        serializer = serializers.CameraImportSerializer(data=document)
        if serializer.is_valid():
            data = dict(serializer.validated_data)
            data.pop("version", None)
            cleaned.append(data)
        else:
            errors.extend(flatten_errors(serializer.errors, f"cameras.{index}"))
    if errors:
        raise ApiError(Kind.VALIDATION, "Import refused: nothing was imported", field_errors=errors)
    return cleaned


class AlertViewSet(mixins.ListModelMixin, SpaViewSet):
    queryset = Alert.objects.order_by("-timestamp")
    serializer_class = serializers.AlertSerializer
    filterset_class = AlertFilterSet
    not_found = "Alert {pk} not found"
    audit_resource = "alert"
    required_permissions = {
        "list": "cameras:read",
        "acknowledge": "cameras:write",
        "mute": "cameras:write",
        "destroy": "cameras:write",
    }

    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return Response(serializers.AlertSerializer(alerting.acknowledge(self.get_object())).data)

    @extend_schema(request=serializers.AlertMuteSerializer)
    @action(detail=True, methods=["post"])
    def mute(self, request, pk=None):
        data = validated(serializers.AlertMuteSerializer, request.data or {})
        return Response(serializers.AlertSerializer(alerting.mute(self.get_object(), data["muted"])).data)

    def destroy(self, request, pk=None):
        self.get_object().delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class NotificationListView(SpaListView):
    """``GET /notifications`` (yours and site-wide ones) and ``DELETE /notifications`` (clear)."""

    serializer_class = serializers.NotificationSerializer
    required_permissions = AUTHENTICATED
    audit_resource = "notification"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no person
            return Notification.objects.none()
        return visible_notifications(self.request)

    @extend_schema(responses={200: serializers.NotificationsClearedSerializer})
    def delete(self, request):
        """Clear your notifications; site-wide ones too for those who may change the fleet."""
        queryset = self.get_queryset()
        if not request.user.has_permission("cameras:write"):
            queryset = queryset.filter(user=request.user)
        deleted, _ = queryset.delete()
        return Response({"deleted": deleted})


class NotificationAcknowledgeView(SpaGenericAPIView):
    serializer_class = serializers.NotificationSerializer
    not_found = "Notification not found"
    required_permissions = AUTHENTICATED
    audit_resource = "notification"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no person
            return Notification.objects.none()
        return visible_notifications(self.request)

    @extend_schema(request=None, responses=serializers.NotificationSerializer)
    def post(self, request, pk):
        notification = self.get_object()
        notification.acknowledged = True
        notification.save(update_fields=["acknowledged"])
        return Response(serializers.NotificationSerializer(notification).data)


def visible_notifications(request):
    user = request.user
    if not isinstance(user, User):
        raise ApiError(Kind.FORBIDDEN, "Notifications belong to people, not API keys")
    queryset = notifications.visible_to(user).order_by("-timestamp")
    acknowledged = request.query_params.get("acknowledged")
    if acknowledged in ("true", "false"):
        queryset = queryset.filter(acknowledged=acknowledged == "true")
    elif acknowledged is not None:
        raise ApiError(Kind.VALIDATION, "acknowledged must be true or false")
    return queryset
