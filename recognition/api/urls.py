"""Face API routes under /api/v1/ (static paths before ids: identify and verify come first)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from recognition.api import unknown_views, views

router = SimpleRouter(trailing_slash=False)
router.register("faces", views.FaceProfileViewSet, basename="face-profile")
router.register("unknown-faces", unknown_views.UnknownFaceViewSet, basename="unknown-face")

urlpatterns = [
    path("faces/identify", views.IdentifyView.as_view(), name="face-identify"),
    path("faces/verify", views.VerifyView.as_view(), name="face-verify"),
    *router.urls,
]
