"""GET /api/v1/cameras/{id}/counts and GET /api/v1/counts/realtime."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from counting import realtime
from counting.ingest import record_counts
from tests.counting.conftest import T0, count, counts_url
from tests.factories import CameraFactory

REALTIME = "/api/v1/counts/realtime"


@pytest.fixture
def hour_of_counts(camera):
    """60 counts, one a minute from 12:00, count = minute."""
    return record_counts(
        camera, [{"count": m, "timestamp": T0 + timedelta(minutes=m), "confidence": 0.5} for m in range(60)]
    )


# --- GET /api/v1/cameras/{id}/counts ---------------------------------------------------------------


@pytest.mark.django_db
def test_counts_are_listed_newest_first_with_the_total(reader_client, hour_of_counts):
    response = reader_client.get(counts_url("cam-001"))

    assert response.status_code == 200
    body = response.json()
    assert [item["count"] for item in body[:3]] == [59, 58, 57]
    assert response["X-Total-Count"] == "60"
    assert set(body[0]) >= {"camera_id", "count", "timestamp", "confidence", "image_url"}
    assert response["X-API-Version"] == "1"


@pytest.mark.django_db
def test_counts_are_filtered_by_time_range(reader_client, hour_of_counts):
    response = reader_client.get(
        counts_url("cam-001"), {"start_date": "2024-03-01T12:10:00Z", "end_date": "2024-03-01T12:20:00Z"}
    )

    assert [item["count"] for item in response.json()] == list(range(19, 9, -1))
    assert response["X-Total-Count"] == "10"


@pytest.mark.django_db
def test_counts_are_paginated_with_skip_and_limit(reader_client, hour_of_counts):
    response = reader_client.get(counts_url("cam-001"), {"skip": 5, "limit": 3})

    assert [item["count"] for item in response.json()] == [54, 53, 52]


@pytest.mark.django_db
def test_listing_counts_takes_a_fixed_number_of_queries(reader_client, hour_of_counts, django_assert_max_num_queries):
    reader_client.get(counts_url("cam-001"))  # the user's last_active is written once a minute, not per request
    with django_assert_max_num_queries(4):  # user, camera, total, page
        response = reader_client.get(counts_url("cam-001"), {"limit": 60})
    assert len(response.json()) == 60


@pytest.mark.django_db
def test_listing_counts_with_a_limit_over_the_maximum_is_a_422(reader_client, camera):
    response = reader_client.get(counts_url("cam-001"), {"limit": 5000})

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["loc"] == ["query", "limit"]


@pytest.mark.django_db
def test_listing_counts_of_an_unknown_camera_is_a_404(reader_client, db):
    response = reader_client.get(counts_url("cam-nope"))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "CAMERA_NOT_FOUND"


@pytest.mark.django_db
def test_listing_counts_needs_counts_read(viewer_client, camera):
    assert viewer_client.get(counts_url("cam-001")).status_code == 403


# --- GET /api/v1/counts/realtime -----------------------------------------------------------------


@pytest.mark.django_db
def test_realtime_lists_the_latest_count_of_every_camera(reader_client, hour_of_counts, other_camera):
    response = reader_client.get(REALTIME)

    assert response.status_code == 200
    assert response.json() == [
        {
            "camera_id": "cam-001",
            "camera_name": "Main entrance",
            "status": "active",
            "count": 59,
            "confidence": 0.5,
            "timestamp": "2024-03-01T12:59:00Z",
            "image_url": None,
            "zone_id": None,
        },
        {
            "camera_id": "cam-002",
            "camera_name": "Back door",
            "status": "inactive",
            "count": None,
            "confidence": None,
            "timestamp": None,
            "image_url": None,
            "zone_id": None,
        },
    ]


@pytest.mark.django_db
def test_realtime_filters_by_camera(reader_client, hour_of_counts, other_camera):
    response = reader_client.get(REALTIME, {"camera_id": "cam-001"})

    assert [item["camera_id"] for item in response.json()] == ["cam-001"]


@pytest.mark.django_db
def test_realtime_of_an_unknown_camera_is_a_404(reader_client, camera):
    assert reader_client.get(REALTIME, {"camera_id": "cam-nope"}).status_code == 404


@pytest.mark.django_db
def test_realtime_is_answered_from_cache(hour_of_counts):
    realtime.latest_counts()

    with CaptureQueriesContext(connection) as captured:
        latest = realtime.latest_counts()

    assert len(captured) == 0
    assert latest[0]["count"] == 59


@pytest.mark.django_db
def test_realtime_cache_is_invalidated_by_new_counts(
    ingest_client, reader_client, hour_of_counts, django_capture_on_commit_callbacks
):
    assert reader_client.get(REALTIME).json()[0]["count"] == 59

    with django_capture_on_commit_callbacks(execute=True):
        ingest_client.post(counts_url("cam-001"), count(77, "2024-03-01T13:30:00Z"), format="json")

    assert reader_client.get(REALTIME).json()[0]["count"] == 77


@pytest.mark.django_db
def test_realtime_answer_computed_before_a_commit_is_never_served(
    camera, monkeypatch, django_capture_on_commit_callbacks
):
    compute = realtime.compute_latest

    def compute_while_counts_arrive():
        items = compute()
        # New counts commit after the reader looked but before it stores its (now stale) answer.
        with django_capture_on_commit_callbacks(execute=True):
            record_counts(camera, [{"count": 42, "timestamp": T0 + timedelta(hours=2), "confidence": 1}])
        return items

    monkeypatch.setattr(realtime, "compute_latest", compute_while_counts_arrive)
    assert realtime.latest_counts()[0]["count"] is None
    monkeypatch.setattr(realtime, "compute_latest", compute)

    assert realtime.latest_counts()[0]["count"] == 42


@pytest.mark.django_db
def test_counts_stored_by_another_process_are_in_the_next_realtime_read(reader_client, hour_of_counts, camera):
    from tests.conftest import bump_from_another_process

    assert reader_client.get(REALTIME).json()[0]["count"] == 59  # this process keeps the answer
    # The other process's counts, their commit not announced here: the answer is still the kept one.
    record_counts(camera, [{"count": 91, "timestamp": T0 + timedelta(hours=3), "confidence": 1}])
    assert reader_client.get(REALTIME).json()[0]["count"] == 59

    bump_from_another_process("counting:realtime")

    assert reader_client.get(REALTIME).json()[0]["count"] == 91


@pytest.mark.django_db
def test_a_kept_realtime_answer_is_still_refused_without_the_read_permission(reader_client, hour_of_counts):
    from rest_framework.test import APIClient

    from tests.conftest import role_client

    assert reader_client.get(REALTIME).status_code == 200  # kept by this process

    assert role_client("ROLE-NO-COUNTS", ["cameras:read"]).get(REALTIME).status_code == 403
    assert APIClient().get(REALTIME).status_code == 401


@pytest.mark.django_db
def test_a_realtime_answer_older_than_the_ttl_is_computed_again(reader_client, hour_of_counts, camera, settings):
    settings.COUNTS_REALTIME_CACHE_SECONDS = 1
    assert reader_client.get(REALTIME).json()[0]["count"] == 59
    # A camera renamed: nothing is announced, the TTL bounds how long the old name is shown, here and in Redis.
    camera.name = "Renamed"
    camera.save()
    time.sleep(1.2)

    assert reader_client.get(REALTIME).json()[0]["camera_name"] == "Renamed"


@pytest.mark.django_db
def test_realtime_includes_a_camera_created_after_the_cache(reader_client, hour_of_counts):
    reader_client.get(REALTIME)
    CameraFactory(id="cam-new", name="New")

    response = reader_client.get(REALTIME, {"camera_id": "cam-new"})

    assert response.status_code == 200
    assert response.json()[0]["camera_id"] == "cam-new"


@pytest.mark.django_db
def test_realtime_takes_a_fixed_number_of_queries(
    reader_client, hour_of_counts, other_camera, django_assert_max_num_queries
):
    reader_client.get(counts_url("cam-001"))  # the user's last_active is written once a minute, not per request
    with django_assert_max_num_queries(2):  # user, latest per camera
        reader_client.get(REALTIME)


def test_a_cached_realtime_read_costs_no_query(reader_client, hour_of_counts, django_assert_num_queries):
    # The first call reads the list and records the user's activity, which makes the second read the user again.
    reader_client.get(REALTIME)
    reader_client.get(REALTIME)

    with django_assert_num_queries(0):
        response = reader_client.get(REALTIME)

    assert response.status_code == 200


@pytest.mark.django_db
def test_a_kept_realtime_answer_keeps_its_body_and_is_indented_when_asked(reader_client, hour_of_counts):
    import json

    compact = reader_client.get(REALTIME).content
    again = reader_client.get(REALTIME).content
    indented = reader_client.get(REALTIME, HTTP_ACCEPT="application/json; indent=2").content
    one_camera = reader_client.get(REALTIME, {"camera_id": "cam-001"}).json()

    assert again == compact and b"\n" not in compact
    assert json.loads(indented) == json.loads(compact) and b"\n" in indented
    assert one_camera == [row for row in json.loads(compact) if row["camera_id"] == "cam-001"]
