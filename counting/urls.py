"""Dashboard page of the counting app (mounted at /counting/)."""

from django.urls import path

from counting import views

app_name = "counting"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
