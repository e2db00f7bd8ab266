"""Recognition dashboard pages (mounted at /recognition/): live view and face registration."""

from django.urls import path

from recognition import views

app_name = "recognition"

urlpatterns = [
    path("live/", views.live, name="live"),
    path("live/<str:camera_id>/", views.live, name="live-camera"),
    path("feed/", views.live_feed, name="live-feed"),
    path("detections/<uuid:detection_id>/", views.detection_detail, name="detection-detail"),
    path("detections/<uuid:detection_id>/reject/", views.detection_reject, name="detection-reject"),
    path("thresholds/", views.thresholds, name="thresholds"),
    path("faces/", views.faces, name="faces"),
    path("faces/<uuid:profile_id>/", views.face_detail, name="face-detail"),
    path("faces/<uuid:profile_id>/edit/", views.face_edit, name="face-edit"),
    path("faces/<uuid:profile_id>/images/", views.face_images_add, name="face-images-add"),
    path("faces/<uuid:profile_id>/images/<uuid:image_id>/delete/", views.face_image_delete, name="face-image-delete"),
    path("faces/<uuid:profile_id>/delete/", views.face_delete, name="face-delete"),
    path("unknowns/", views.unknown_faces, name="unknown-faces"),
    path("unknowns/<uuid:cluster_id>/", views.unknown_face_detail, name="unknown-face-detail"),
    path(
        "unknowns/<uuid:cluster_id>/<str:action>/",
        views.unknown_face_action,
        name="unknown-face-action",
    ),
]
