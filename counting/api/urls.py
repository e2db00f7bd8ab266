"""000 counting routes, mounted under /api/v1/ before the cameras router (``cameras/{id}/counts`` first)."""

from django.urls import path

from counting.api import views

urlpatterns = [
    path("cameras/<str:camera_id>/counts", views.CameraCountsView.as_view(), name="camera-counts"),
    path("counts/realtime", views.RealtimeCountsView.as_view(), name="counts-realtime"),
    path("counts/analytics", views.CountAnalyticsView.as_view(), name="counts-analytics"),
]
