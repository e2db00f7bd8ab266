"""``/api/v1/cameras/{id}/counting``: a camera's counting set-up, validated, in the 000 style."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from cameras import services
from cameras.models import Camera

pytestmark = pytest.mark.django_db

LINE_SET_UP = {
    "mode": "line",
    "line": {"x1": 10, "y1": 200, "x2": 620, "y2": 200},
    "in_side": "left",
    "interval": 30,
    "enabled": True,
    "frame": {"width": 640, "height": 360},
}


@pytest.fixture
def camera() -> Camera:
    return services.create_camera(
        {"id": "CAM-21", "name": "Lobby", "location": "Ground floor", "width": 640, "height": 360}
    )


def url(camera_id: str = "CAM-21") -> str:
    return f"/api/v1/cameras/{camera_id}/counting"


def save(client: APIClient, body, camera_id: str = "CAM-21"):
    return client.put(url(camera_id), body, format="json")


def fields_in_error(response) -> dict[str, str]:
    return {item["loc"][1]: item["msg"] for item in response.json()["error"]["details"]}


def test_a_valid_line_is_saved_into_the_cameras_metadata(admin_client, camera):
    response = save(admin_client, {**LINE_SET_UP, "version": camera.version})

    assert response.status_code == 200
    camera.refresh_from_db()
    assert camera.metadata["counting"] == {**LINE_SET_UP, "line": {"x1": 10.0, "y1": 200.0, "x2": 620.0, "y2": 200.0}}
    assert response.json() == {
        "camera_id": "CAM-21",
        "counting": camera.metadata["counting"],
        "problem": "",
        "version": camera.version,
    }


def test_it_reads_the_set_up(reader_client, admin_client, camera):
    save(admin_client, LINE_SET_UP)

    response = reader_client.get(url())

    assert response.status_code == 200
    assert response.json()["counting"]["mode"] == "line"


def test_a_camera_without_a_set_up_reads_null(admin_client, camera):
    assert admin_client.get(url()).json() == {"camera_id": "CAM-21", "counting": None, "problem": "", "version": 1}


def test_a_broken_stored_set_up_says_why(admin_client, camera):
    services.update_camera(camera, {"metadata": {"counting": {"mode": "zone", "zone": {"points": []}}}})

    assert "zone" in admin_client.get(url()).json()["problem"]


def test_other_metadata_is_kept(admin_client):
    services.create_camera({"id": "CAM-22", "name": "Gate", "metadata": {"owner": "facilities"}})

    assert save(admin_client, LINE_SET_UP, "CAM-22").status_code == 200
    assert Camera.objects.get(pk="CAM-22").metadata["owner"] == "facilities"


def test_a_valid_zone_is_saved(admin_client, camera):
    zone = {"type": "polygon", "points": [{"x": 10, "y": 10}, {"x": 200, "y": 10}, {"x": 200, "y": 150}]}

    response = save(admin_client, {"mode": "zone", "zone": zone, "frame": {"width": 640, "height": 360}})

    assert response.status_code == 200
    camera.refresh_from_db()
    assert camera.metadata["counting"]["mode"] == "zone"
    assert len(camera.metadata["counting"]["zone"]["points"]) == 3


def test_a_line_needs_two_points(admin_client, camera):
    response = save(admin_client, {**LINE_SET_UP, "line": {"x1": 10, "y1": 20, "x2": None, "y2": None}})

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert "2 points" in fields_in_error(response)["line"]
    camera.refresh_from_db()
    assert "counting" not in camera.metadata


def test_a_line_point_outside_the_frame_is_refused(admin_client, camera):
    response = save(admin_client, {**LINE_SET_UP, "line": {"x1": 10, "y1": 20, "x2": 700, "y2": 20}})

    assert response.status_code == 422
    assert "inside the 640x360 frame" in fields_in_error(response)["line"]


def test_without_a_frame_in_the_body_the_cameras_size_applies(admin_client, camera):
    body = {key: value for key, value in LINE_SET_UP.items() if key != "frame"}

    response = save(admin_client, {**body, "line": {"x1": 10, "y1": 20, "x2": 1000, "y2": 20}})

    assert response.status_code == 422 and "640x360" in fields_in_error(response)["line"]


def test_a_zone_needs_three_points(admin_client, camera):
    response = save(admin_client, {"mode": "zone", "zone": {"points": [{"x": 1, "y": 1}, {"x": 50, "y": 50}]}})

    assert response.status_code == 422
    assert "at least 3 points" in fields_in_error(response)["zone"]


def test_every_problem_is_listed(admin_client, camera):
    response = save(admin_client, {"mode": "line", "line": {"x1": 1}, "interval": 1, "in_side": "up"})

    assert set(fields_in_error(response)) == {"line", "interval", "in_side"}


def test_a_body_that_is_not_an_object_is_refused(admin_client, camera):
    response = save(admin_client, [LINE_SET_UP])

    assert response.status_code == 422 and "counting" in fields_in_error(response)


def test_a_body_that_is_not_json_is_refused(admin_client, camera):
    response = admin_client.put(url(), "x=1", content_type="application/json")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_a_version_that_is_not_a_number_is_refused(admin_client, camera):
    response = save(admin_client, {**LINE_SET_UP, "version": "two"})

    assert response.status_code == 422 and "version" in fields_in_error(response)


def test_a_stale_version_is_refused(admin_client, camera):
    services.update_camera(camera, {"name": "Lobby (renamed)"})

    response = save(admin_client, {**LINE_SET_UP, "version": camera.version})

    assert response.status_code == 409
    assert "changed by someone else" in response.json()["error"]["message"]


def test_the_set_up_can_be_removed(admin_client, camera):
    version = save(admin_client, LINE_SET_UP).json()["version"]

    response = admin_client.delete(f"{url()}?version={version}")

    assert response.status_code == 200
    assert response.json() == {"camera_id": "CAM-21", "counting": None, "problem": "", "version": version + 1}
    camera.refresh_from_db()
    assert "counting" not in camera.metadata


def test_a_stale_removal_is_refused(admin_client, camera):
    save(admin_client, LINE_SET_UP)

    assert admin_client.delete(f"{url()}?version=1").status_code == 409
    camera.refresh_from_db()
    assert "counting" in camera.metadata


def test_saving_needs_cameras_write(reader_client, camera):
    response = save(reader_client, LINE_SET_UP)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "PERMISSION_DENIED"


def test_saving_needs_credentials(camera):
    response = save(APIClient(), LINE_SET_UP)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AUTHENTICATION_REQUIRED"


def test_an_unknown_camera_is_404(admin_client):
    response = save(admin_client, LINE_SET_UP, "CAM-404")

    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Camera with ID CAM-404 not found"


def test_a_change_is_audited(admin_client, camera):
    from accounts.models import AuditLog

    save(admin_client, LINE_SET_UP)

    assert AuditLog.objects.filter(resource_type="camera").exists()
