"""000's client on the counts endpoints: an unknown camera is 000's ``CAMERA_NOT_FOUND`` (404, type
``NOT_FOUND``), and the analytics answer carries 000's ``total_records``, ``overall_avg`` and ``peak_count``
per camera and overall."""

from __future__ import annotations

from datetime import timedelta

import pytest

from counting.ingest import record_counts
from tests.counting.conftest import T0, count, counts_url

pytestmark = pytest.mark.django_db

ANALYTICS = "/api/v1/counts/analytics"


def assert_camera_not_found(response, path: str) -> None:
    assert response.status_code == 404
    error = response.json()["error"]
    assert (error["code"], error["type"], error["status_code"]) == ("CAMERA_NOT_FOUND", "NOT_FOUND", 404)
    assert error["message"] == "Camera with ID cam-nope not found"
    assert error["path"] == path


def test_counts_of_an_unknown_camera_is_camera_not_found(reader_client):
    assert_camera_not_found(reader_client.get(counts_url("cam-nope")), counts_url("cam-nope"))


def test_count_ingest_for_an_unknown_camera_is_camera_not_found(ingest_client):
    response = ingest_client.post(counts_url("cam-nope"), count(), format="json")

    assert_camera_not_found(response, counts_url("cam-nope"))


def test_realtime_of_an_unknown_camera_is_camera_not_found(reader_client, camera):
    response = reader_client.get("/api/v1/counts/realtime", {"camera_id": "cam-nope"})

    assert_camera_not_found(response, "/api/v1/counts/realtime")


def test_analytics_of_an_unknown_camera_is_camera_not_found(reader_client):
    assert_camera_not_found(reader_client.get(ANALYTICS, {"camera_id": "cam-nope"}), ANALYTICS)


@pytest.fixture
def counted(camera, other_camera):
    record_counts(camera, [{"count": n, "timestamp": T0 + timedelta(minutes=n), "confidence": 0.5} for n in (3, 9, 6)])
    record_counts(other_camera, [{"count": 20, "timestamp": T0, "confidence": 0.9}])


def test_analytics_carry_000_figures_per_camera(reader_client, counted):
    body = reader_client.get(ANALYTICS, {"start_date": "2024-03-01", "end_date": "2024-03-01"}).json()

    first = next(item for item in body["cameras"] if item["camera_id"] == "cam-001")
    assert (first["total_records"], first["overall_avg"], first["peak_count"]) == (3, 6.0, 9)


def test_analytics_carry_000_figures_overall(reader_client, counted):
    body = reader_client.get(ANALYTICS, {"start_date": "2024-03-01", "end_date": "2024-03-01"}).json()

    summary = body["summary"]
    assert (summary["total_records"], summary["overall_avg"], summary["peak_count"]) == (4, 9.5, 20)
