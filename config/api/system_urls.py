"""001 "System & Health" routes, relative to /api/v1/."""

from django.urls import path

from config.api import system_views as views

urlpatterns = [
    path("system/summary", views.SystemSummaryView.as_view(), name="system-summary"),
    path("system/health/metrics", views.SystemMetricsView.as_view(), name="system-health-metrics"),
    path("system/health/services", views.SystemServicesView.as_view(), name="system-health-services"),
    path("system/network-metrics", views.SystemNetworkMetricsView.as_view(), name="system-network-metrics"),
    path(
        "system/services/<str:service_id>/restart",
        views.SystemServiceRestartView.as_view(),
        name="system-service-restart",
    ),
    path("system/uptime", views.SystemUptimeView.as_view(), name="system-uptime"),
    path("system/version", views.SystemVersionView.as_view(), name="system-version"),
    path("services/banner-messages", views.BannerMessagesView.as_view(), name="banner-messages"),
]
