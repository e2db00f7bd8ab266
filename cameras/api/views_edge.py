"""003's configuration endpoints: ``/config/cameras`` (+ ``/test``), ``/config/zones``, ``/config/sensors``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from cameras import monitoring, services
from cameras.api import serializers
from cameras.api.filters import SensorFilterSet, ZoneFilterSet
from cameras.models import Camera, Sensor, Zone
from config.api.contracts import ApiError, FieldError, Kind
from config.api.edge import EdgeViewSet

READ_WRITE = {
    "list": "cameras:read",
    "retrieve": "cameras:read",
    "create": "cameras:write",
    "update": "cameras:write",
    "partial_update": "cameras:write",
    "destroy": "cameras:delete",
    "test": "cameras:write",
}


def _validated(serializer):
    serializer.is_valid(raise_exception=True)
    return serializer


@contextmanager
def _named_for_003() -> Iterator[None]:
    """The service names the URL ``stream_url``; a 003 client sent ``rtsp_url`` and must be told that name."""
    try:
        yield
    except ApiError as error:
        for item in error.field_errors:
            if item.field == "stream_url":
                item.field = "rtsp_url"
        raise


class _ConfigViewSet(mixins.ListModelMixin, EdgeViewSet):
    required_permissions = READ_WRITE

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    def destroy(self, request, pk=None):
        self.get_object().delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class CameraViewSet(_ConfigViewSet):
    queryset = Camera.objects.order_by("id")
    serializer_class = serializers.EdgeCameraSerializer
    not_found = "Camera not found"
    audit_resource = "camera"

    def get_queryset(self):
        queryset = super().get_queryset()
        enabled = self.request.query_params.get("enabled") if self.action == "list" else None
        if enabled is not None:
            if enabled not in ("true", "false"):
                raise ApiError(
                    Kind.VALIDATION, "Validation error", field_errors=[FieldError("enabled", "must be true or false")]
                )
            queryset = queryset.filter(enabled=enabled == "true")
        return queryset

    @extend_schema(request=serializers.EdgeCameraWriteSerializer, responses={201: serializers.EdgeCameraSerializer})
    def create(self, request):
        write = _validated(serializers.EdgeCameraWriteSerializer(data=request.data))
        with _named_for_003():
            camera = services.create_camera(write.to_service(), id_style="edge")
        return Response(serializers.EdgeCameraSerializer(camera).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.EdgeCameraWriteSerializer, responses=serializers.EdgeCameraSerializer)
    def update(self, request, pk=None):
        camera = self.get_object()
        write = _validated(serializers.EdgeCameraWriteSerializer(data=request.data, partial=True))
        with _named_for_003():
            camera = services.update_camera(camera, write.to_service())
        return Response(serializers.EdgeCameraSerializer(camera).data)

    partial_update = update

    @extend_schema(
        request=None,
        parameters=[OpenApiParameter("timeout", int, description="Seconds, 1-60 (default 10)")],
        responses={200: serializers.EdgeCameraTestSerializer, 503: serializers.EdgeCameraTestSerializer},
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        camera = self.get_object()
        services.require_stream_url(camera)
        try:
            timeout = int(request.query_params.get("timeout", 10))
        except ValueError:
            timeout = 0
        if not 1 <= timeout <= 60:
            raise ApiError(
                Kind.VALIDATION,
                "Validation error",
                field_errors=[FieldError("timeout", "must be an integer from 1 to 60")],
            )
        started = time.perf_counter()
        result = monitoring.probe_camera(camera, timeout=float(timeout))
        elapsed = round(result.latency_ms if result.ok else (time.perf_counter() - started) * 1000)
        if result.ok:
            body = {
                "status": "success",
                "message": "RTSP stream connection successful",
                "response_time_ms": elapsed,
                "stream_info": {
                    "codec": result.codec,
                    "width": result.width,
                    "height": result.height,
                    "fps": result.fps,
                },
            }
            return Response(body)
        body = {
            "status": "failed",
            "message": f"Failed to connect to RTSP stream: {result.error}",
            "error": result.error,
            "response_time_ms": elapsed,
        }
        return Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE)


class _SavedConfigViewSet(_ConfigViewSet):
    """Create and update through one service function ``save(obj_or_None, data)``."""

    write_serializer_class = None
    save = None  # staticmethod(service): None creates, an object updates

    def create(self, request):
        data = _validated(self.write_serializer_class(data=request.data)).validated_data
        obj = self.save(None, dict(data))
        return Response(self.get_serializer(obj).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None):
        obj = self.get_object()
        data = _validated(self.write_serializer_class(data=request.data, partial=True)).validated_data
        return Response(self.get_serializer(self.save(obj, dict(data))).data)

    partial_update = update


@extend_schema_view(
    create=extend_schema(request=serializers.EdgeZoneWriteSerializer, responses={201: serializers.EdgeZoneSerializer}),
    update=extend_schema(request=serializers.EdgeZoneWriteSerializer, responses=serializers.EdgeZoneSerializer),
    partial_update=extend_schema(request=serializers.EdgeZoneWriteSerializer, responses=serializers.EdgeZoneSerializer),
)
class ZoneViewSet(_SavedConfigViewSet):
    queryset = Zone.objects.order_by("id")
    serializer_class = serializers.EdgeZoneSerializer
    write_serializer_class = serializers.EdgeZoneWriteSerializer
    filterset_class = ZoneFilterSet
    not_found = "Zone not found"
    audit_resource = "zone"

    save = staticmethod(services.save_zone)


@extend_schema_view(
    create=extend_schema(
        request=serializers.EdgeSensorWriteSerializer, responses={201: serializers.EdgeSensorSerializer}
    ),
    update=extend_schema(request=serializers.EdgeSensorWriteSerializer, responses=serializers.EdgeSensorSerializer),
    partial_update=extend_schema(
        request=serializers.EdgeSensorWriteSerializer, responses=serializers.EdgeSensorSerializer
    ),
)
class SensorViewSet(_SavedConfigViewSet):
    queryset = Sensor.objects.order_by("id")
    serializer_class = serializers.EdgeSensorSerializer
    write_serializer_class = serializers.EdgeSensorWriteSerializer
    filterset_class = SensorFilterSet
    not_found = "Sensor not found"
    audit_resource = "sensor"

    save = staticmethod(services.save_sensor)
