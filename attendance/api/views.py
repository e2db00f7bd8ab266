"""001 attendance endpoints (``/api/v1/attendance/...``) and ``GET /api/v1/shifts``."""

from __future__ import annotations

from django.utils import timezone
from django_filters.utils import translate_validation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from accounts import audit
from attendance import services, statistics
from attendance import shifts as shift_rules
from attendance.api import serializers
from attendance.api.filters import AttendanceLogFilterSet
from attendance.choices import OdooStatus
from attendance.models import AttendanceLog, AttendanceRecord, ShiftSchedule
from cameras.models import Camera
from config.api.base import validated
from config.api.contracts import ApiError, FieldError, Kind
from config.api.spa import SpaAPIView, SpaGenericAPIView, SpaListView

RECORDS_DEFAULT_LIMIT = 100
RECORDS_MAX_LIMIT = 500


def _limit(raw: str | None) -> int:
    if raw in (None, ""):
        return RECORDS_DEFAULT_LIMIT
    issue = f"must be an integer from 1 to {RECORDS_MAX_LIMIT}"
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= RECORDS_MAX_LIMIT:
        raise ApiError(Kind.VALIDATION, f"limit {issue}", field_errors=[FieldError("limit", issue, "query")])
    return value


class AttendanceRecordListView(SpaGenericAPIView):
    """Current presence: the latest sighting of each person, newest first."""

    queryset = AttendanceRecord.objects.order_by("-timestamp", "person_id")
    serializer_class = serializers.AttendanceRecordSerializer
    required_permissions = "attendance:read"
    pagination_class = None  # bounded by ``limit``, not paged

    @extend_schema(
        parameters=[OpenApiParameter("limit", int, description=f"At most this many (1-{RECORDS_MAX_LIMIT})")],
        responses=serializers.AttendanceRecordSerializer(many=True),
    )
    def get(self, request):
        records = AttendanceRecord.objects.order_by("-timestamp", "person_id")[
            : _limit(request.query_params.get("limit"))
        ]
        return Response(self.get_serializer(records, many=True).data)


class AttendanceLogListView(SpaListView):
    """Daily logs with 001's filters and page/pageSize."""

    queryset = AttendanceLog.objects.order_by("-date", "employee_id", "id")
    serializer_class = serializers.AttendanceLogSerializer
    filterset_class = AttendanceLogFilterSet
    required_permissions = "attendance:read"


class PendingLogListView(AttendanceLogListView):
    """Logs waiting to be sent to Odoo (``odooStatus`` pending), oldest day first; the log filters apply."""

    queryset = AttendanceLog.objects.filter(odoo_status=OdooStatus.PENDING).order_by("date", "employee_id", "id")


class ManualEntryView(SpaAPIView):
    """An operator's attendance entry: creates the day's log (201) or corrects it (200). The service audits
    what changed; refused attempts are audited by the generic entry."""

    required_permissions = "attendance:write"
    audit_resource = "attendance_log"
    audit_action = "manual_entry"

    @extend_schema(
        request=serializers.ManualEntrySerializer,
        responses={201: serializers.AttendanceLogSerializer, 200: serializers.AttendanceLogSerializer},
        description="201 with the day's new log; 200 with the log corrected when the person has one that day.",
    )
    def post(self, request):
        data = validated(serializers.ManualEntrySerializer, request.data)
        name, department = self._person(data)
        camera = None
        if data.get("camera_id"):
            camera = Camera.objects.filter(pk=data["camera_id"]).first()
            if camera is None:
                issue = f"Camera {data['camera_id']} does not exist"
                raise ApiError(Kind.VALIDATION, issue, field_errors=[FieldError("cameraId", issue)])
        actor, role = audit.actor_of(request)
        entry = services.record_manual_entry(
            employee_id=data["employee_id"],
            name=name,
            department=department,
            timestamp=data["timestamp"],
            status=data.get("status"),
            camera=camera,
            note=data.get("note", ""),
            actor=actor,
            actor_role=role,
        )
        log = entry.log
        body = serializers.AttendanceLogSerializer(log).data
        return Response(body, status=status.HTTP_201_CREATED if entry.created else status.HTTP_200_OK)

    def _person(self, data: dict) -> tuple[str, str]:
        from recognition.models import FaceProfile

        profile = FaceProfile.objects.filter(employee_id=data["employee_id"]).first()
        if profile is not None:
            return data.get("name") or profile.name, data.get("department") or profile.department
        if not data.get("name"):
            issue = f"No enrolled person has employee id {data['employee_id']}; give a name to log someone else"
            raise ApiError(Kind.VALIDATION, issue, field_errors=[FieldError("employeeId", issue)])
        return data["name"], data.get("department", "")

    def finalize_response(self, request, response, *args, **kwargs):
        # A successful entry is audited in detail by the service; a refused one gets the generic entry.
        self.audit_enabled = response.status_code >= 400
        return super().finalize_response(request, response, *args, **kwargs)


