"""The dashboard's platform pages at the root of the site: home and system health."""

from django.urls import path

from accounts import views

urlpatterns = [
    path("", views.home, name="home"),
    path("system/", views.system_page, name="system"),
]
