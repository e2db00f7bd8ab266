"""000 counting routes, mounted under /api/v1/ before the cameras router (``cameras/{id}/counts`` and
``cameras/{id}/counting`` first)."""

from django.urls import path

from counting.api import views

urlpatterns = [
    path("cameras/<str:camera_id>/counts", views.CameraCountsView.as_view(), name="camera-counts"),
    path("cameras/<str:camera_id>/counting", views.CameraCountingView.as_view(), name="camera-counting"),
    path("counts/counters", views.CounterStatesView.as_view(), name="counts-counters"),
    path("counts/realtime", views.RealtimeCountsView.as_view(), name="counts-realtime"),
    path("counts/analytics", views.CountAnalyticsView.as_view(), name="counts-analytics"),
]
