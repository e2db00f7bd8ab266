"""Export endpoints (001 envelope): start an attendance, audit or person-history export; read any job's status."""

from __future__ import annotations

from typing import ClassVar

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from accounts.permissions import holds
from attendance import export_tasks, exports
from attendance.api.export_serializers import (
    AttendanceExportRequestSerializer,
    AuditExportRequestSerializer,
    ExportAcceptedSerializer,
    ExportJobSerializer,
    ExportRequestSerializer,
    HistoryExportRequestSerializer,
)
from attendance.choices import ExportType
from config.api.base import AUTHENTICATED
from config.api.spa import SpaAPIView, SpaGenericAPIView


class StartExportView(SpaAPIView):
    """``POST`` queues a job; 202 with its id. Filters are checked before anything is stored."""

    export_type: ClassVar[str]
    request_serializer: ClassVar[type[ExportRequestSerializer]]
    audit_resource = "export"

    def serializer_context(self) -> dict:
        return {"request": self.request}

    def post(self, request, **kwargs):
        serializer = self.request_serializer(data=request.data, context=self.serializer_context())
        serializer.is_valid(raise_exception=True)
        try:
            job = export_tasks.start_export(
                user=exports.owner_of(request.user),
                export_type=self.export_type,
                export_format=serializer.validated_data["format"],
                filters=serializer.validated_data["filters"],
            )
        except exports.ExportFilterError as error:
            raise serializers.ValidationError(error.errors) from None
        return Response({"job_id": str(job.pk), "status": job.status}, status=status.HTTP_202_ACCEPTED)


_ACCEPTED = {202: ExportAcceptedSerializer, 400: OpenApiResponse(description="VALIDATION_ERROR")}


@extend_schema(request=AttendanceExportRequestSerializer, responses=_ACCEPTED, summary="Export attendance logs")
class AttendanceExportView(StartExportView):
    export_type = ExportType.ATTENDANCE
    request_serializer = AttendanceExportRequestSerializer
    required_permissions = {"POST": "attendance:write"}


@extend_schema(request=AuditExportRequestSerializer, responses=_ACCEPTED, summary="Export the audit log")
class AuditExportView(StartExportView):
    export_type = ExportType.AUDIT
    request_serializer = AuditExportRequestSerializer
    required_permissions = {"POST": "audit:read"}


@extend_schema(request=HistoryExportRequestSerializer, responses=_ACCEPTED, summary="Export a person's history")
class PersonHistoryExportView(StartExportView):
    export_type = ExportType.HISTORY
    request_serializer = HistoryExportRequestSerializer
    required_permissions = {"POST": "attendance:write"}

    def post(self, request, **kwargs):
        # The export holds the person's detections too: it needs what reading them needs.
        if not holds(request.user, "detections:read"):
            raise PermissionDenied()
        return super().post(request, **kwargs)

    def serializer_context(self) -> dict:
        return {**super().serializer_context(), "employee_id": self.kwargs["employee_id"]}


class ExportJobView(SpaGenericAPIView):
    """Any export job's status; a job belongs to whoever started it (administrators see every job)."""

    serializer_class = ExportJobSerializer
    lookup_url_kwarg = "job_id"
    # Another user's job is answered like a missing one: its existence is not disclosed.
    not_found = "Export job {pk} not found"
    required_permissions = {"GET": AUTHENTICATED}

    def get_queryset(self):
        return exports.visible_jobs(self.request.user)

    @extend_schema(responses=ExportJobSerializer, summary="Export job status")
    def get(self, request, job_id):
        return Response(self.get_serializer(self.get_object()).data)
