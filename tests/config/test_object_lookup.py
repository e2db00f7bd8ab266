"""One object lookup for every detail endpoint: the view's own not-found message, list filters ignored."""

from __future__ import annotations

import pytest

from cameras.models import Camera

pytestmark = pytest.mark.django_db

SPA_MISSING = [
    ("get", "/api/v1/cameras/CAM-NOPE", "Camera CAM-NOPE not found"),
    ("post", "/api/v1/alerts/ALERT-NOPE/acknowledge", "Alert ALERT-NOPE not found"),
    ("get", "/api/v1/faces/not-a-uuid", "Face profile not-a-uuid not found"),
    (
        "get",
        "/api/v1/faces/00000000-0000-0000-0000-000000000000",
        "Face profile 00000000-0000-0000-0000-000000000000 not found",
    ),
    ("get", "/api/v1/users/not-a-uuid", "User not found"),
    ("get", "/api/v1/attendance/ATT-NOPE", "Attendance log ATT-NOPE not found"),
    ("delete", "/api/v1/attendance/ATT-NOPE", "Attendance log ATT-NOPE not found"),
    ("get", "/api/v1/attendance/export/not-a-uuid", "Export job not-a-uuid not found"),
    ("post", "/api/v1/notifications/not-a-uuid/acknowledge", "Notification not found"),
]
EDGE_MISSING = [
    ("/config/cameras/cam-nope", "Camera not found"),
    ("/config/zones/zone-nope", "Zone not found"),
    ("/config/sensors/sensor-nope", "Sensor not found"),
    ("/config/models/model-nope", "Model not found"),
    ("/config/watchlists/not-a-number", "Watchlist entry not found"),
    ("/config/exporters/exp-nope", "Exporter not found"),
    ("/events/EVT-NOPE", "Event not found"),
]


@pytest.mark.parametrize(("method", "path", "message"), SPA_MISSING)
def test_a_missing_001_object_is_404_with_its_message(admin_client, method, path, message):
    response = getattr(admin_client, method)(path)

    assert response.status_code == 404
    assert response.json()["error"] == {"code": "NOT_FOUND", "message": message, "details": None}


@pytest.mark.parametrize(("path", "message"), EDGE_MISSING)
def test_a_missing_003_object_is_404_with_its_message(admin_client, path, message):
    response = admin_client.get(path)

    assert response.status_code == 404
    assert (response.json()["detail"], response.json()["error_code"]) == (message, "RESOURCE_NOT_FOUND")


def test_a_detail_is_found_whatever_the_lists_filter_says(admin_client):
    Camera.objects.create(id="cam-1", name="Gate", stream_url="rtsp://127.0.0.1:8554/a.mp4", enabled=True)

    assert admin_client.get("/config/cameras/cam-1", {"enabled": "false"}).status_code == 200
    assert admin_client.get("/config/cameras/cam-1", {"enabled": "maybe"}).status_code == 200
    assert admin_client.get("/api/v1/cameras/cam-1", {"status": "offline"}).status_code == 200


def test_the_list_still_applies_its_filter(admin_client):
    Camera.objects.create(id="cam-1", name="Gate", stream_url="rtsp://127.0.0.1:8554/a.mp4", enabled=True)

    assert admin_client.get("/config/cameras", {"enabled": "false"}).json()["items"] == []
    assert admin_client.get("/config/cameras", {"enabled": "maybe"}).status_code == 400
