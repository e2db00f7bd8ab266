"""Dashboard pages of the cameras app (mounted at /cameras/)."""

from django.urls import path
from django.views.generic import RedirectView

from cameras import views

app_name = "cameras"

urlpatterns = [
    path("", views.camera_list, name="list"),
    path("new/", views.camera_add, name="add"),
    path("<str:camera_id>/edit/", views.camera_edit, name="edit"),
    path("<str:camera_id>/test/", views.camera_test, name="test"),
    path("<str:camera_id>/snapshot/", views.camera_snapshot, name="snapshot"),
    path("<str:camera_id>/live.jpg", views.live_image, name="live-image"),
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/<str:alert_id>/acknowledge/", views.alert_acknowledge, name="alert-acknowledge"),
    path("alerts/<str:alert_id>/mute/", views.alert_mute, name="alert-mute"),
    # System health moved to /system/ (it is the platform's, not the cameras'); old bookmarks follow.
    path("system/", RedirectView.as_view(pattern_name="system", permanent=True)),
]
