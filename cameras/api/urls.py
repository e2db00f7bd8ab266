"""Camera API routes under /api/v1 (001 and 000). /api/v2 is ``v2_urls``, 003's root routes ``edge_urls``."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from cameras.api import views_spa

spa_router = SimpleRouter(trailing_slash=False)
spa_router.register("cameras", views_spa.CameraViewSet, basename="camera")
spa_router.register("alerts", views_spa.AlertViewSet, basename="alert")

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
