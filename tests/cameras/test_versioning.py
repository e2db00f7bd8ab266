"""000's versioning example: ``GET /api/v2/cameras`` in 000's plain snake_case shape, with version headers.

000's FastAPI handlers answer a request validation error with 422 and
``{"error": {code, type, message, details, status_code, path, timestamp}}``; the ``details`` are
FastAPI's ``[{loc, msg, type}]`` with ``loc`` naming where the bad value was (``["query", "skip"]``).
"""

from __future__ import annotations

import pytest

from cameras.choices import CameraStatus
from cameras.models import Camera
from tests.factories import CameraFactory

pytestmark = pytest.mark.django_db

V2 = "/api/v2/cameras"


@pytest.fixture
def fleet(db) -> list[Camera]:
    return [
        CameraFactory(
            id="CAM-01",
            name="Main Entrance",
            location="Building A",
            status=CameraStatus.ONLINE,
            stream_url="rtsp://admin@10.10.1.12:554/stream1",
            stream_password="s3cret",
            ip_address="10.10.1.12",
            enabled=False,  # a site address: stored and shown, never opened
        ),
        CameraFactory(
            id="CAM-02", status=CameraStatus.OFFLINE, stream_type="HTTP", stream_url="http://127.0.0.1/x.mjpg"
        ),
        CameraFactory(id="CAM-03", status=CameraStatus.MAINTENANCE, stream_url="rtsp://127.0.0.1:8554/live.mp4"),
        CameraFactory(id="CAM-04", status=CameraStatus.ONLINE),
    ]


def assert_000_validation_error(response, field: str) -> dict:
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["type"] == "VALIDATION_EXCEPTION"
    assert error["status_code"] == 422
    assert error["path"] == V2
    assert error["message"]
    assert error["timestamp"].endswith("Z")
    assert [detail["loc"] for detail in error["details"]] == [["query", field]]
    return error


def test_v2_list_answers_items_total_skip_limit_and_version(viewer_client, fleet, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        response = viewer_client.get(V2)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "total", "skip", "limit", "version"}
    assert (body["total"], body["skip"], body["limit"], body["version"]) == (4, 0, 100, "2.0")
    assert [item["id"] for item in body["items"]] == ["CAM-01", "CAM-02", "CAM-03", "CAM-04"]


def test_v2_list_query_count_does_not_grow_with_the_fleet(viewer_client, fleet, django_assert_max_num_queries):
    for number in range(5, 40):
        CameraFactory(id=f"CAM-{number:02d}")
    with django_assert_max_num_queries(6):
        response = viewer_client.get(V2)
    assert len(response.json()["items"]) == 39


def test_v2_camera_has_000_fields_in_snake_case(viewer_client, fleet):
    item = viewer_client.get(V2).json()["items"][0]
    assert item["id"] == "CAM-01"
    assert item["name"] == "Main Entrance"
    assert item["location"] == "Building A"
    assert item["ip_address"] == "10.10.1.12"
    assert item["port"] == 554
    assert item["username"] == "admin"
    assert {"created_at", "updated_at", "last_connected", "stream_type"} <= set(item)
    assert not any(any(ch.isupper() for ch in key) for key in item)


def test_v2_camera_never_shows_a_password(viewer_client, fleet):
    response = viewer_client.get(V2)
    assert "s3cret" not in response.content.decode()
    assert "password" not in response.json()["items"][0]


def test_v2_status_is_spelled_active_and_inactive(viewer_client, fleet):
    statuses = {item["id"]: item["status"] for item in viewer_client.get(V2).json()["items"]}
    assert statuses == {"CAM-01": "active", "CAM-02": "inactive", "CAM-03": "maintenance", "CAM-04": "active"}


def test_v2_port_defaults_to_the_schemes_port(viewer_client, fleet):
    ports = {item["id"]: item["port"] for item in viewer_client.get(V2).json()["items"]}
    assert ports["CAM-02"] == 80
    assert ports["CAM-03"] == 8554


def test_v2_answers_version_2_beta_headers(viewer_client, fleet):
    response = viewer_client.get(V2)
    assert response["X-API-Version"] == "2"
    assert response["X-API-Status"] == "beta"


def test_v2_is_not_marked_deprecated(viewer_client, fleet):
    assert "Deprecation" not in viewer_client.get(V2)


def test_v1_list_answers_version_1_stable_headers(viewer_client, fleet):
    response = viewer_client.get("/api/v1/cameras")
    assert response["X-API-Version"] == "1"
    assert response["X-API-Status"] == "stable"


def test_v2_pages_with_skip_and_limit(viewer_client, fleet):
    body = viewer_client.get(V2, {"skip": 1, "limit": 2}).json()
    assert [item["id"] for item in body["items"]] == ["CAM-02", "CAM-03"]
    assert (body["total"], body["skip"], body["limit"]) == (4, 1, 2)


def test_v2_filters_by_000_status(viewer_client, fleet):
    body = viewer_client.get(V2, {"status": "active"}).json()
    assert [item["id"] for item in body["items"]] == ["CAM-01", "CAM-04"]
    assert body["total"] == 2


def test_v2_searches_by_name(viewer_client, fleet):
    body = viewer_client.get(V2, {"search": "entrance"}).json()
    assert [item["id"] for item in body["items"]] == ["CAM-01"]


def test_v2_refuses_a_negative_skip(viewer_client, fleet):
    assert_000_validation_error(viewer_client.get(V2, {"skip": -1}), "skip")


def test_v2_refuses_a_limit_of_zero(viewer_client, fleet):
    assert_000_validation_error(viewer_client.get(V2, {"limit": 0}), "limit")


def test_v2_refuses_a_limit_over_1000(viewer_client, fleet):
    assert_000_validation_error(viewer_client.get(V2, {"limit": 1001}), "limit")


def test_v2_refuses_a_non_numeric_limit(viewer_client, fleet):
    assert_000_validation_error(viewer_client.get(V2, {"limit": "ten"}), "limit")


def test_v2_refuses_an_unknown_status(viewer_client, fleet):
    assert_000_validation_error(viewer_client.get(V2, {"status": "exploded"}), "status")


def test_v2_needs_authentication(api_client, fleet):
    response = api_client.get(V2)
    assert response.status_code == 401
    error = response.json()["error"]
    assert (error["code"], error["type"], error["status_code"]) == (
        "AUTHENTICATION_REQUIRED",
        "AUTHENTICATION_ERROR",
        401,
    )


def test_v2_needs_cameras_read(api_key, fleet, api_client):
    response = api_client.get(V2, HTTP_X_API_KEY=api_key.raw)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "PERMISSION_DENIED"
