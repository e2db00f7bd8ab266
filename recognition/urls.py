"""Recognition dashboard pages: live view and face registration."""

app_name = "recognition"
urlpatterns: list = []
