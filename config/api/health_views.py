"""Health endpoints: 002's ``/api/v1/health`` and 003's ``/healthz`` and ``/healthz/detailed``."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.settings import api_settings

from config.api.base import AUTHENTICATED, PUBLIC
from config.api.edge import EdgeAPIView
from config.api.plain import GatewayAPIView
from config.health import ComponentHealth, check_platform

# 003 names the storage component ``s3_storage`` whatever the backend.
_EDGE_NAMES = {"database": "database", "cache": "cache", "storage": "s3_storage"}


# Response shapes, for the OpenAPI document only (the views answer with dicts).
class PlatformHealthSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="healthy or unhealthy")
    timestamp = serializers.DateTimeField()
    version = serializers.CharField()
    services = serializers.DictField(
        child=serializers.DictField(), help_text="database, cache, storage: {status, responseTime[, error]}"
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


class PlatformHealthView(GatewayAPIView):
    """002: overall status with each service's status and response time."""

    required_permissions = PUBLIC
    rate_category = None
    authentication_classes = []

    @extend_schema(responses={200: PlatformHealthSerializer, 503: PlatformHealthSerializer})
    def get(self, request):
        health = check_platform()
        services = {}
        for name, component in health.components.items():
            services[name] = {"status": component.status, "responseTime": component.response_time_ms}
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
        out["error"] = component.error
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
        health = check_platform()
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
        return Response(body, status=health.http_status)


class EdgeDetailedHealthView(EdgeHealthView):
    required_permissions = AUTHENTICATED
    authentication_classes = api_settings.DEFAULT_AUTHENTICATION_CLASSES
    detailed = True
