"""Camera API routes: 001 and 000 under /api/v1 (and /api/v2), 003 at the root (/config/...)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from cameras.api import views_counting, views_edge, views_spa

spa_router = SimpleRouter(trailing_slash=False)
spa_router.register("cameras", views_spa.CameraViewSet, basename="camera")
spa_router.register("alerts", views_spa.AlertViewSet, basename="alert")

edge_router = SimpleRouter(trailing_slash=False)
edge_router.register("config/cameras", views_edge.CameraViewSet, basename="edge-camera")
edge_router.register("config/zones", views_edge.ZoneViewSet, basename="edge-zone")
edge_router.register("config/sensors", views_edge.SensorViewSet, basename="edge-sensor")

# Under /api/v1/ (static segments before ids: summary, import, export come first)
urlpatterns = [
    path("cameras/summary", views_spa.CameraSummaryView.as_view(), name="camera-summary"),
    path("cameras/import", views_spa.CameraImportView.as_view(), name="camera-import"),
    path("cameras/export", views_spa.CameraExportView.as_view(), name="camera-export"),
    path("notifications", views_spa.NotificationListView.as_view(), name="notification-list"),
    path(
        "notifications/<str:pk>/acknowledge",
        views_spa.NotificationAcknowledgeView.as_view(),
        name="notification-acknowledge",
    ),
    *spa_router.urls,
]

# Under /api/v2/ (000's versioning example)
v2_urlpatterns = [
    path("cameras", views_counting.CameraListV2View.as_view(), name="camera-list-v2"),
]

# At the root (003)
edge_urlpatterns = [*edge_router.urls]
