"""Attendance dashboard pages (mounted at /attendance/)."""

from django.urls import path

from attendance import views

app_name = "attendance"

urlpatterns = [
    path("", views.logs_page, name="logs"),
    path("reports/", views.reports_page, name="reports"),
]
