"""Attendance's figures in the platform's summary (contributed in ``AttendanceConfig.ready()``)."""

from __future__ import annotations

from attendance.choices import AttendanceStatus
from attendance.models import AttendanceLog
from config.system.summary import SummaryDay


def manual_overrides(day: SummaryDay) -> int:
    """The day's logs written or corrected by hand."""
    return AttendanceLog.objects.filter(date=day.date, manual_override=True).count()


def attendance_completion(day: SummaryDay) -> float | None:
    """Percent of the day's logs that are present or late; None while the day has none."""
    logs = AttendanceLog.objects.filter(date=day.date)
    total = logs.count()
    if not total:
        return None
    done = logs.filter(status__in=(AttendanceStatus.PRESENT, AttendanceStatus.LATE)).count()
    return round(done * 100 / total, 1)
