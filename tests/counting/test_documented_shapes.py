"""Each counting answer built as a dict (000's counts, ingest result, realtime, analytics, v2 cameras) is what
the OpenAPI document says."""

from __future__ import annotations

import pytest

from tests.counting.conftest import count, counts_url, key_client
from tests.documented import assert_documented

pytestmark = pytest.mark.django_db


@pytest.fixture
def counted(camera, ingest_client):
    response = ingest_client.post(
        counts_url(camera.pk), [count(3, zone_id="zone-a", image_url="http://127.0.0.1/a.jpg"), count(4)], format="json"
    )
    assert response.status_code == 201, response.content
    return response


def test_the_ingest_result_is_documented(counted):
    assert_documented(counted, "/api/v1/cameras/{camera_id}/counts")


def test_a_cameras_counts_are_documented(reader_client, counted):
    assert_documented(reader_client.get(counts_url("cam-001")), "/api/v1/cameras/{camera_id}/counts")


def test_the_realtime_counts_are_documented(reader_client, counted, other_camera):
    assert_documented(reader_client.get("/api/v1/counts/realtime"), "/api/v1/counts/realtime")


def test_the_analytics_are_documented(reader_client, counted):
    response = reader_client.get(
        "/api/v1/counts/analytics", {"start_date": "2024-03-01T00:00:00Z", "end_date": "2024-03-02T00:00:00Z"}
    )

    assert_documented(response, "/api/v1/counts/analytics")


def test_the_v2_camera_list_is_documented(camera):
    client = key_client("cameras:read")

    assert_documented(client.get("/api/v2/cameras"), "/api/v2/cameras")
