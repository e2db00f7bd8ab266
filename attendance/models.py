"""Presence (001 attendance_records), daily attendance logs (attendance_logs), shifts (shift_schedules)
and export jobs (export_jobs).

Times are stored in UTC; the site's time zone (settings.TIME_ZONE) decides which day a sighting belongs
to and where a shift starts and ends.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from attendance.choices import AttendanceStatus, ExportFormat, ExportStatus, ExportType, OdooStatus, PresenceStatus


def default_weekdays() -> list[int]:
    return [1, 2, 3, 4, 5]


class ShiftSchedule(models.Model):
    """A working shift in site-local wall-clock times. ``departments`` empty means it applies to everyone."""

    id = models.CharField(primary_key=True, max_length=50, help_text="e.g. SHIFT-DAY")
    name = models.CharField(max_length=255)
    start_time = models.TimeField()
    end_time = models.TimeField(help_text="Before start_time for a shift that ends the next day")
    grace_minutes = models.PositiveIntegerField(default=10, help_text="Arrivals up to this late count as present")
    location = models.CharField(max_length=255, blank=True, default="")
    departments = models.JSONField(default=list, blank=True, help_text="Departments on this shift; empty: all")
    weekdays = models.JSONField(
        default=default_weekdays, blank=True, help_text="ISO weekdays the shift runs (1 Monday ... 7 Sunday)"
    )
    expected_headcount = models.PositiveIntegerField(default=0)
    compliance = models.FloatField(default=0, help_text="Percent present of expected, last computed")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start_time", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.start_time:%H:%M}-{self.end_time:%H:%M})"


class AttendanceRecord(models.Model):
    """Where a person is now: one row per person, moved by each recognition."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person_id = models.CharField(max_length=50, unique=True)
    name = models.CharField(max_length=255)
    role = models.CharField(max_length=100, blank=True, default="")
    department = models.CharField(max_length=255, blank=True, default="")
    status = models.CharField(max_length=20, choices=PresenceStatus.choices, default=PresenceStatus.ON_SITE)
    accuracy = models.FloatField(null=True, blank=True)
    timestamp = models.DateTimeField(db_index=True)
    camera = models.ForeignKey("cameras.Camera", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    camera_name = models.CharField(max_length=255, blank=True, default="")
    thumbnail = models.CharField(max_length=512, blank=True, default="", help_text="Storage key")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-timestamp"]

    def __str__(self) -> str:
        return f"{self.person_id} {self.status}"


class AttendanceLog(models.Model):
    """One employee's attendance on one site-local day: first sighting in, last sighting out."""

    id = models.CharField(primary_key=True, max_length=50, help_text="ATT-YYYYMMDD-NNN")
    employee_id = models.CharField(max_length=50, db_index=True)
    name = models.CharField(max_length=255)
    department = models.CharField(max_length=255, blank=True, default="")
    date = models.DateField(db_index=True, help_text="Site-local day")
    check_in = models.DateTimeField(null=True, blank=True, help_text="First sighting (UTC)")
    check_out = models.DateTimeField(null=True, blank=True, help_text="Last sighting (UTC)")
    camera = models.ForeignKey("cameras.Camera", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    camera_name = models.CharField(max_length=255, blank=True, default="")
    accuracy = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=AttendanceStatus.choices)
    shift = models.ForeignKey(ShiftSchedule, null=True, blank=True, on_delete=models.SET_NULL, related_name="logs")
    manual_override = models.BooleanField(default=False)
    note = models.TextField(blank=True, default="")
    # Odoo sync (integrations.odoo): the hr.attendance id makes a re-sync an update, never a duplicate.
    odoo_status = models.CharField(max_length=20, choices=OdooStatus.choices, default=OdooStatus.PENDING, db_index=True)
    odoo_sync_time = models.DateTimeField(null=True, blank=True)
    odoo_error_message = models.TextField(blank=True, default="")
    odoo_attendance_id = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-date", "employee_id"]
        constraints = [models.UniqueConstraint(fields=["employee_id", "date"], name="attendance_one_log_per_day")]

    def __str__(self) -> str:
        return f"{self.id} {self.employee_id} {self.status}"


class ExportJob(models.Model):
    """A file export that a Celery task fills (attendance logs, audit log or a person's history)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="export_jobs"
    )
    type = models.CharField(max_length=50, choices=ExportType.choices, default=ExportType.ATTENDANCE)
    format = models.CharField(max_length=10, choices=ExportFormat.choices)
    filters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=ExportStatus.choices, default=ExportStatus.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done")
    row_count = models.PositiveIntegerField(default=0)
    s3_key = models.CharField(max_length=512, blank=True, default="", help_text="Storage key of the file")
    download_url = models.TextField(blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    requeued_at = models.DateTimeField(
        null=True, blank=True, help_text="When the sweep queued it again, its first message presumed lost"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.type}.{self.format} {self.status}"
