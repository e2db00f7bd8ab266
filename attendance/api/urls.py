"""Routes (being written)."""

urlpatterns: list = []
