"""001 section 3 routes (``/api/v1/detections/...``) and the person history."""

from django.urls import path

from recognition.api import detection_views as views

urlpatterns = [
    path("detections/live", views.LiveDetectionsView.as_view(), name="detections-live"),
    path("detections/send-frame", views.SendFrameView.as_view(), name="detections-send-frame"),
    path("detections/events", views.DetectionEventListView.as_view(), name="detections-events"),
    path("detections/provider/config", views.ProviderConfigView.as_view(), name="detections-provider-config"),
    path("detections/test-provider", views.TestProviderView.as_view(), name="detections-test-provider"),
    path("detections/<uuid:id>/reject", views.RejectDetectionView.as_view(), name="detections-reject"),
    path("history/person/<str:employee_id>", views.PersonHistoryView.as_view(), name="person-history"),
]
