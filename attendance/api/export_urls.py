"""Export routes, mounted under /api/v1/ before attendance/api/urls.py (``attendance/export`` is not a log id)."""

from django.urls import path

from attendance.api import export_views

urlpatterns = [
    path("attendance/export", export_views.AttendanceExportView.as_view(), name="attendance-export"),
    path("attendance/export/<str:job_id>", export_views.ExportJobView.as_view(), name="export-job"),
    path("audit/export", export_views.AuditExportView.as_view(), name="audit-export"),
    path(
        "history/person/<str:employee_id>/export",
        export_views.PersonHistoryExportView.as_view(),
        name="person-history-export",
    ),
]
