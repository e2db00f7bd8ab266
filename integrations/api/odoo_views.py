"""001 Odoo integration endpoints (``/api/v1/odoo/...``): config, connection test, sync, sync log, status."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from config.api.base import validated
from config.api.filters import QueryAliases
from config.api.spa import SpaAPIView, SpaListView, expected_version
from integrations.api import odoo_serializers as serializers
from integrations.models import OdooConfig, OdooSyncAction, OdooSyncLog, OdooSyncResult
from integrations.odoo import config as odoo_config
from integrations.tasks import queue_odoo_sync

# 001 sends camelCase query parameters; ``from`` and ``to`` are Python keywords.


def config_body(config: OdooConfig) -> dict:
    return serializers.OdooConfigSerializer(config, context={"counts": odoo_config.counters()}).data


class OdooConfigView(SpaAPIView):
    required_permissions = {"GET": "odoo:read", "PUT": "odoo:write", "PATCH": "odoo:write"}
    audit_resource = "odoo_config"

    @extend_schema(responses=serializers.OdooConfigSerializer)
    def get(self, request):
        return Response(config_body(OdooConfig.load()))

    @extend_schema(request=serializers.OdooConfigWriteSerializer, responses=serializers.OdooConfigSerializer)
    def put(self, request):
        data = validated(serializers.OdooConfigWriteSerializer, request.data, partial=True)
        version = expected_version(request, data, "configuration")
        return Response(config_body(odoo_config.update_config(data, expected_version=version)))

    patch = put


class OdooTestView(SpaAPIView):
    """Reach Odoo over JSON-RPC and authenticate: 200 with ``status`` connected or error (and why)."""

    required_permissions = "odoo:write"
    audit_resource = "odoo_config"
    audit_action = "test"

    @extend_schema(request=serializers.OdooTestSerializer, responses=serializers.OdooTestResultSerializer)
    def post(self, request):
        data = validated(serializers.OdooTestSerializer, request.data or {})
        return Response(odoo_config.test_connection(data))


class OdooSyncView(SpaAPIView):
    """Queue a sync run (a Celery task): 202 with the job id, which is also the run id of its log entries."""

    required_permissions = "odoo:write"
    audit_resource = "odoo_sync"
    audit_action = "sync"

    @extend_schema(request=serializers.OdooSyncRequestSerializer, responses={202: serializers.OdooSyncJobSerializer})
    def post(self, request):
        data = validated(serializers.OdooSyncRequestSerializer, request.data or {})
        job_id = queue_odoo_sync(data.get("record_ids"), retry_failed=data["retry_failed"])
        return Response({"job_id": job_id, "status": "queued"}, status=status.HTTP_202_ACCEPTED)


class OdooSyncLogFilterSet(QueryAliases, django_filters.FilterSet):
    result = django_filters.ChoiceFilter(choices=OdooSyncResult.choices)
    action = django_filters.ChoiceFilter(choices=OdooSyncAction.choices)
    employee_id = django_filters.CharFilter()
    run_id = django_filters.CharFilter()
    attendance_log_id = django_filters.CharFilter()
    since = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="lte")

    class Meta:
        model = OdooSyncLog
        fields = ["result", "action", "employee_id", "run_id", "attendance_log_id", "since", "until"]

    query_aliases = {
        "employeeId": "employee_id",
        "runId": "run_id",
        "attendanceLogId": "attendance_log_id",
        "from": "since",
        "to": "until",
    }
    documented_names = {"employee_id": "employeeId", "run_id": "runId", "attendance_log_id": "attendanceLogId"}


class OdooSyncLogListView(SpaListView):
    """``GET /odoo/logs``: every attempt, newest first; filters ``result``, ``action``, ``employeeId``,
    ``runId``, ``attendanceLogId``, ``from``, ``to``; paged with ``page`` and ``pageSize``."""

    queryset = OdooSyncLog.objects.order_by("-timestamp", "-created_at")
    serializer_class = serializers.OdooSyncLogSerializer
    filterset_class = OdooSyncLogFilterSet
    required_permissions = "odoo:read"


class OdooStatusView(SpaAPIView):
    required_permissions = "odoo:read"

    @extend_schema(responses=serializers.OdooStatusSerializer)
    def get(self, request):
        return Response(odoo_config.status_summary())
