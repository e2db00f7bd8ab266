"""A stored camera password never follows a changed address: ``***`` keeps it only for the same scheme,
host and port."""

from __future__ import annotations

import pytest

from cameras.models import Camera

pytestmark = pytest.mark.django_db

CAMERAS = "/api/v1/cameras"
SECRET = "s3cr3t-Pa55"


@pytest.fixture
def camera_id(admin_client) -> str:
    body = {"name": "Gate", "streamType": "RTSP", "streamUrl": f"rtsp://admin:{SECRET}@10.10.1.12:554/s1"}
    response = admin_client.post(CAMERAS, {**body, "enabled": False}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["data"]["id"]


def patch(client, camera_id: str, url: str):
    return client.patch(f"{CAMERAS}/{camera_id}", {"streamUrl": url}, format="json")


def test_masked_password_pointed_at_another_host_is_refused(admin_client, camera_id):
    response = patch(admin_client, camera_id, "rtsp://admin:***@attacker.example:554/x")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "streamUrl"
    camera = Camera.objects.get(pk=camera_id)
    assert (camera.stream_url, camera.stream_password) == ("rtsp://admin@10.10.1.12:554/s1", SECRET)


@pytest.mark.parametrize(
    "url",
    ["rtsp://admin:***@10.10.1.12:8554/s1", "rtsps://admin:***@10.10.1.12:554/s1", "http://admin:***@10.10.1.12/"],
)
def test_masked_password_with_another_port_or_scheme_is_refused(admin_client, camera_id, url):
    stream_type = "HTTP" if url.startswith("http") else "RTSP"
    response = admin_client.patch(
        f"{CAMERAS}/{camera_id}", {"streamUrl": url, "streamType": stream_type}, format="json"
    )

    assert response.status_code == 400
    assert Camera.objects.get(pk=camera_id).stream_url == "rtsp://admin@10.10.1.12:554/s1"


def test_masked_password_is_kept_for_another_path_on_the_same_address(admin_client, camera_id):
    response = patch(admin_client, camera_id, "rtsp://admin:***@10.10.1.12/s2")  # 554 is rtsp's own port

    assert response.status_code == 200, response.json()
    camera = Camera.objects.get(pk=camera_id)
    assert (camera.stream_url, camera.stream_password) == ("rtsp://admin@10.10.1.12/s2", SECRET)


def test_a_new_address_with_its_own_password_is_accepted(admin_client, camera_id):
    response = patch(admin_client, camera_id, "rtsp://admin:other@10.10.1.13:554/s1")

    assert response.status_code == 200
    assert Camera.objects.get(pk=camera_id).stream_password == "other"


def test_the_003_edge_config_refuses_the_masked_password_on_another_host(admin_client, camera_id):
    response = admin_client.put(
        f"/config/cameras/{camera_id}", {"rtsp_url": "rtsp://admin:***@attacker.example/x"}, format="json"
    )

    assert response.status_code in (400, 422)
    assert Camera.objects.get(pk=camera_id).stream_password == SECRET
