"""004 face-service routes, mounted at /face-service/api/v1/ (config/urls.py)."""

from django.urls import path

from recognition.face_service import views

urlpatterns = [
    path("recognition/process-session", views.ProcessSessionView.as_view(), name="face-service-process-session"),
    path("recognition/stop-session", views.StopSessionView.as_view(), name="face-service-stop-session"),
    path("embeddings/generate", views.GenerateEmbeddingView.as_view(), name="face-service-generate-embedding"),
    path("embeddings/validate", views.ValidateVideoView.as_view(), name="face-service-validate-video"),
    path("cameras/test-connection", views.TestConnectionView.as_view(), name="face-service-test-connection"),
    path("cameras/capture-frame", views.CaptureFrameView.as_view(), name="face-service-capture-frame"),
    path("health", views.HealthView.as_view(), name="face-service-health"),
    path("metrics", views.MetricsView.as_view(), name="face-service-metrics"),
]
