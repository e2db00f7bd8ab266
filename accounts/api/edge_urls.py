"""accounts' routes at the root (003): the edge workers' token."""

from django.urls import path

from accounts.api import views

urlpatterns = [
    path("auth/token", views.EdgeTokenView.as_view(), name="auth-token"),
]
