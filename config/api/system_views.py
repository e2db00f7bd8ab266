"""001 "System & Health" endpoints (``/api/v1/system/...``, ``/api/v1/services/banner-messages``).

Thin views over :mod:`config.system`: they parse the query or body, call the service and answer
snake_case data that the 001 renderer camelizes. The serializers below document the shapes in the
OpenAPI schema and parse request bodies.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from config.api.base import AUTHENTICATED
from config.api.contracts import ApiError, FieldError, Kind
from config.api.spa import SpaAPIView
from config.system import about, banners, metrics, services, summary
from config.system.choices import ServiceStatus

# --- Shapes ---------------------------------------------------------------------------------------


class SystemMetricSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    category = serializers.ChoiceField(choices=metrics.METRIC_CATEGORIES)
    label = serializers.CharField()
    value = serializers.FloatField()
    unit = serializers.CharField()
    limit = serializers.FloatField(allow_null=True)
    timestamp = serializers.DateTimeField()


class NetworkInterfaceSerializer(serializers.Serializer):
    name = serializers.CharField()
    is_up = serializers.BooleanField(allow_null=True)
    is_loopback = serializers.BooleanField()
    speed_mbps = serializers.IntegerField(allow_null=True)
    bytes_sent_per_sec = serializers.FloatField()
    bytes_recv_per_sec = serializers.FloatField()
    bytes_sent = serializers.IntegerField()
    bytes_recv = serializers.IntegerField()
    packets_sent = serializers.IntegerField()
    packets_recv = serializers.IntegerField()
    errors_in = serializers.IntegerField()
    errors_out = serializers.IntegerField()
    drops_in = serializers.IntegerField()
    drops_out = serializers.IntegerField()


class NetworkTotalsSerializer(serializers.Serializer):
    bytes_sent_per_sec = serializers.FloatField()
    bytes_recv_per_sec = serializers.FloatField()
    errors_in = serializers.IntegerField()
    errors_out = serializers.IntegerField()
    drops_in = serializers.IntegerField()
    drops_out = serializers.IntegerField()
    link_speed_mbps = serializers.IntegerField(allow_null=True)


class NetworkMetricsSerializer(serializers.Serializer):
    timestamp = serializers.DateTimeField()
    interval_seconds = serializers.FloatField()
    interfaces = NetworkInterfaceSerializer(many=True)
    totals = NetworkTotalsSerializer(help_text="Over non-loopback interfaces")


class SystemServiceSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=ServiceStatus.values)
    version = serializers.CharField()
    uptime = serializers.CharField()
    last_restart = serializers.DateTimeField(allow_null=True)
    last_checked = serializers.DateTimeField(allow_null=True)
    detail = serializers.CharField()


class WorkerRestartResultSerializer(serializers.Serializer):
    node = serializers.CharField()
    ok = serializers.BooleanField()
    message = serializers.CharField()


class ServiceRestartSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField()
    message = serializers.CharField()
    workers = WorkerRestartResultSerializer(many=True)
    last_restart = serializers.DateTimeField()


class SystemSummarySerializer(serializers.Serializer):
    active_cameras = serializers.IntegerField()
    registered_people = serializers.IntegerField(allow_null=True)
    people_detected_today = serializers.IntegerField(allow_null=True)
    unknown_face_alerts = serializers.IntegerField(allow_null=True)
    manual_overrides = serializers.IntegerField(allow_null=True)
    attendance_completion = serializers.FloatField(allow_null=True)
    last_sync = serializers.DateTimeField(allow_null=True)


class SystemUptimeSerializer(serializers.Serializer):
    system_boot_time = serializers.DateTimeField()
    system_uptime_seconds = serializers.IntegerField()
    platform_started_at = serializers.DateTimeField()
    platform_uptime_seconds = serializers.IntegerField()


class SystemVersionSerializer(serializers.Serializer):
    version = serializers.CharField()
    python = serializers.CharField()
    django = serializers.CharField()
    postgres = serializers.CharField(allow_null=True)
    redis = serializers.CharField(allow_null=True)
    celery = serializers.CharField()
    build = serializers.CharField(allow_null=True)


class BannerMessageSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    message = serializers.CharField()
    level = serializers.ChoiceField(choices=banners.BANNER_LEVELS)
    starts_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    created_by = serializers.CharField()
    created_at = serializers.DateTimeField()


class BannerMessageCreateSerializer(serializers.Serializer):
    # Content rules (non-empty, length, level, future expiry) are the service's: one place decides.
    message = serializers.CharField(allow_blank=True, trim_whitespace=False)
    level = serializers.CharField(required=False, default="info")
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


# --- Views ----------------------------------------------------------------------------------------


_YES, _NO = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


def _flag(request, name: str) -> bool:
    """A yes/no query parameter; a value it cannot read is refused (taken for "no", it would answer something
    the client did not ask for)."""
    value = (request.query_params.get(name) or "").strip().lower()
    if value not in (*_YES, *_NO):
        raise ApiError(
            Kind.VALIDATION,
            f"{name} must be true or false",
            field_errors=[FieldError(name, "Must be true or false", "query")],
        )
    return value in _YES


def _datetime_param(request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    parsed = parse_datetime(raw.replace(" ", "+"))  # an unencoded "+01:00" arrives as " 01:00"
    if parsed is None:
        raise ApiError(
            Kind.VALIDATION,
            f"{name} must be an ISO 8601 date-time",
            field_errors=[FieldError(name, "Must be an ISO 8601 date-time")],
        )
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


class SystemSummaryView(SpaAPIView):
    required_permissions = "system:read"

    @extend_schema(
        responses=SystemSummarySerializer, summary="Dashboard figures (null where the owning app has no data)"
    )
    def get(self, request):
        return Response(summary.summary())


class SystemMetricsView(SpaAPIView):
    required_permissions = "system:read"

    @extend_schema(
        parameters=[
            OpenApiParameter("category", str, enum=list(metrics.METRIC_CATEGORIES)),
            OpenApiParameter("history", bool, description="Answer the samples of one label over time"),
            OpenApiParameter("label", str, description="Required with history"),
            OpenApiParameter("from", OpenApiTypes.DATETIME, description="History start (default: 24 h before to)"),
            OpenApiParameter("to", OpenApiTypes.DATETIME, description="History end (default: now)"),
        ],
        responses=SystemMetricSerializer(many=True),
        summary="Latest sample of each metric, or one metric's history",
    )
    def get(self, request):
        params = request.query_params
        category = params.get("category") or None
        # Every value is read before the answer is chosen: an invalid one is refused either way.
        history = _flag(request, "history")
        since, until = _datetime_param(request, "from"), _datetime_param(request, "to")
        if not history:
            return Response(metrics.latest_metrics(category))
        label = (params.get("label") or "").strip()
        if not label:
            raise ApiError(
                Kind.VALIDATION, "label is required with history", field_errors=[FieldError("label", "Required")]
            )
        return Response(metrics.metric_history(label, since, until, category))


class SystemServicesView(SpaAPIView):
    required_permissions = "system:read"

    @extend_schema(
        parameters=[OpenApiParameter("refresh", bool, description="Check every service now")],
        responses=SystemServiceSerializer(many=True),
        summary="Platform services and their last liveness check",
    )
    def get(self, request):
        max_age = 0 if _flag(request, "refresh") else services.SERVICE_FRESH_SECONDS
        return Response([services.service_dict(row) for row in services.services_status(max_age)])


class SystemNetworkMetricsView(SpaAPIView):
    required_permissions = "system:read"

    @extend_schema(responses=NetworkMetricsSerializer, summary="Per-interface throughput, errors and drops")
    def get(self, request):
        return Response(metrics.network_metrics())


class SystemServiceRestartView(SpaAPIView):
    required_permissions = "system:write"
    audit_enabled = False  # the service audits every attempt with its outcome

    @extend_schema(
        request=None, responses=ServiceRestartSerializer, summary="Restart a service (the Celery worker only)"
    )
    def post(self, request, service_id: str):
        return Response(services.restart_service(service_id, request.user))


class SystemUptimeView(SpaAPIView):
    required_permissions = "system:read"

    @extend_schema(responses=SystemUptimeSerializer, summary="Machine and platform uptime")
    def get(self, request):
        return Response(about.uptime())


class SystemVersionView(SpaAPIView):
    required_permissions = "system:read"

    @extend_schema(responses=SystemVersionSerializer, summary="Platform, runtime and component versions")
    def get(self, request):
        return Response(about.version())


class BannerMessagesView(SpaAPIView):
    required_permissions = {"GET": AUTHENTICATED, "POST": "system:write"}
    audit_resource = "banner_message"

    @extend_schema(responses=BannerMessageSerializer(many=True), summary="Banners to show now")
    def get(self, request):
        return Response([banners.banner_dict(banner) for banner in banners.active_banners()])

    @extend_schema(
        request=BannerMessageCreateSerializer, responses={201: BannerMessageSerializer}, summary="Publish a banner"
    )
    def post(self, request):
        body = BannerMessageCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        banner = banners.post_banner(by=request.user, **body.validated_data)
        return Response(banners.banner_dict(banner), status=status.HTTP_201_CREATED)