class AttendanceLogDetailView(SpaGenericAPIView):
    queryset = AttendanceLog.objects.all()
    serializer_class = serializers.AttendanceLogSerializer
    not_found = "Attendance log {pk} not found"
    required_permissions = {"GET": "attendance:read", "DELETE": "attendance:write"}
    audit_resource = "attendance_log"

    @extend_schema(responses=serializers.AttendanceLogSerializer)
    def get(self, request, pk):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        services.delete_log(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class StatisticsView(SpaGenericAPIView):
    """Counts by day, arrival hour, camera and department over the filtered logs (last 30 days unless
    ``dateFrom``/``dateTo`` say otherwise); ``groupBy`` asks for one breakdown only."""

    queryset = AttendanceLog.objects.all()
    filterset_class = AttendanceLogFilterSet
    required_permissions = "attendance:read"

    # The log filters are documented from the filterset (types, enums), as on GET /attendance/logs.
    @extend_schema(
        parameters=[
            OpenApiParameter("groupBy", str, enum=list(statistics.GROUPS), description="One breakdown only"),
        ],
        responses={200: dict},
        filters=True,
    )
    def get(self, request):
        group = request.query_params.get("groupBy") or None
        if group is not None and group not in statistics.GROUPS:
            issue = f"must be one of {', '.join(statistics.GROUPS)}"
            raise ApiError(Kind.VALIDATION, f"groupBy {issue}", field_errors=[FieldError("groupBy", issue, "query")])
        filterset = AttendanceLogFilterSet(request.query_params, queryset=self.get_queryset(), request=request)
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        cleaned = filterset.form.cleaned_data
        return Response(
            statistics.attendance_statistics(filterset.qs, cleaned.get("dateFrom"), cleaned.get("dateTo"), group)
        )


class OverviewView(SpaAPIView):
    required_permissions = "attendance:read"

    @extend_schema(
        parameters=[
            OpenApiParameter("date", OpenApiTypes.DATE, description="Site-local day (YYYY-MM-DD), today by default")
        ],
        responses={200: dict},
    )
    def get(self, request):
        from attendance.api.filters import SiteDateField

        raw = request.query_params.get("date")
        try:
            day = SiteDateField(required=False).clean(raw)
        except Exception as exc:  # django's ValidationError: the field says why
            issue = "; ".join(getattr(exc, "messages", [str(exc)]))
            raise ApiError(Kind.VALIDATION, f"date {issue}", field_errors=[FieldError("date", issue, "query")])
        return Response(statistics.overview(day))


class ShiftListView(SpaGenericAPIView):
    """001 ``GET /shifts``: active shifts with compliance (present over expected headcount, percent)."""

    queryset = ShiftSchedule.objects.filter(active=True).order_by("start_time", "id")
    serializer_class = serializers.ShiftSerializer
    required_permissions = "attendance:read"
    pagination_class = None  # every active shift at once: a site has a handful

    @extend_schema(responses=serializers.ShiftSerializer(many=True))
    def get(self, request):
        shifts = list(self.get_queryset())
        now = timezone.now()
        context = {**self.get_serializer_context(), "now": now, "compliance": shift_rules.compliance_of(shifts, now)}
        return Response(serializers.ShiftSerializer(shifts, many=True, context=context).data)
