"""003 ``/config/exporters``: list, create, get, update, delete, ``/test``; and ``/deliveries`` (the log)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, parsers, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api.contracts import ApiError, FieldError, Kind
from config.api.edge import EdgeViewSet
from integrations import exporters, services
from integrations.api.serializers import DeliverySerializer, ExporterSerializer, ExporterWriteSerializer
from integrations.models import DeliveryStatus, Exporter, OutboxMessage

PERMISSIONS = {
    "list": "anpr:read",
    "retrieve": "anpr:read",
    "deliveries": "anpr:read",
    "create": "anpr:write",
    "update": "anpr:write",
    "partial_update": "anpr:write",
    "destroy": "anpr:write",
    "test": "anpr:write",
}
WRITABLE = set(ExporterWriteSerializer().fields)
# What a client that read an exporter may send back with it: accepted and ignored.
READ_ONLY = {"id", "created_at", "updated_at"}

TEST_RESULT = inline_serializer(
    "ExporterTestResult",
    {
        "status": serializers.ChoiceField(choices=["success", "failed"]),
        "message": serializers.CharField(),
        "response_time_ms": serializers.IntegerField(),
        "http_status": serializers.IntegerField(allow_null=True, required=False),
        "error": serializers.CharField(required=False),
    },
)


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(Kind.VALIDATION, "Validation error", field_errors=[FieldError(field, message)])


def _body(request) -> dict:
    """The JSON object sent, with read-only fields dropped; unknown fields are refused."""
    data = request.data
    if not isinstance(data, dict):
        raise _invalid("body", "A JSON object")
    unknown = sorted(set(data) - WRITABLE - READ_ONLY)
    if unknown:
        raise ApiError(
            Kind.VALIDATION, "Validation error", field_errors=[FieldError(key, "Unknown field") for key in unknown]
        )
    return {key: value for key, value in data.items() if key not in READ_ONLY}


def _bool_param(request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if raw not in ("true", "false"):
        raise ApiError(
            Kind.VALIDATION, "Validation error", field_errors=[FieldError(name, "must be true or false", "query")]
        )
    return raw == "true"


class ExporterViewSet(mixins.ListModelMixin, EdgeViewSet):
    queryset = Exporter.objects.order_by("id")
    serializer_class = ExporterSerializer
    parser_classes = [parsers.JSONParser]
    required_permissions = PERMISSIONS
    not_found = "Exporter not found"
    audit_resource = "exporter"

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":
            enabled = _bool_param(self.request, "enabled")
            if enabled is not None:
                queryset = queryset.filter(enabled=enabled)
        return queryset

    @extend_schema(
        parameters=[OpenApiParameter("enabled", bool, description="Only enabled (true) or disabled (false) ones")]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, pk=None):
        return Response(ExporterSerializer(self.get_object()).data)

    @extend_schema(request=ExporterWriteSerializer, responses={201: ExporterSerializer})
    def create(self, request):
        exporter = services.create_exporter(_body(request))
        return Response(ExporterSerializer(exporter).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ExporterWriteSerializer(partial=True), responses=ExporterSerializer)
    def update(self, request, pk=None):
        exporter = services.update_exporter(self.get_object(), _body(request))
        return Response(ExporterSerializer(exporter).data)

    partial_update = update

    def destroy(self, request, pk=None):
        services.delete_exporter(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: TEST_RESULT, 503: OpenApiResponse(TEST_RESULT)})
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        code, body = exporters.test_exporter(self.get_object())
        return Response(body, status=code)

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=DeliveryStatus.values, description="Only this status")],
        responses=DeliverySerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        exporter = self.get_object()
        messages = OutboxMessage.objects.filter(exporter=exporter).prefetch_related("attempt_log")
        wanted = request.query_params.get("status")
        if wanted is not None:
            if wanted not in DeliveryStatus.values:
                raise ApiError(
                    Kind.VALIDATION,
                    "Validation error",
                    field_errors=[FieldError("status", f"One of {', '.join(DeliveryStatus.values)}", "query")],
                )
            messages = messages.filter(status=wanted)
        page = self.paginate_queryset(messages.order_by("-created_at", "-id"))
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)
