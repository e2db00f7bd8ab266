"""POST /api/v1/cameras/{id}/counts: one count, a list, or {"counts": [...]}; all or nothing."""

from __future__ import annotations

import pytest

from counting.models import CountHourly, CountRecord
from tests.conftest import key_client
from tests.counting.conftest import count, counts_url

pytestmark = pytest.mark.django_db


def test_single_count_is_stored_and_answered_as_one_object(ingest_client, camera):
    response = ingest_client.post(
        counts_url(camera.pk), count(7, confidence=0.95, image_url="https://example.com/c.jpg"), format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["camera_id"] == "cam-001"
    assert body["count"] == 7
    assert body["confidence"] == 0.95
    assert body["timestamp"] == "2024-03-01T12:00:00Z"
    assert body["image_url"] == "https://example.com/c.jpg"
    assert body["source"] == "api"
    stored = CountRecord.objects.get(pk=body["id"])
    assert (stored.count, stored.camera_id, stored.source) == (7, "cam-001", "api")


def test_batch_as_a_list_is_stored_in_order(ingest_client, camera):
    payload = [count(1, "2024-03-01T12:00:00Z"), count(2, "2024-03-01T12:01:00Z"), count(3, "2024-03-01T13:00:00Z")]

    response = ingest_client.post(counts_url(camera.pk), payload, format="json")

    assert response.status_code == 201, response.content
    assert [item["count"] for item in response.json()] == [1, 2, 3]
    assert CountRecord.objects.filter(camera=camera).count() == 3


def test_wrapped_batch_is_answered_wrapped(ingest_client, camera):
    response = ingest_client.post(
        counts_url(camera.pk), {"counts": [count(4), count(5, zone_id="line-a")]}, format="json"
    )

    assert response.status_code == 201, response.content
    stored = response.json()["counts"]
    assert [(item["count"], item["zone_id"]) for item in stored] == [(4, None), (5, "line-a")]


def test_timestamp_with_an_offset_is_stored_in_utc(ingest_client, camera):
    response = ingest_client.post(counts_url(camera.pk), count(timestamp="2024-03-01T19:00:00+07:00"), format="json")

    assert response.json()["timestamp"] == "2024-03-01T12:00:00Z"


def test_camera_id_in_the_body_must_match_the_path(ingest_client, camera):
    response = ingest_client.post(counts_url(camera.pk), count(camera_id="cam-999"), format="json")

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["loc"] == ["body", "camera_id"]


def test_invalid_batch_lists_every_bad_item_and_stores_nothing(ingest_client, camera):
    payload = [
        count(1),
        count(-1),  # negative
        {"timestamp": "2024-03-01T12:00:00Z", "confidence": 0.5},  # count missing
        count(2, confidence=1.5),
        count(3, timestamp="yesterday"),
        count(True),
        count(4, timestamp="2024-03-01T12:00:00"),  # no time zone
    ]

    response = ingest_client.post(counts_url(camera.pk), payload, format="json")

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["type"] == "VALIDATION_EXCEPTION"
    assert error["status_code"] == 422
    locations = [tuple(item["loc"]) for item in error["details"]]
    assert locations == [
        ("body", "1", "count"),
        ("body", "2", "count"),
        ("body", "3", "confidence"),
        ("body", "4", "timestamp"),
        ("body", "5", "count"),
        ("body", "6", "timestamp"),
    ]
    assert not CountRecord.objects.exists()
    assert not CountHourly.objects.exists()


def test_invalid_wrapped_item_is_located_under_counts(ingest_client, camera):
    response = ingest_client.post(counts_url(camera.pk), {"counts": [count(1), count("many")]}, format="json")

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["loc"] == ["body", "counts", "1", "count"]


def test_empty_batch_is_refused(ingest_client, camera):
    response = ingest_client.post(counts_url(camera.pk), [], format="json")

    assert response.status_code == 422


def test_batch_over_the_limit_is_refused(ingest_client, camera, settings):
    settings.COUNTS_MAX_BATCH = 3

    response = ingest_client.post(counts_url(camera.pk), [count()] * 4, format="json")

    assert response.status_code == 422
    assert not CountRecord.objects.exists()


def test_malformed_json_is_a_422(ingest_client, camera):
    response = ingest_client.post(counts_url(camera.pk), "{not json", content_type="application/json")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_unknown_camera_is_a_404_in_000_shape(ingest_client, db):
    response = ingest_client.post(counts_url("cam-nope"), count(), format="json")

    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "CAMERA_NOT_FOUND"
    assert error["type"] == "NOT_FOUND"
    assert error["status_code"] == 404
    assert error["path"] == "/api/v1/cameras/cam-nope/counts"
    assert error["request_id"] == response["X-Request-ID"]


def test_ingest_without_credentials_is_a_401(api_client, camera):
    response = api_client.post(counts_url(camera.pk), count(), format="json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AUTHENTICATION_REQUIRED"


def test_ingest_with_an_invalid_key_is_a_401(api_client, camera):
    api_client.credentials(HTTP_X_API_KEY="bec_" + "0" * 32)

    response = api_client.post(counts_url(camera.pk), count(), format="json")

    assert response.status_code == 401


def test_key_without_counts_ingest_is_a_403(camera):
    client = key_client("counts:read", "anpr:ingest")

    response = client.post(counts_url(camera.pk), count(), format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "PERMISSION_DENIED"
    assert not CountRecord.objects.exists()


def test_user_without_counts_ingest_is_a_403(viewer_client, camera):
    response = viewer_client.post(counts_url(camera.pk), count(), format="json")

    assert response.status_code == 403


def test_user_with_every_permission_may_ingest(admin_client, camera):
    response = admin_client.post(counts_url(camera.pk), count(), format="json")

    assert response.status_code == 201


def test_ingest_key_may_not_read_counts(ingest_client, camera):
    response = ingest_client.get(counts_url(camera.pk))

    assert response.status_code == 403


def test_ingest_writes_no_audit_entry(ingest_client, camera):
    from accounts.models import AuditLog

    ingest_client.post(counts_url(camera.pk), count(), format="json")

    assert not AuditLog.objects.exists()
