"""Under /api/v2/: 000's versioning example."""

from django.urls import path

from cameras.api import views_counting

urlpatterns = [
    path("cameras", views_counting.CameraListV2View.as_view(), name="camera-list-v2"),
]
