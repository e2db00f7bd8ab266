"""``GET /api/v1/counts/counters``: what each camera's video counter is doing, with the in/out split."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from counting.video import locks, storage
from counting.video.runner import IntervalCount
from tests.factories import CameraFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/counts/counters"


def test_it_gives_the_in_out_split_of_the_last_interval(reader_client, camera):
    interval = IntervalCount(start=1_700_000_000.0, end=1_700_000_060.0, entered=4, exited=2)
    storage.update_status("cam-001", running=True, interval=interval, totals={"in": 9, "out": 5})
    token = locks.acquire("cam-001", 30)
    try:
        response = reader_client.get(URL)
    finally:
        locks.release("cam-001", token)

    assert response.status_code == 200
    [state] = response.json()
    assert state["camera_id"] == "cam-001"
    assert state["running"] and state["counting"]
    assert state["last_interval"] == {
        "start": "2023-11-14T22:13:20+00:00",
        "end": "2023-11-14T22:14:20+00:00",
        "in": 4,
        "out": 2,
        "total": 6,
        "confidence": state["last_interval"]["confidence"],
    }
    assert state["run_totals"] == {"in": 9, "out": 5}


def test_a_camera_never_counted(reader_client, camera):
    assert reader_client.get(URL).json() == [
        {
            "camera_id": "cam-001",
            "counting": False,
            "running": False,
            "last_interval": None,
            "run_totals": None,
            "updated": None,
            "stopped": "",
            "error": "",
        }
    ]


def test_every_camera_is_listed_in_id_order(reader_client, camera, other_camera):
    assert [state["camera_id"] for state in reader_client.get(URL).json()] == ["cam-001", "cam-002"]


def test_it_needs_credentials(camera):
    response = APIClient().get(URL)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AUTHENTICATION_REQUIRED"


def test_it_needs_counts_read(viewer_client, camera):
    response = viewer_client.get(URL)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "PERMISSION_DENIED"


def test_it_costs_the_same_queries_for_many_cameras(reader_client, django_assert_max_num_queries):
    from cameras.models import Camera

    Camera.objects.bulk_create(Camera(id=f"CAM-{number:03d}", name=f"Camera {number}") for number in range(40))

    with django_assert_max_num_queries(6):
        assert len(reader_client.get(URL).json()) == 40


@pytest.mark.parametrize("count", [5, 10])
def test_the_counters_cost_the_same_queries_for_many_cameras(reader_client, count, django_assert_max_num_queries):
    CameraFactory.create_batch(count)

    with django_assert_max_num_queries(4):
        answer = reader_client.get(URL).json()

    assert len(answer) == count
