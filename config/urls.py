"""Root URLs. Path map (DESIGN.md): 001 and 002 under /api/v1, 003 at the root, 004 under /face-service.

The root names each app's routes by module path (``include("app.urls")``), as settings name the apps: the
ground floor imports no app.
"""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config import metrics
from config.api import gateway_views, health_views
from config.api.health_views import EdgeDetailedHealthView, EdgeHealthView, PlatformHealthView
from config.api.schema_views import OpenApiJsonView
from config.storage import serve_signed_file

api_v1 = [
    path("health", PlatformHealthView.as_view(), name="api-health"),
    path("docs", OpenApiJsonView.as_view(), name="api-docs-json"),
    path("rate-limit/status", gateway_views.RateLimitStatusView.as_view(), name="rate-limit-status"),
    path("stats/usage", gateway_views.UsageStatsView.as_view(), name="usage-stats"),
    path("", include("accounts.api.urls")),
    path("", include("config.api.system_urls")),
    path("", include("counting.api.urls")),  # cameras/{id}/counts before the cameras routes
    path("", include("cameras.api.urls")),
    path("", include("recognition.api.urls")),
    path("", include("recognition.api.detection_urls")),
    # attendance/export and attendance/export/{jobId} before attendance/{id}
    path("", include("attendance.api.export_urls")),
    path("", include("attendance.api.urls")),
    path("", include("integrations.api.odoo_urls")),
]

urlpatterns = [
    path("", include("accounts.home_urls")),
    path("accounts/", include("accounts.urls")),
    path("cameras/", include("cameras.urls")),
    path("anpr/", include("anpr.urls")),
    path("counting/", include("counting.urls")),
    path("recognition/", include("recognition.urls")),
    path("attendance/", include("attendance.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/v2/", include("cameras.api.v2_urls")),
    # 004: the attendance backend's face-service API
    path("face-service/api/v1/", include("recognition.face_service.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("health/live", health_views.live, name="health-live"),
    path("health/ready", health_views.ready, name="health-ready"),
    path("healthz", EdgeHealthView.as_view(), name="healthz"),
    path("healthz/detailed", EdgeDetailedHealthView.as_view(), name="healthz-detailed"),
    path("", include("accounts.api.edge_urls")),
    path("", include("cameras.api.edge_urls")),
    path("", include("integrations.api.urls")),
    path("", include("anpr.api.urls")),
    path("files/<path:name>", serve_signed_file, name="signed-file"),
    path("metrics", metrics.metrics_view, name="metrics"),
]

handler404 = "config.views.not_found"
handler500 = "config.views.server_error"
