"""001 section 3 over HTTP: live detections (cached), send-frame, events, the provider config and its test,
and a person's history."""

from __future__ import annotations

import datetime as dt
import json
from datetime import timedelta

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from config.crypto import MASK
from recognition import detections
from recognition.models import DetectionEventLog, DetectionProviderConfig
from recognition.providers import ProvidedFace, ProviderAnswer
from tests.conftest import bump_from_another_process, role_client
from tests.factories import CameraFactory, DetectionEventLogFactory, DetectionFactory, FaceProfileFactory

pytestmark = pytest.mark.django_db


NOWHERE = "rtsp://127.0.0.1:9/none.mp4"  # a stream on a closed port: never read here


@pytest.fixture
def camera():
    return CameraFactory(id="CAM-01", name="Main entrance", stream_url=NOWHERE)


def test_live_detections_are_newest_first_in_the_001_shape(admin_client, camera):
    person = FaceProfileFactory(employee_id="EMP-00412", name="Sophia Martinez")
    now = timezone.now()
    DetectionFactory(camera=camera, timestamp=now - timedelta(seconds=30))
    newest = DetectionFactory(
        camera=camera, timestamp=now, profile=person, track_id="TRACK-1", thumbnail="detections/x.jpg"
    )

    body = admin_client.get("/api/v1/detections/live").json()

    assert body["success"] is True
    first = body["data"][0]
    assert first["id"] == str(newest.id)
    assert first["personId"] == "EMP-00412"
    assert first["name"] == "Sophia Martinez"
    assert first["cameraId"] == "CAM-01"
    assert first["confidence"] == 97.5
    assert first["trackId"] == "TRACK-1"
    assert first["boundingBox"] == {"top": 10, "left": 20, "width": 80, "height": 100}
    assert first["status"] == "authorized"
    assert "/files/detections/x.jpg" in first["thumbnail"] and "signature=" in first["thumbnail"]
    assert body["data"][1]["status"] == "unknown" and body["data"][1]["personId"] is None


def test_live_detections_filter_by_camera_and_limit(admin_client, camera):
    other = CameraFactory(id="CAM-02", name="Loading bay")
    for seconds in range(3):
        DetectionFactory(camera=camera, timestamp=timezone.now() - timedelta(seconds=seconds))
    DetectionFactory(camera=other)

    data = admin_client.get("/api/v1/detections/live", {"cameraId": "CAM-01", "limit": 2}).json()["data"]

    assert len(data) == 2
    assert {row["cameraId"] for row in data} == {"CAM-01"}


def test_live_limit_out_of_range_is_a_validation_error(admin_client):
    response = admin_client.get("/api/v1/detections/live", {"limit": 5000})

    assert response.status_code == 400
    assert response.json()["success"] is False


def test_live_detections_cost_one_query_then_none_while_cached(camera):
    DetectionFactory(camera=camera)
    with CaptureQueriesContext(connection) as first:
        detections.live_detections()
    with CaptureQueriesContext(connection) as second:
        rows = detections.live_detections()

    assert len(first.captured_queries) == 1
    assert len(second.captured_queries) == 0
    assert len(rows) == 1


def test_a_new_detection_is_in_the_next_live_read_despite_the_cache(camera, django_capture_on_commit_callbacks):
    assert detections.live_detections() == []  # cached, empty
    answer = ProviderAnswer(
        faces=[ProvidedFace(box={"top": 0, "left": 0, "width": 10, "height": 10}, confidence=55.0)], latency_ms=5
    )
    with django_capture_on_commit_callbacks(execute=True):
        detections.record_detections(camera, np.zeros((40, 40, 3), dtype=np.uint8), answer)

    assert len(detections.live_detections()) == 1


def test_live_detections_need_the_read_permission(api_client):
    response = api_client.get("/api/v1/detections/live")

    assert response.status_code == 401


def test_send_frame_answers_202_with_a_job_id(admin_client, camera):
    response = admin_client.post("/api/v1/detections/send-frame", {"cameraId": "CAM-01"}, format="json")

    assert response.status_code == 202
    data = response.json()["data"]
    assert data["status"] == "queued"
    event = DetectionEventLog.objects.get(pk=data["jobId"])
    assert event.camera_id == "CAM-01" and event.status == "processing" and event.trigger == "api"


