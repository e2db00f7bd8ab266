"""Health endpoints: 002's ``/api/v1/health``, 003's ``/healthz`` and ``/healthz/detailed``, and 001's
``/health/live`` and ``/health/ready`` (plain probes for orchestrators: no authentication, no rate limit)."""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.http import require_safe
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.settings import api_settings

from config.api.base import AUTHENTICATED, PUBLIC
from config.api.contracts import now_iso
from config.api.edge import EdgeAPIView
from config.api.plain import GatewayAPIView
from config.health import ComponentHealth, check_gateway, check_platform, edge_metrics

# 003 names the storage component ``s3_storage`` whatever the backend.
_EDGE_NAMES = {"database": "database", "cache": "cache", "storage": "s3_storage"}
# Anonymous health calls share one check per process for this long: each check writes and deletes a storage
# object and queries every dependency, which nobody may make the server do at request rate.
PUBLIC_CACHE_SECONDS = 5.0
# What anonymous callers read for a failing part; the exception text (hosts, paths, driver messages) is for
# the authenticated detailed view only.
PUBLIC_ERROR = "unavailable"
_public_cache: dict[str, tuple[float, object]] = {}
_public_lock = threading.Lock()


def _briefly_cached(name: str, check):
    with _public_lock:
        expires, value = _public_cache.get(name, (0.0, None))
        if time.monotonic() < expires:
            return value
        value = check()
        _public_cache[name] = (time.monotonic() + PUBLIC_CACHE_SECONDS, value)
        return value


# Response shapes, for the OpenAPI document only (the views answer with dicts).
class GatewayServiceSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["healthy", "unhealthy"])
    responseTime = serializers.FloatField(help_text="Milliseconds the check took")
    critical = serializers.BooleanField(help_text="Down means the platform is unhealthy, not just degraded")
    error = serializers.CharField(required=False, help_text="What is wrong, when unhealthy")


class PlatformHealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["healthy", "degraded", "unhealthy"],
        help_text="unhealthy (503): a critical service is down; degraded (200): only non-critical ones are",
    )
    timestamp = serializers.DateTimeField()
    version = serializers.CharField()
    services = serializers.DictField(
        child=GatewayServiceSerializer(),
        help_text=(
            "002's names mapped to Argus's parts: beCamera = the camera service (the vision workers analysing "
            "the cameras that need it; not critical), beAuth = authentication (the user table and token "
            "signing; critical), database = PostgreSQL (critical); and cache = Redis (critical), "
            "storage = object storage (not critical)"
        ),
    )


class EdgeHealthSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="healthy or unhealthy")
    timestamp = serializers.DateTimeField()
    version = serializers.CharField()
    components = serializers.DictField(
        child=serializers.DictField(),
        help_text="database, cache, s3_storage: {status, response_time_ms | error[, details]}",
    )
    uptime_seconds = serializers.IntegerField()


class EdgeMetricsSerializer(serializers.Serializer):
    events_total = serializers.IntegerField(help_text="Plate events stored")
    events_per_minute = serializers.FloatField(help_text="Over the last hour")
    avg_processing_time_ms = serializers.FloatField(
        allow_null=True, help_text="Mean of the edge workers' metadata.processing_time_ms over the last hour"
    )


class EdgeDetailedHealthSerializer(EdgeHealthSerializer):
    metrics = EdgeMetricsSerializer(required=False, help_text="Absent while the database is down")


class PlatformHealthView(GatewayAPIView):
    """002: overall status with each service's status and response time."""

    required_permissions = PUBLIC
    rate_category = None
    authentication_classes = []

    @extend_schema(responses={200: PlatformHealthSerializer, 503: PlatformHealthSerializer})
    def get(self, request):
        health = _briefly_cached("gateway", check_gateway)
        services = {}
        for name, component in health.components.items():
            services[name] = {
                "status": component.status,
                "responseTime": component.response_time_ms,
                "critical": name in health.critical,
            }
            if component.error:
                services[name]["error"] = component.error
        body = {
            "status": health.status,
            "timestamp": health.timestamp,
            "version": settings.ARGUS_VERSION,
            "services": services,
        }
        return Response(body, status=health.http_status)


def _edge_component(component: ComponentHealth, detailed: bool) -> dict:
    out: dict = {"status": component.status}
    if component.healthy:
        out["response_time_ms"] = component.response_time_ms
    else:
        out["error"] = component.error if detailed else PUBLIC_ERROR
    if detailed and component.healthy:
        out["details"] = component.details
    return out


class EdgeHealthView(EdgeAPIView):
    required_permissions = PUBLIC
    rate_category = None
    authentication_classes = []
    detailed = False

    @extend_schema(responses={200: EdgeHealthSerializer, 503: EdgeHealthSerializer})
    def get(self, request):
        health = check_platform() if self.detailed else _briefly_cached("platform", check_platform)
        body = {
            "status": health.status,
            "timestamp": health.timestamp,
            "version": settings.ARGUS_VERSION,
            "components": {
                _EDGE_NAMES[name]: _edge_component(component, self.detailed)
                for name, component in health.components.items()
            },
            "uptime_seconds": health.uptime_seconds,
        }
        if self.detailed:
            body["components"]["database"].setdefault("details", {})["last_check"] = health.timestamp
            if health.components["database"].healthy:
                body["metrics"] = edge_metrics()
        return Response(body, status=health.http_status)


class EdgeDetailedHealthView(EdgeHealthView):
    required_permissions = AUTHENTICATED
    authentication_classes = api_settings.DEFAULT_AUTHENTICATION_CLASSES
    detailed = True

    @extend_schema(responses={200: EdgeDetailedHealthSerializer, 503: EdgeDetailedHealthSerializer})
    def get(self, request):
        return super().get(request)


# --- 001's probes: /health/live and /health/ready (compose.yml's health checks) ---------------------------


@require_safe
def live(request):
    """Liveness: this process answers. No dependency is touched, so a database outage never restarts it."""
    return JsonResponse({"status": "alive", "timestamp": now_iso()})


@require_safe
def ready(request):
    """Readiness: the database, Redis and storage all answer (503 naming the one that does not)."""
    health = check_platform()
    checks = {}
    for name, component in health.components.items():
        checks[name] = {"status": component.status, "response_time_ms": component.response_time_ms}
        if component.error:
            checks[name]["error"] = component.error
    body = {"status": "ready" if health.healthy else "not_ready", "timestamp": health.timestamp, "checks": checks}
    return JsonResponse(body, status=health.http_status)
