"""ANPR API routes, at the root as 003 names them. Static segments before ids: /events/stats first."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from anpr.api import views

router = SimpleRouter(trailing_slash=False)
router.register("config/models", views.DetectionModelViewSet, basename="anpr-model")
router.register("config/watchlists", views.WatchlistViewSet, basename="anpr-watchlist")

urlpatterns = [
    path("events/ingest", views.EventIngestView.as_view(), name="anpr-event-ingest"),
    path("events/stats", views.EventStatsView.as_view(), name="anpr-event-stats"),
    path("events", views.EventListView.as_view(), name="anpr-event-list"),
    path("events/<str:event_id>", views.EventDetailView.as_view(), name="anpr-event-detail"),
    *router.urls,
]