def test_send_frame_for_an_unknown_camera_is_404(admin_client):
    response = admin_client.post("/api/v1/detections/send-frame", {"cameraId": "CAM-99"}, format="json")

    assert response.status_code == 404
    assert not DetectionEventLog.objects.exists()


def test_send_frame_without_camera_id_is_a_validation_error(admin_client):
    response = admin_client.post("/api/v1/detections/send-frame", {}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"]


def test_send_frame_for_a_camera_without_stream_is_409(admin_client):
    CameraFactory(id="CAM-03", name="No stream", stream_url="")

    response = admin_client.post("/api/v1/detections/send-frame", {"cameraId": "CAM-03"}, format="json")

    assert response.status_code == 409


def test_viewer_may_not_send_frames(viewer_client, camera):
    response = viewer_client.post("/api/v1/detections/send-frame", {"cameraId": "CAM-01"}, format="json")

    assert response.status_code == 403


def test_events_filter_by_status_camera_and_time_with_pagination(admin_client, camera):
    now = timezone.now()
    for minutes, status in ((1, "received"), (2, "error"), (3, "received"), (90, "received")):
        DetectionEventLogFactory(
            camera=camera,
            camera_name=camera.name,
            timestamp=now - timedelta(minutes=minutes),
            status=status,
            latency_ms=150,
        )
    DetectionEventLogFactory(camera=CameraFactory(id="CAM-02", name="Bay"), timestamp=now, status="received")

    body = admin_client.get(
        "/api/v1/detections/events",
        {"status": "received", "cameraId": "CAM-01", "from": (now - timedelta(hours=1)).isoformat(), "pageSize": 1},
    ).json()

    assert body["meta"]["total"] == 2
    assert len(body["data"]) == 1
    assert body["data"][0]["cameraName"] == "Main entrance"
    assert body["data"][0]["latencyMs"] == 150


def test_provider_config_reads_with_the_key_masked(admin_client):
    config = DetectionProviderConfig.load()
    config.api_key = "sk-live-123"
    config.save()

    data = admin_client.get("/api/v1/detections/provider/config").json()["data"]

    assert data["apiKey"] == MASK
    assert "sk-live-123" not in str(data)
    assert data["providerName"] and data["status"] == "offline"


def test_provider_key_is_encrypted_at_rest_and_kept_when_the_mask_is_sent_back(admin_client):
    admin_client.put(
        "/api/v1/detections/provider/config",
        {"kind": "http", "endpoint": "http://127.0.0.1:8001/detect", "apiKey": "sk-secret"},
        format="json",
    )
    response = admin_client.put(
        "/api/v1/detections/provider/config", {"apiKey": MASK, "providerName": "Edge"}, format="json"
    )

    assert response.status_code == 200
    config = DetectionProviderConfig.load()
    assert config.api_key == "sk-secret" and config.provider_name == "Edge"
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_key FROM recognition_detectionproviderconfig WHERE id = 1")
        stored = cursor.fetchone()[0]
    assert "sk-secret" not in stored


def test_an_http_provider_without_a_valid_endpoint_is_rejected(admin_client):
    response = admin_client.put(
        "/api/v1/detections/provider/config", {"kind": "http", "endpoint": "ftp://x"}, format="json"
    )

    assert response.status_code == 400
    assert DetectionProviderConfig.load().kind == "builtin"


def test_test_provider_reports_a_healthy_http_provider(admin_client, http_peer):
    peer = http_peer(answer={"detections": []})
    admin_client.put("/api/v1/detections/provider/config", {"kind": "http", "endpoint": peer.url}, format="json")
    data = admin_client.post("/api/v1/detections/test-provider").json()["data"]

    assert data["status"] == "connected"
    assert data["message"] == "Provider healthy"
    assert isinstance(data["latencyMs"], int)
    assert DetectionProviderConfig.load().last_heartbeat is not None


def test_person_history_lists_their_detections_newest_first(admin_client, camera):
    person = FaceProfileFactory(employee_id="EMP-00412", name="Sophia Martinez")
    older = DetectionFactory(camera=camera, timestamp=timezone.now() - timedelta(hours=2), profile=person)
    newer = DetectionFactory(camera=camera, timestamp=timezone.now(), profile=person)
    DetectionFactory(camera=camera)  # somebody unknown

    body = admin_client.get("/api/v1/history/person/EMP-00412").json()

    assert [row["id"] for row in body["data"]] == [str(newer.id), str(older.id)]
    assert body["data"][0]["cameraName"] == "Main entrance"
    assert body["meta"]["total"] == 2


def test_history_of_nobody_is_404(admin_client):
    response = admin_client.get("/api/v1/history/person/EMP-NOBODY")

    assert response.status_code == 404


def test_events_to_a_bare_date_include_that_whole_day(admin_client, camera):
    for day in (3, 4, 5):
        DetectionEventLogFactory(
            camera=camera, timestamp=dt.datetime(2025, 11, day, 10, 24, tzinfo=dt.UTC), status="received"
        )

    body = admin_client.get("/api/v1/detections/events", {"from": "2025-11-04", "to": "2025-11-04"}).json()

    assert [row["timestamp"][:10] for row in body["data"]] == ["2025-11-04"]


def test_person_history_takes_date_from_as_001_spells_it(admin_client, camera):
    person = FaceProfileFactory(employee_id="EMP-00412", name="Sophia Martinez")
    DetectionFactory(camera=camera, timestamp=timezone.now() - timedelta(days=3), profile=person)
    recent = DetectionFactory(camera=camera, timestamp=timezone.now(), profile=person)

    since = (timezone.now() - timedelta(days=1)).isoformat()
    body = admin_client.get("/api/v1/history/person/EMP-00412", {"dateFrom": since}).json()

    assert [row["id"] for row in body["data"]] == [str(recent.id)]


def test_send_frame_while_the_provider_is_disabled_is_409(admin_client, camera):
    DetectionProviderConfig.objects.update_or_create(id=1, defaults={"enabled": False})

    response = admin_client.post("/api/v1/detections/send-frame", {"cameraId": "CAM-01"}, format="json")

    assert response.status_code == 409
    assert not DetectionEventLog.objects.exists()


def test_changing_only_the_timeout_keeps_the_providers_known_health(admin_client):
    DetectionProviderConfig.objects.update_or_create(id=1, defaults={"status": "connected"})

    data = admin_client.put("/api/v1/detections/provider/config", {"timeoutSeconds": 5}, format="json").json()["data"]

    assert data["status"] == "connected" and data["timeoutSeconds"] == 5


def test_a_new_endpoint_makes_the_providers_health_unknown(admin_client):
    DetectionProviderConfig.objects.update_or_create(id=1, defaults={"status": "connected"})

    data = admin_client.put(
        "/api/v1/detections/provider/config", {"kind": "http", "endpoint": "http://127.0.0.1:9/detect"}, format="json"
    ).json()["data"]

    assert data["status"] == "offline"


# --- Query counts: each list costs the same with N and 2N rows -------------------------------------


@pytest.mark.parametrize("count", [5, 10])
def test_live_detections_cost_the_same_queries_however_many(admin_client, camera, count, django_assert_max_num_queries):
    for number in range(count):
        DetectionFactory(camera=camera, profile=FaceProfileFactory(), thumbnail=f"detections/{number}.jpg")

    with django_assert_max_num_queries(3):
        body = admin_client.get("/api/v1/detections/live").json()

    assert len(body["data"]) == count


def test_a_cached_live_read_costs_no_query(admin_client, camera, django_assert_num_queries):
    DetectionFactory(camera=camera)
    # The first call reads the list and records the user's activity, which makes the second read the user again.
    admin_client.get("/api/v1/detections/live")
    admin_client.get("/api/v1/detections/live")

    with django_assert_num_queries(0):
        body = admin_client.get("/api/v1/detections/live").json()

    assert len(body["data"]) == 1


def test_a_live_read_after_a_new_detection_lists_it(admin_client, camera, django_capture_on_commit_callbacks):
    admin_client.get("/api/v1/detections/live")  # this process now keeps the empty list
    answer = ProviderAnswer(
        faces=[ProvidedFace(box={"top": 0, "left": 0, "width": 10, "height": 10}, confidence=55.0)], latency_ms=5
    )
    with django_capture_on_commit_callbacks(execute=True):
        detections.record_detections(camera, np.zeros((40, 40, 3), dtype=np.uint8), answer)

    assert len(admin_client.get("/api/v1/detections/live").json()["data"]) == 1


def test_a_detection_stored_by_another_process_is_in_the_next_live_read(admin_client, camera):
    assert admin_client.get("/api/v1/detections/live").json()["data"] == []  # this process keeps the empty list
    DetectionFactory(camera=camera, name="From the worker")  # the other process's row, its commit not announced
    assert admin_client.get("/api/v1/detections/live").json()["data"] == []  # kept: no announcement yet

    bump_from_another_process("recognition:live")

    assert [row["name"] for row in admin_client.get("/api/v1/detections/live").json()["data"]] == ["From the worker"]


def test_a_live_list_computed_before_a_commit_is_not_served_after_it(
    admin_client, camera, monkeypatch, django_capture_on_commit_callbacks
):
    rows_of = detections._live_rows

    def read_while_a_detection_commits(camera_id, limit):
        rows = rows_of(camera_id, limit)
        # A detection commits after the reader read the stamp and the rows, before it keeps its (stale) list.
        with django_capture_on_commit_callbacks(execute=True):
            detections.record_detections(
                camera,
                np.zeros((40, 40, 3), dtype=np.uint8),
                ProviderAnswer(
                    faces=[ProvidedFace(box={"top": 0, "left": 0, "width": 10, "height": 10}, confidence=55.0)],
                    latency_ms=5,
                ),
            )
        return rows

    monkeypatch.setattr(detections, "_live_rows", read_while_a_detection_commits)
    assert admin_client.get("/api/v1/detections/live").json()["data"] == []
    monkeypatch.setattr(detections, "_live_rows", rows_of)

    assert len(admin_client.get("/api/v1/detections/live").json()["data"]) == 1


def test_a_kept_list_keeps_its_rendered_body_and_is_indented_when_asked(admin_client, camera):
    DetectionFactory.create_batch(2, camera=camera)
    compact = admin_client.get("/api/v1/detections/live").content
    again = admin_client.get("/api/v1/detections/live").content
    indented = admin_client.get("/api/v1/detections/live", HTTP_ACCEPT="application/json; indent=2").content

    assert again == compact and b"\n" not in compact
    assert b"\n" in indented and json.loads(indented) == json.loads(compact)


def test_bad_live_parameters_are_refused_every_time(admin_client, camera):
    for _ in range(2):
        assert admin_client.get("/api/v1/detections/live", {"limit": 0}).status_code == 400
    assert admin_client.get("/api/v1/detections/live", {"limit": 1, "cameraId": "CAM-01"}).status_code == 200


def test_a_kept_live_list_is_still_refused_without_the_read_permission(admin_client, camera):
    DetectionFactory(camera=camera)
    assert len(admin_client.get("/api/v1/detections/live").json()["data"]) == 1  # kept by this process

    assert role_client("ROLE-NO-DETECTIONS", ["cameras:read"]).get("/api/v1/detections/live").status_code == 403
    assert APIClient().get("/api/v1/detections/live").status_code == 401


def test_the_same_kept_list_answers_every_reader_with_the_same_body(admin_client, camera):
    DetectionFactory.create_batch(3, camera=camera, thumbnail="detections/a.jpg")
    first = admin_client.get("/api/v1/detections/live")
    other = role_client("ROLE-DETECTIONS", ["detections:read"]).get("/api/v1/detections/live")

    assert first.status_code == other.status_code == 200
    assert first.content == other.content
    assert first.content == admin_client.get("/api/v1/detections/live").content


@pytest.mark.parametrize("count", [5, 10])
def test_events_cost_the_same_queries_however_many(admin_client, camera, count, django_assert_max_num_queries):
    DetectionEventLogFactory.create_batch(count, camera=camera)

    with django_assert_max_num_queries(4):
        body = admin_client.get("/api/v1/detections/events").json()

    assert body["meta"]["total"] == count and all(row["cameraName"] for row in body["data"])


@pytest.mark.parametrize("count", [5, 10])
def test_person_history_costs_the_same_queries_however_many(admin_client, camera, count, django_assert_max_num_queries):
    person = FaceProfileFactory(employee_id="EMP-00412")
    DetectionFactory.create_batch(count, camera=camera, profile=person)

    with django_assert_max_num_queries(6):  # one of them writes the read's audit entry
        body = admin_client.get("/api/v1/history/person/EMP-00412").json()

    assert body["meta"]["total"] == count and all(row["cameraName"] for row in body["data"])
