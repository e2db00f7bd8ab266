"""Dashboard pages of the ANPR app (mounted at /anpr/)."""

from django.urls import path

from anpr import views

app_name = "anpr"

urlpatterns = [
    path("", views.events_page, name="events"),
    path("watchlist/", views.watchlist_add, name="watchlist-add"),
    path("watchlist/<int:entry_id>/remove/", views.watchlist_remove, name="watchlist-remove"),
]
