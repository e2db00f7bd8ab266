"""Exporter routes, at the root (003): ``/config/exporters``..."""

from rest_framework.routers import SimpleRouter

from integrations.api import views

edge_router = SimpleRouter(trailing_slash=False)
edge_router.register("config/exporters", views.ExporterViewSet, basename="edge-exporter")

urlpatterns = [*edge_router.urls]
