"""Dashboard sign-in, the pages' access token, the audit page, the user's preferences and the developer console."""

from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import dashboard, views

app_name = "accounts"

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("token/", dashboard.token, name="token"),
    path("audit/", views.audit_page, name="audit"),
    path("preferences/", views.preferences_page, name="preferences"),
    path("developer/", views.developer_page, name="developer"),
]
