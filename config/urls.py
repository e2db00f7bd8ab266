"""Root URLs. Path map (DESIGN.md): 001 and 002 under /api/v1, 003 at the root, 004 under /face-service."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.api import urls as accounts_api
from anpr.api import urls as anpr_api
from cameras.api import system_urls as cameras_system_api
from cameras.api import urls as cameras_api
from config import metrics, views
from config.api import gateway_views
from config.api.health_views import EdgeDetailedHealthView, EdgeHealthView, PlatformHealthView
from config.api.schema_views import OpenApiJsonView
from config.storage import serve_signed_file
from integrations.api import urls as integrations_api

api_v1 = [
    path("health", PlatformHealthView.as_view(), name="api-health"),
    path("docs", OpenApiJsonView.as_view(), name="api-docs-json"),
    path("rate-limit/status", gateway_views.RateLimitStatusView.as_view(), name="rate-limit-status"),
    path("stats/usage", gateway_views.UsageStatsView.as_view(), name="usage-stats"),
    *accounts_api.urlpatterns,
    *cameras_system_api.urlpatterns,
    path("", include("counting.api.urls")),  # cameras/{id}/counts before the cameras routes
    *cameras_api.urlpatterns,
    path("", include("recognition.api.urls")),
    path("", include("recognition.api.detection_urls")),
    # attendance/export and attendance/export/{jobId} before attendance/{id}
    path("", include("attendance.api.export_urls")),
    path("", include("attendance.api.urls")),
    path("", include("integrations.api.odoo_urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("cameras/", include("cameras.urls")),
    path("anpr/", include("anpr.urls")),
    path("counting/", include("counting.urls")),
    path("recognition/", include("recognition.urls")),
    path("attendance/", include("attendance.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/v2/", include(cameras_api.v2_urlpatterns)),
    # 004: the attendance backend's face-service API
    path("face-service/api/v1/", include("recognition.face_service.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("healthz", EdgeHealthView.as_view(), name="healthz"),
    path("healthz/detailed", EdgeDetailedHealthView.as_view(), name="healthz-detailed"),
    *accounts_api.edge_urlpatterns,
    *cameras_api.edge_urlpatterns,
    *integrations_api.edge_urlpatterns,
    *anpr_api.edge_urlpatterns,
    path("files/<path:name>", serve_signed_file, name="signed-file"),
    path("metrics", metrics.metrics_view, name="metrics"),
]

handler404 = "config.views.not_found"
handler500 = "config.views.server_error"
