"""Attendance Celery tasks."""

from __future__ import annotations

from celery import shared_task

from attendance import export_tasks  # noqa: F401  (registers attendance.generate_export)
from attendance.services import mark_missed as mark_missed_logs
from attendance.services import refresh_compliance


@shared_task(name="attendance.mark_missed", ignore_result=True)
def mark_missed() -> int:
    """Beat: after each shift's end, log as missed the active enrolled people not seen that day, then
    refresh every shift's compliance. Returns how many missed logs it created."""
    created = mark_missed_logs()
    refresh_compliance()
    return created
