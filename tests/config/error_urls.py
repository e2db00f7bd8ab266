"""A URLconf for the error-format tests (``@pytest.mark.urls("tests.config.error_urls")``).

Views of each contract family that crash, and views that validate a body, mounted under the path
prefixes that pick each family outside DRF. The crash message stands for anything internal (a
password in a connection string, a file path) that must never reach a client.
"""

from __future__ import annotations

from django.urls import path
from rest_framework import serializers
from rest_framework.response import Response

from config.api.base import PUBLIC
from config.api.edge import EdgeAPIView
from config.api.face_service import FaceServiceAPIView, FaceServiceResponse
from config.api.plain import GatewayAPIView
from config.api.spa import SpaAPIView

CRASH_MESSAGE = "connection to postgresql://argus:hunter2@db failed"


class _Crashes:
    required_permissions = PUBLIC

    def get(self, request):
        raise RuntimeError(CRASH_MESSAGE)


class SpaCrashView(_Crashes, SpaAPIView):
    pass


class EdgeCrashView(_Crashes, EdgeAPIView):
    pass


class FaceServiceCrashView(_Crashes, FaceServiceAPIView):
    pass


class GatewayCrashView(_Crashes, GatewayAPIView):
    pass


def plain_crash(request):
    raise RuntimeError(CRASH_MESSAGE)


class SlotSerializer(serializers.Serializer):
    slot_id = serializers.IntegerField()
    cameras = serializers.ListField(child=serializers.CharField(), allow_empty=False)


class FaceServiceEchoView(FaceServiceAPIView):
    """A 004 endpoint guarded like the real ones: an API key with the ``face-service`` scope."""

    def post(self, request):
        serializer = SlotSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return FaceServiceResponse(serializer.validated_data, "Accepted")


class GatewayEchoView(GatewayAPIView):
    required_permissions = PUBLIC

    def post(self, request):
        serializer = SlotSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)


urlpatterns = [
    path("api/v1/crash", SpaCrashView.as_view()),
    path("config/crash", EdgeCrashView.as_view()),
    path("face-service/api/v1/crash", FaceServiceCrashView.as_view()),
    path("api/v1/stats/usage", GatewayCrashView.as_view()),
    path("api/v1/plain-crash", plain_crash),
    path("events/plain-crash", plain_crash),
    path("face-service/api/v1/plain-crash", plain_crash),
    path("html-crash", plain_crash),
    path("face-service/api/v1/echo", FaceServiceEchoView.as_view()),
    path("api/v1/rate-limit/status", GatewayEchoView.as_view()),
]

handler404 = "config.views.not_found"
handler500 = "config.views.server_error"
