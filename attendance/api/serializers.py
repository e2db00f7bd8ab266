"""Serializers of the attendance API (001 contract: the renderer turns snake_case keys into camelCase).

Moments are UTC (``...Z``) whatever zone a request has activated; ``timeIn``/``timeOut`` are the
site-local wall-clock times of the log's day, as 001 shows them (``"09:00:00"``).
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from attendance import shifts as shift_rules
from attendance.choices import AttendanceStatus
from attendance.models import AttendanceLog, AttendanceRecord, ShiftSchedule
from config.api.contracts import utc_iso
from config.storage import signed_url


class UtcDateTimeField(serializers.DateTimeField):
    def to_representation(self, value):
        return utc_iso(value)


@extend_schema_field(OpenApiTypes.TIME)
class SiteTimeField(serializers.Field):
    """A stored UTC moment as the site-local ``HH:MM:SS``."""

    def to_representation(self, value):
        return shift_rules.site_local(value).strftime("%H:%M:%S") if value else None


def thumbnail_url(key: str) -> str | None:
    if not key:
        return None
    return key if key.startswith(("http://", "https://")) else signed_url(key)


class AttendanceRecordSerializer(serializers.ModelSerializer):
    camera_id = serializers.CharField(read_only=True, allow_null=True)  # null when no camera is linked
    timestamp = UtcDateTimeField(read_only=True)
    thumbnail = serializers.SerializerMethodField()

    class Meta:
        model = AttendanceRecord
        fields = [
            "id",
            "person_id",
            "name",
            "role",
            "department",
            "status",
            "accuracy",
            "timestamp",
            "camera_id",
            "camera_name",
            "thumbnail",
        ]
        read_only_fields = fields

    def get_thumbnail(self, record: AttendanceRecord) -> str | None:
        """A signed, expiring URL of the face crop."""
        return thumbnail_url(record.thumbnail)


class AttendanceLogSerializer(serializers.ModelSerializer):
    # Null on a day logged without an arrival (a manual absence): documented so.
    time_in = SiteTimeField(source="check_in", read_only=True, allow_null=True)
    # Null until the person leaves, has a shift, is synced, or was seen by a camera: documented so.
    time_out = SiteTimeField(source="check_out", read_only=True, allow_null=True)
    check_in = UtcDateTimeField(read_only=True, allow_null=True)
    check_out = UtcDateTimeField(read_only=True, allow_null=True)
    camera_id = serializers.CharField(read_only=True, allow_null=True)
    shift_id = serializers.CharField(read_only=True, allow_null=True)
    odoo_sync_time = UtcDateTimeField(read_only=True, allow_null=True)
    created_at = UtcDateTimeField(read_only=True)
    updated_at = UtcDateTimeField(read_only=True)

    class Meta:
        model = AttendanceLog
        fields = [
            "id",
            "employee_id",
            "name",
            "department",
            "date",
            "time_in",
            "time_out",
            "check_in",
            "check_out",
            "camera_id",
            "camera_name",
            "accuracy",
            "status",
            "shift_id",
            "manual_override",
            "note",
            "odoo_status",
            "odoo_sync_time",
            "odoo_error_message",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ManualEntrySerializer(serializers.Serializer):
    """001 ``POST /attendance/manual``. ``name``/``department`` are needed only for someone not enrolled."""

    employee_id = serializers.CharField(max_length=50)
    camera_id = serializers.CharField(max_length=50, required=False, allow_blank=True, allow_null=True)
    timestamp = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=AttendanceStatus.choices, required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    name = serializers.CharField(required=False, allow_blank=True, max_length=255)
    department = serializers.CharField(required=False, allow_blank=True, max_length=255)


class ShiftSerializer(serializers.ModelSerializer):
    """A shift with its compliance computed for its current or latest occurrence."""

    compliance = serializers.SerializerMethodField()
    expected_headcount = serializers.SerializerMethodField()
    present_count = serializers.SerializerMethodField()
    date = serializers.SerializerMethodField()

    class Meta:
        model = ShiftSchedule
        fields = [
            "id",
            "name",
            "start_time",
            "end_time",
            "grace_minutes",
            "location",
            "departments",
            "weekdays",
            "expected_headcount",
            "present_count",
            "compliance",
            "date",
            "active",
        ]
        read_only_fields = fields

    def _compliance(self, shift: ShiftSchedule) -> shift_rules.Compliance:
        cache = self.context.setdefault("compliance", {})
        if shift.pk not in cache:
            cache[shift.pk] = shift_rules.compliance(shift, self.context.get("now"))
        return cache[shift.pk]

    def get_compliance(self, shift: ShiftSchedule) -> float:
        return self._compliance(shift).percent

    def get_expected_headcount(self, shift: ShiftSchedule) -> int:
        return self._compliance(shift).expected

    def get_present_count(self, shift: ShiftSchedule) -> int:
        return self._compliance(shift).attended

    def get_date(self, shift: ShiftSchedule) -> str | None:
        day = self._compliance(shift).day
        return day.isoformat() if day else None
