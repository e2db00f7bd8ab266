"""GET /api/v1/attendance/records: current presence, newest first."""

from __future__ import annotations

import pytest

from tests.attendance.conftest import DAY, local, seen

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_time_zone")]

URL = "/api/v1/attendance/records"


def test_it_lists_presence_in_the_001_shape(viewer_client, corridor):
    seen(at=local(DAY, 17, 21, 4), camera=corridor, accuracy=99.2, thumbnail="detections/emp-00412.jpg")

    body = viewer_client.get(URL).json()

    assert body["success"] is True
    [item] = body["data"]
    assert item["personId"] == "EMP-00412"
    assert (item["name"], item["department"], item["role"]) == ("Sophia Martinez", "Manufacturing", "")
    assert (item["status"], item["accuracy"]) == ("on-site", 99.2)
    assert item["timestamp"] == "2025-11-05T10:21:04Z"
    assert (item["cameraId"], item["cameraName"]) == ("CAM-03", "R&D Corridor")
    assert "signature=" in item["thumbnail"]  # a signed, expiring URL, never the storage key


def test_newest_sighting_first_and_limited(viewer_client):
    for number in range(3):
        seen(employee_id=f"EMP-{number}", at=local(DAY, 9, number))

    body = viewer_client.get(URL, {"limit": 2}).json()

    assert [item["personId"] for item in body["data"]] == ["EMP-2", "EMP-1"]


def test_a_bad_limit_is_a_validation_error(viewer_client):
    response = viewer_client.get(URL, {"limit": "lots"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_it_needs_authentication(api_client):
    assert api_client.get(URL).status_code == 401


@pytest.mark.parametrize("people", [5, 10])
def test_listing_costs_the_same_queries_however_many_people(
    viewer_client, lobby, corridor, people, django_assert_max_num_queries
):
    for number in range(people):
        camera = lobby if number % 2 else corridor
        seen(employee_id=f"EMP-{number}", at=local(DAY, 9, number), camera=camera, thumbnail=f"faces/{number}.jpg")

    with django_assert_max_num_queries(3):
        body = viewer_client.get(URL).json()

    assert len(body["data"]) == people and all(item["cameraName"] for item in body["data"])
