from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.api import developer, preferences, views

router = SimpleRouter(trailing_slash=False)
router.register("users", views.UserViewSet, basename="user")
router.register("roles", views.RoleViewSet, basename="role")
router.register("audit", views.AuditLogViewSet, basename="audit")

# Mounted under /api/v1/
urlpatterns = [
    path("auth/login", views.LoginView.as_view(), name="auth-login"),
    path("auth/refresh", views.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/register", views.RegisterView.as_view(), name="auth-register"),
    path("auth/me", views.MeView.as_view(), name="auth-me"),
    path("i18n/languages", preferences.LanguagesView.as_view(), name="i18n-languages"),
    path("settings/timezones", preferences.TimezonesView.as_view(), name="settings-timezones"),
    path("settings/preferences", preferences.PreferencesView.as_view(), name="settings-preferences"),
    path("developer/endpoints", developer.EndpointListView.as_view(), name="developer-endpoints"),
    path(
        "developer/endpoints/<str:id>/invoke",
        developer.EndpointInvokeView.as_view(),
        name="developer-endpoint-invoke",
    ),
    *router.urls,
]
