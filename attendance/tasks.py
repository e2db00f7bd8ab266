"""Attendance Celery tasks."""

from attendance import export_tasks  # noqa: F401  (registers attendance.generate_export)
