"""003 ``POST /events/ingest``: JSON or multipart with real images, 202 as written, 409 on a duplicate,
400 with every error listed, and nothing half-stored when any part fails."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import cv2
import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from rest_framework.test import APIClient

from accounts.models import AuditLog
from anpr.models import PlateEvent
from tests.anpr.conftest import (
    SPEC_EVENT,
    assert_003_error,
    error_fields,
    fetch,
    jpeg_bytes,
    multipart,
    png_bytes,
    role_client,
    spec_event,
    stored_files,
    upload,
)
from tests.factories import ApiKeyFactory

pytestmark = pytest.mark.django_db

URL = "/events/ingest"
EVENT_ID = SPEC_EVENT["event_id"]


def post_json(client: APIClient, event) -> object:
    return client.post(URL, event, format="json")


# --- Accepted ---------------------------------------------------------------------------------------


def test_json_event_answers_202_exactly_as_003_shows(edge_client):
    response = post_json(edge_client, SPEC_EVENT)
    assert response.status_code == 202, response.content
    assert response.json() == {
        "id": EVENT_ID,
        "status": "accepted",
        "timestamp": "2023-12-15T14:30:45.123Z",
        "message": "Event queued for processing",
    }


def test_json_event_is_stored_with_every_field(edge_client):
    post_json(edge_client, SPEC_EVENT)
    event = PlateEvent.objects.get(pk=EVENT_ID)
    assert event.timestamp == datetime(2023, 12, 15, 14, 30, 45, 123000, tzinfo=UTC)
    assert (event.camera_id, event.zone_id, event.plate_text, event.confidence) == (
        "cam-001",
        "zone-entrance",
        "ABC123",
        0.95,
    )
    assert event.raw_candidates == SPEC_EVENT["raw_candidates"]
    assert event.vehicle_info == SPEC_EVENT["vehicle_info"]
    assert event.tpms_status == SPEC_EVENT["tpms_status"]
    assert event.metadata == SPEC_EVENT["metadata"]
    assert (event.frame_key, event.crop_key) == ("", "")


def test_plate_is_stored_as_read_and_normalised_for_search(edge_client):
    post_json(edge_client, spec_event(plate_text="abc-12 3"))
    event = PlateEvent.objects.get(pk=EVENT_ID)
    assert event.plate_text == "abc-12 3"
    assert event.plate_normalized == "ABC123"


def test_event_without_timestamp_is_dated_when_received(edge_client):
    before = datetime.now(UTC)
    response = post_json(edge_client, spec_event(timestamp=None))
    assert response.status_code == 202
    assert PlateEvent.objects.get(pk=EVENT_ID).timestamp >= before


def test_event_with_only_the_required_fields_is_accepted(edge_client):
    minimal = {"event_id": "evt-min", "camera_id": "cam-009", "plate_text": "XYZ789", "confidence": 0.5}
    response = post_json(edge_client, minimal)
    assert response.status_code == 202
    event = PlateEvent.objects.get(pk="evt-min")
    assert (event.zone_id, event.raw_candidates, event.metadata, event.vehicle_info) == ("", [], {}, None)


def test_event_from_a_camera_not_configured_here_still_lands(edge_client):
    response = post_json(edge_client, spec_event(camera_id="cam-unknown-77"))
    assert response.status_code == 202
    assert PlateEvent.objects.filter(camera_id="cam-unknown-77").count() == 1


def test_multipart_with_jpeg_frame_and_crop_stores_both_images(edge_client):
    frame, crop = jpeg_bytes(640, 480, seed=1), jpeg_bytes(200, 60, seed=2)
    response = edge_client.post(URL, multipart(SPEC_EVENT, frame=frame, crop=crop), format="multipart")
    assert response.status_code == 202, response.content
    event = PlateEvent.objects.get(pk=EVENT_ID)
    assert event.frame_key == f"anpr-events/{EVENT_ID}/frame.jpg"
    assert event.crop_key == f"anpr-events/{EVENT_ID}/crop.jpg"
    assert default_storage.open(event.frame_key).read() == frame
    assert default_storage.open(event.crop_key).read() == crop


def test_stored_images_are_served_through_signed_urls(edge_client, admin_client):
    frame, crop = jpeg_bytes(seed=3), jpeg_bytes(seed=4)
    edge_client.post(URL, multipart(SPEC_EVENT, frame=frame, crop=crop), format="multipart")
    body = admin_client.get(f"/events/{EVENT_ID}").json()
    assert "signature=" in body["frame_url"] and "expires=" in body["frame_url"]
    assert fetch(APIClient(), body["frame_url"]) == frame
    assert fetch(APIClient(), body["crop_url"]) == crop


def test_image_url_without_its_signature_is_refused(edge_client, admin_client):
    edge_client.post(URL, multipart(SPEC_EVENT, crop=jpeg_bytes()), format="multipart")
    url = admin_client.get(f"/events/{EVENT_ID}").json()["crop_url"]
    assert APIClient().get(url.split("?")[0]).status_code == 403


def test_png_image_is_accepted_and_stored_as_jpeg(edge_client):
    png = png_bytes(200, 60)
    response = edge_client.post(URL, {"event": json.dumps(SPEC_EVENT), "crop": upload("crop.png", png, "image/png")})
    assert response.status_code == 202, response.content
    stored = default_storage.open(f"anpr-events/{EVENT_ID}/crop.jpg").read()
    assert stored.startswith(b"\xff\xd8\xff")
    decoded = cv2.imdecode(np.frombuffer(stored, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == (60, 200, 3)


def test_multipart_with_only_a_crop_has_no_frame_url(edge_client, admin_client):
    edge_client.post(URL, multipart(SPEC_EVENT, crop=jpeg_bytes()), format="multipart")
    body = admin_client.get(f"/events/{EVENT_ID}").json()
    assert body["frame_url"] is None
    assert body["crop_url"]


def test_multipart_event_part_sent_as_a_file_is_read(edge_client):
    body = {
        "event": upload("event.json", json.dumps(SPEC_EVENT).encode(), "application/json"),
        "crop": upload("c.jpg", jpeg_bytes()),
    }
    response = edge_client.post(URL, body, format="multipart")
    assert response.status_code == 202, response.content
    assert PlateEvent.objects.get(pk=EVENT_ID).crop_key


def test_admin_jwt_may_ingest(admin_client):
    assert post_json(admin_client, SPEC_EVENT).status_code == 202


def test_user_whose_role_holds_anpr_ingest_may_ingest(db):
    client = role_client("ROLE-EDGE-USER", ["anpr:ingest"])
    assert post_json(client, SPEC_EVENT).status_code == 202


def test_ingest_is_not_written_to_the_audit_log(edge_client):
    post_json(edge_client, SPEC_EVENT)
    assert not AuditLog.objects.filter(message__contains=URL).exists()


def test_ingest_answers_rate_limit_headers(edge_client):
    response = post_json(edge_client, SPEC_EVENT)
    assert response["X-RateLimit-Limit"] == "1000"


# --- Duplicates -------------------------------------------------------------------------------------


def test_duplicate_event_answers_409_with_the_003_body(edge_client):
    post_json(edge_client, SPEC_EVENT)
    response = post_json(edge_client, SPEC_EVENT)
    body = assert_003_error(response, 409, "DUPLICATE_RESOURCE")
    assert body["detail"] == f"Event with ID {EVENT_ID} already exists"
    assert set(body) == {"detail", "error_code", "timestamp", "request_id"}


def test_duplicate_leaves_the_first_copy_and_its_images_as_they_were(edge_client):
    first_crop = jpeg_bytes(seed=10)
    edge_client.post(URL, multipart(SPEC_EVENT, crop=first_crop), format="multipart")
    second = spec_event(plate_text="ZZZ999")
    response = edge_client.post(URL, multipart(second, frame=jpeg_bytes(seed=11), crop=jpeg_bytes(seed=12)))
    assert response.status_code == 409
    event = PlateEvent.objects.get(pk=EVENT_ID)
    assert event.plate_text == "ABC123"
    assert event.frame_key == ""
    assert stored_files() == [f"anpr-events/{EVENT_ID}/crop.jpg"]
    assert default_storage.open(event.crop_key).read() == first_crop


# --- Invalid events ---------------------------------------------------------------------------------


def test_missing_plate_text_answers_400_as_003_shows(edge_client):
    response = post_json(edge_client, spec_event(plate_text=None))
    body = assert_003_error(response, 400, "VALIDATION_ERROR")
    assert body["detail"] == "Invalid event data"
    assert body["errors"] == [{"field": "plate_text", "message": "plate_text is required"}]


def test_every_invalid_field_is_listed_at_once(edge_client):
    event = {
        "timestamp": "yesterday",
        "zone_id": 5,
        "plate_text": "   ",
        "confidence": 1.5,
        "raw_candidates": [{"text": "", "confidence": -1}, "ABC"],
        "vehicle_info": [],
        "tpms_status": "ok",
        "metadata": 3,
    }
    response = post_json(edge_client, event)
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert error_fields(response) == [
        "event_id",
        "timestamp",
        "camera_id",
        "zone_id",
        "plate_text",
        "confidence",
        "raw_candidates.0.text",
        "raw_candidates.0.confidence",
        "raw_candidates.1",
        "vehicle_info",
        "tpms_status",
        "metadata",
    ]
    assert not PlateEvent.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"event_id": None}, "event_id"),
        ({"event_id": "x" * 129}, "event_id"),
        ({"event_id": "../../etc/passwd"}, "event_id"),
        ({"event_id": "evt 1"}, "event_id"),
        ({"event_id": "stats"}, "event_id"),
        ({"event_id": 42}, "event_id"),
        ({"timestamp": "2023-12-15T14:30:45"}, "timestamp"),
        ({"timestamp": "15/12/2023"}, "timestamp"),
        ({"timestamp": "2999-01-01T00:00:00Z"}, "timestamp"),
        ({"camera_id": None}, "camera_id"),
        ({"camera_id": "c" * 101}, "camera_id"),
        ({"plate_text": ""}, "plate_text"),
        ({"plate_text": "A" * 33}, "plate_text"),
        ({"plate_text": "--- ..."}, "plate_text"),
        ({"confidence": None}, "confidence"),
        ({"confidence": "0.9"}, "confidence"),
        ({"confidence": True}, "confidence"),
        ({"confidence": -0.01}, "confidence"),
        ({"raw_candidates": {"text": "ABC"}}, "raw_candidates"),
        ({"raw_candidates": [{"confidence": 0.9}]}, "raw_candidates.0.text"),
        ({"raw_candidates": [{"text": "ABC", "confidence": 0.9, "model": 7}]}, "raw_candidates.0.model"),
        ({"metadata": {"blob": "x" * 20000}}, "metadata"),
    ],
)
def test_invalid_field_is_refused_with_its_name(edge_client, changes, field):
    response = post_json(edge_client, spec_event(**changes))
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert error_fields(response) == [field]
    assert not PlateEvent.objects.exists()


def test_json_body_that_is_not_an_object_is_refused(edge_client):
    response = edge_client.post(URL, json.dumps([SPEC_EVENT]), content_type="application/json")
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert error_fields(response) == ["event"]


def test_malformed_json_is_refused_as_invalid_request(edge_client):
    response = edge_client.post(URL, '{"event_id": ', content_type="application/json")
    assert_003_error(response, 400, "INVALID_REQUEST")


def test_multipart_without_an_event_part_is_refused(edge_client):
    response = edge_client.post(URL, {"crop": upload("crop.jpg", jpeg_bytes())}, format="multipart")
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert error_fields(response) == ["event"]
    assert stored_files() == []


def test_multipart_event_part_that_is_not_json_is_refused(edge_client):
    response = edge_client.post(URL, {"event": "plate=ABC123"}, format="multipart")
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert error_fields(response) == ["event"]


# --- Invalid images: refused, and nothing stored ----------------------------------------------------


def test_text_named_jpg_is_refused_and_nothing_is_stored(edge_client):
    body = multipart(SPEC_EVENT, crop=jpeg_bytes())
    body["frame"] = upload("frame.jpg", b"this is not a picture, just text pretending to be one")
    response = edge_client.post(URL, body, format="multipart")
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert response.json()["errors"] == [{"field": "frame", "message": "frame must be a JPEG or PNG image"}]
    assert not PlateEvent.objects.exists()
    assert stored_files() == []


def test_jpeg_magic_bytes_without_a_picture_are_refused(edge_client):
    fake = b"\xff\xd8\xff\xe0" + b"\x00" * 200 + b"\xff\xd9"
    response = edge_client.post(URL, multipart(SPEC_EVENT, frame=fake), format="multipart")
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert error_fields(response) == ["frame"]
    assert stored_files() == []


def test_truncated_jpeg_is_refused(edge_client):
    whole = jpeg_bytes(640, 480)
    response = edge_client.post(URL, multipart(SPEC_EVENT, crop=whole[: len(whole) // 2]), format="multipart")
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert error_fields(response) == ["crop"]
    assert not PlateEvent.objects.exists()


def test_truncated_png_is_refused(edge_client):
    whole = png_bytes(400, 300)
    body = {"event": json.dumps(SPEC_EVENT), "crop": upload("crop.png", whole[: len(whole) // 2], "image/png")}
    response = edge_client.post(URL, body, format="multipart")
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert error_fields(response) == ["crop"]


def test_empty_image_is_refused(edge_client):
    response = edge_client.post(URL, multipart(SPEC_EVENT, frame=b""), format="multipart")
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert error_fields(response) == ["frame"]


def test_image_over_the_size_limit_is_refused(edge_client, settings):
    big = jpeg_bytes(800, 600)
    settings.ANPR_MAX_IMAGE_BYTES = len(big) - 1
    response = edge_client.post(URL, multipart(SPEC_EVENT, frame=big), format="multipart")
    assert_003_error(response, 400, "VALIDATION_ERROR")
    assert response.json()["errors"] == [
        {"field": "frame", "message": f"frame is larger than the limit of {len(big) - 1} bytes"}
    ]
    assert not PlateEvent.objects.exists()
    assert stored_files() == []


def test_image_at_the_size_limit_is_accepted(edge_client, settings):
    exact = jpeg_bytes(800, 600)
    settings.ANPR_MAX_IMAGE_BYTES = len(exact)
    response = edge_client.post(URL, multipart(SPEC_EVENT, frame=exact), format="multipart")
    assert response.status_code == 202


def test_request_body_far_over_the_limit_is_refused_before_it_is_read(edge_client, settings):
    settings.ANPR_MAX_IMAGE_BYTES = 1000
    response = edge_client.post(URL, multipart(SPEC_EVENT, frame=jpeg_bytes(2000, 1500, seed=5)), format="multipart")
    assert_003_error(response, 413, "INVALID_REQUEST")


def test_invalid_event_and_invalid_image_are_reported_together(edge_client):
    body = {"event": json.dumps(spec_event(confidence=2)), "crop": upload("crop.gif", b"GIF89a...", "image/gif")}
    response = edge_client.post(URL, body, format="multipart")
    assert error_fields(response) == ["confidence", "crop"]


@pytest.mark.undocumented  # a simulated crash: its 500 is rightly not in the document
def test_storage_failure_after_the_first_image_leaves_nothing_behind(edge_client):
    # A real failure: a non-empty directory sits where the crop must be written, so writing it fails
    # after the frame was written; the row is rolled back and the frame this request wrote removed.
    blocker = f"anpr-events/{EVENT_ID}/crop.jpg/keep"
    default_storage.save(blocker, ContentFile(b"x"))
    response = edge_client.post(URL, multipart(SPEC_EVENT, frame=jpeg_bytes(), crop=jpeg_bytes(seed=9)))
    assert_003_error(response, 500, "INTERNAL_ERROR")
    assert not PlateEvent.objects.exists()
    assert stored_files() == [blocker]


def test_leftover_file_of_a_failed_attempt_is_replaced(edge_client):
    default_storage.save(f"anpr-events/{EVENT_ID}/crop.jpg", ContentFile(b"stale"))
    crop = jpeg_bytes(seed=21)
    edge_client.post(URL, multipart(SPEC_EVENT, crop=crop), format="multipart")
    event = PlateEvent.objects.get(pk=EVENT_ID)
    assert event.crop_key == f"anpr-events/{EVENT_ID}/crop.jpg"
    assert default_storage.open(event.crop_key).read() == crop


# --- Refusals: authentication, permission, rate ----------------------------------------------------


def test_ingest_without_credentials_is_401(api_client):
    response = post_json(api_client, SPEC_EVENT)
    assert_003_error(response, 401, "AUTHENTICATION_FAILED")
    assert not PlateEvent.objects.exists()


def test_ingest_with_an_unknown_api_key_is_401(api_client):
    api_client.credentials(HTTP_X_API_KEY="bec_" + "0" * 32)
    assert_003_error(post_json(api_client, SPEC_EVENT), 401, "AUTHENTICATION_FAILED")


def test_ingest_with_a_key_without_anpr_ingest_is_403(api_client):
    api_client.credentials(HTTP_X_API_KEY=ApiKeyFactory(scopes=["counts:ingest"]).raw)
    assert_003_error(post_json(api_client, SPEC_EVENT), 403, "FORBIDDEN")
    assert not PlateEvent.objects.exists()


def test_ingest_by_a_user_without_anpr_ingest_is_403(viewer_client):
    assert_003_error(post_json(viewer_client, SPEC_EVENT), 403, "FORBIDDEN")


def test_ingest_beyond_the_rate_limit_is_429_in_the_003_format(edge_client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "ingest": 2}
    for number in range(2):
        assert post_json(edge_client, spec_event(event_id=f"evt-{number}")).status_code == 202
    response = post_json(edge_client, spec_event(event_id="evt-2"))
    body = assert_003_error(response, 429, "RATE_LIMIT_EXCEEDED")
    assert body["detail"] == "Rate limit exceeded"
    assert (body["limit"], body["window_seconds"]) == (2, 60)
    assert body["retry_after_seconds"] >= 1
    assert response["Retry-After"]
    assert not PlateEvent.objects.filter(pk="evt-2").exists()


def test_rate_limit_is_per_edge_worker(edge_client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "ingest": 1}
    assert post_json(edge_client, spec_event(event_id="evt-a")).status_code == 202
    other = APIClient()
    other.credentials(HTTP_X_API_KEY=ApiKeyFactory().raw)
    assert post_json(other, spec_event(event_id="evt-b")).status_code == 202
