"""Choices of the attendance domain (001 attendance_logs, attendance_records, export_jobs): value, label and
the badge colour the dashboard shows."""

from __future__ import annotations

from django.db import models


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", "Present"
    LATE = "late", "Late"
    MISSED = "missed", "Missed"


class OdooStatus(models.TextChoices):
    SYNCED = "synced", "Synced"
    PENDING = "pending", "Pending"
    FAILED = "failed", "Failed"


class PresenceStatus(models.TextChoices):
    ON_SITE = "on-site", "On site"
    OFF_SITE = "off-site", "Off site"
    REMOTE = "remote", "Remote"


class ExportType(models.TextChoices):
    ATTENDANCE = "attendance", "Attendance logs"
    AUDIT = "audit", "Audit log"
    HISTORY = "history", "Person history"


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    PDF = "pdf", "PDF"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    PROCESSING = "processing", "Processing"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


BADGE_COLOURS = {
    AttendanceStatus.PRESENT: "green",
    AttendanceStatus.LATE: "amber",
    AttendanceStatus.MISSED: "red",
    OdooStatus.SYNCED: "green",
    OdooStatus.PENDING: "blue",
    OdooStatus.FAILED: "red",
}
