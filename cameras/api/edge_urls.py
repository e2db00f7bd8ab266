"""Camera configuration routes at the root, as 003 names them (``/config/cameras``, zones, sensors)."""

from rest_framework.routers import SimpleRouter

from cameras.api import views_edge

edge_router = SimpleRouter(trailing_slash=False)
edge_router.register("config/cameras", views_edge.CameraViewSet, basename="edge-camera")
edge_router.register("config/zones", views_edge.ZoneViewSet, basename="edge-zone")
edge_router.register("config/sensors", views_edge.SensorViewSet, basename="edge-sensor")

urlpatterns = [*edge_router.urls]
