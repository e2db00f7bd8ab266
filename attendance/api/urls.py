"""001 attendance routes under /api/v1/ (after export_urls: ``attendance/export`` before ``attendance/{id}``).
Static segments come before the id route."""

from django.urls import path

from attendance.api import views

urlpatterns = [
    path("attendance/records", views.AttendanceRecordListView.as_view(), name="attendance-records"),
    path("attendance/logs", views.AttendanceLogListView.as_view(), name="attendance-logs"),
    path("attendance/manual", views.ManualEntryView.as_view(), name="attendance-manual"),
    path("attendance/statistics", views.StatisticsView.as_view(), name="attendance-statistics"),
    path("attendance/overview", views.OverviewView.as_view(), name="attendance-overview"),
    path("attendance/pending", views.PendingLogListView.as_view(), name="attendance-pending"),
    path("attendance/<str:pk>", views.AttendanceLogDetailView.as_view(), name="attendance-log-detail"),
    path("shifts", views.ShiftListView.as_view(), name="shift-list"),
]
