"""Dashboard pages of the counting app (mounted at /counting/)."""

from django.urls import path

from counting import views

app_name = "counting"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("status/", views.status, name="status"),
    path("<str:camera_id>/snapshot/", views.snapshot, name="snapshot"),
    path("<str:camera_id>/setup/", views.setup, name="setup"),
]
