"""000's client on the camera paths it shares with 001: ``POST /api/v1/cameras`` with 000's ``CameraCreate``
(``ip_address``, ``port``, ``username``, ``password``). The path is 001's, so the answer is in 001's
envelope (DESIGN.md); what 000 sent is kept: port and user in the stream URL, the password encrypted beside
it and masked everywhere."""

from __future__ import annotations

import pytest

from cameras.models import Camera
from tests.cameras.test_camera_api import raw_stream_columns
from tests.factories import CameraFactory

pytestmark = pytest.mark.django_db

CAMERAS = "/api/v1/cameras"
SECRET = "gate-Pa55:#@"

# 000's CameraCreate, as its client sends it
CAMERA_CREATE = {
    "name": "Main Entrance",
    "location": "Building A",
    "ip_address": "10.10.1.12",
    "port": 8554,
    "username": "admin",
    "password": SECRET,
    "status": "inactive",
}


def create(client, **fields):
    return client.post(CAMERAS, {**CAMERA_CREATE, "enabled": False, **fields}, format="json")


def test_000_camera_create_answers_201_with_port_and_username(admin_client):
    response = create(admin_client)

    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert (data["ipAddress"], data["port"], data["username"]) == ("10.10.1.12", 8554, "admin")
    assert data["streamUrl"] == "rtsp://admin:***@10.10.1.12:8554"


def test_000_camera_password_is_stored_encrypted(admin_client):
    camera_id = create(admin_client).json()["data"]["id"]

    stored_url, stored_password = raw_stream_columns(camera_id)
    assert SECRET not in stored_url and SECRET not in stored_password
    camera = Camera.objects.get(pk=camera_id)
    assert camera.stream_password == SECRET


def test_000_camera_password_is_never_shown(admin_client):
    response = create(admin_client)
    camera_id = response.json()["data"]["id"]

    for answer in (response, admin_client.get(f"{CAMERAS}/{camera_id}"), admin_client.get(CAMERAS)):
        assert SECRET not in answer.content.decode()
        assert "password" not in answer.content.decode().lower()


def test_000_camera_stream_is_opened_with_the_folded_credentials(admin_client):
    from cameras.services import stream_url_for_platform

    camera = Camera.objects.get(pk=create(admin_client).json()["data"]["id"])

    assert stream_url_for_platform(camera) == "rtsp://admin:gate-Pa55%3A%23%40@10.10.1.12:8554"


def test_000_port_and_username_replace_those_of_a_stream_url(admin_client):
    response = create(admin_client, stream_url="rtsp://viewer@10.10.1.12:554/stream1")

    assert response.json()["data"]["streamUrl"] == "rtsp://admin:***@10.10.1.12:8554/stream1"


def test_000_port_defaults_to_554_without_a_stream_url(admin_client):
    body = {key: value for key, value in CAMERA_CREATE.items() if key != "port"}
    response = admin_client.post(CAMERAS, {**body, "enabled": False}, format="json")

    assert response.json()["data"]["streamUrl"] == "rtsp://admin:***@10.10.1.12:554"


def test_000_masked_password_written_back_keeps_the_stored_one(admin_client):
    camera_id = create(admin_client).json()["data"]["id"]

    response = admin_client.patch(f"{CAMERAS}/{camera_id}", {"port": 9554, "password": "***"}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["data"]["port"] == 9554
    assert Camera.objects.get(pk=camera_id).stream_password == SECRET


def test_000_password_can_be_changed_on_update(admin_client):
    camera_id = create(admin_client).json()["data"]["id"]

    admin_client.patch(f"{CAMERAS}/{camera_id}", {"password": "new-one"}, format="json")

    assert Camera.objects.get(pk=camera_id).stream_password == "new-one"


def test_000_credentials_without_an_address_are_refused(admin_client):
    response = admin_client.post(CAMERAS, {"name": "Nowhere", "username": "admin", "password": "x"}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == "username"
    assert not Camera.objects.exists()


def test_000_port_out_of_range_is_refused(admin_client):
    response = create(admin_client, port=70000)

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "port"
    assert not Camera.objects.exists()


def test_000_port_on_a_usb_camera_is_refused(admin_client):
    camera = CameraFactory(stream_type="USB", stream_url="0", enabled=False)

    response = admin_client.patch(f"{CAMERAS}/{camera.pk}", {"port": 554}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "port"
    camera.refresh_from_db()
    assert camera.stream_url == "0"


# --- 000's versioning: a retired version answers 410 with Sunset ----------------------------------


@pytest.fixture
def v2_retired(settings):
    from datetime import date

    settings.API_RETIRED_VERSIONS = {"2": date(2026, 6, 30)}


def test_a_retired_version_answers_410_with_sunset(viewer_client, v2_retired):
    response = viewer_client.get("/api/v2/cameras")

    assert response.status_code == 410
    assert response["Sunset"] == "Tue, 30 Jun 2026 00:00:00 GMT"
    assert response.json() == {
        "error": "API version deprecated",
        "sunset_date": "Tue, 30 Jun 2026 00:00:00 GMT",
        "message": "Please upgrade to a newer version",
    }
    assert response["X-Error-Code"] == "API_VERSION_RETIRED"


def test_a_retired_version_answers_410_without_credentials(api_client, v2_retired):
    assert api_client.get("/api/v2/cameras").status_code == 410


def test_versions_not_retired_still_answer(viewer_client, v2_retired):
    response = viewer_client.get(CAMERAS)

    assert response.status_code == 200
    assert response["X-API-Status"] == "stable"


def test_no_version_is_retired_by_default(viewer_client):
    response = viewer_client.get("/api/v2/cameras")

    assert response.status_code == 200
    assert not response.has_header("Sunset")


def test_the_spa_camera_list_is_not_announced_deprecated(viewer_client):
    response = viewer_client.get(CAMERAS)

    assert not response.has_header("Deprecation")
    assert not response.has_header("Sunset")
