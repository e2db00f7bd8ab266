"""The dashboard's home page, at the root of the site."""

from django.urls import path

from accounts import views

urlpatterns = [path("", views.home, name="home")]
