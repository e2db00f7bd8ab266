"""Attendance dashboard pages."""

app_name = "attendance"
urlpatterns: list = []
