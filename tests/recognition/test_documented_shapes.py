"""Each recognition answer built as a dict (detections, send-frame, the provider test, identify, verify) is
what the OpenAPI document says."""

from __future__ import annotations

import pytest

from tests.documented import assert_documented
from tests.factories import ApiKeyFactory, CameraFactory, DetectionFactory, FaceProfileFactory
from tests.recognition.conftest import enrol, jpeg_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def seen(db):
    camera = CameraFactory(id="CAM-01", name="Main entrance", stream_url="rtsp://127.0.0.1:9/none.mp4")
    profile = FaceProfileFactory(employee_id="EMP-00412", name="Sophia Martinez")
    DetectionFactory(camera=camera, profile=profile, track_id="TRACK-1", thumbnail="detections/x.jpg")
    DetectionFactory(camera=camera)  # someone unknown: the nullable fields
    return camera


def test_live_detections_are_documented(admin_client, seen):
    assert_documented(admin_client.get("/api/v1/detections/live"), "/api/v1/detections/live")


def test_a_persons_history_is_documented(admin_client, seen):
    response = admin_client.get("/api/v1/history/person/EMP-00412")

    assert_documented(response, "/api/v1/history/person/{employee_id}")


def test_send_frame_answers_the_documented_job(admin_client, seen):
    response = admin_client.post("/api/v1/detections/send-frame", {"cameraId": "CAM-01"}, format="json")

    assert_documented(response, "/api/v1/detections/send-frame")


def test_the_provider_test_is_documented(admin_client, http_peer):
    peer = http_peer(answer={"detections": []})
    admin_client.put("/api/v1/detections/provider/config", {"kind": "http", "endpoint": peer.url}, format="json")

    assert_documented(admin_client.post("/api/v1/detections/test-provider"), "/api/v1/detections/test-provider")


def test_an_offline_provider_test_is_documented(admin_client):
    admin_client.put(
        "/api/v1/detections/provider/config", {"kind": "http", "endpoint": "http://127.0.0.1:9/detect"}, format="json"
    )

    assert_documented(admin_client.post("/api/v1/detections/test-provider"), "/api/v1/detections/test-provider")


def test_identify_is_documented(admin_client, astronaut, engine):
    enrol(admin_client, "EMP-100", "Eileen Collins", [jpeg_file(astronaut)])

    response = admin_client.post("/api/v1/faces/identify", {"image": jpeg_file(astronaut)}, format="multipart")

    assert_documented(response, "/api/v1/faces/identify")


def test_identify_of_a_stranger_is_documented(admin_client, astronaut, engine):
    response = admin_client.post("/api/v1/faces/identify", {"image": jpeg_file(astronaut)}, format="multipart")

    assert_documented(response, "/api/v1/faces/identify")


def test_verify_is_documented(admin_client, astronaut, engine):
    response = admin_client.post(
        "/api/v1/faces/verify", {"image1": jpeg_file(astronaut), "image2": jpeg_file(astronaut)}, format="multipart"
    )

    assert_documented(response, "/api/v1/faces/verify")


def test_the_face_service_health_is_documented(api_client):
    assert_documented(api_client.get("/face-service/api/v1/health"), "/face-service/api/v1/health")


def test_the_face_service_metrics_are_documented(api_client):
    api_client.credentials(HTTP_X_API_KEY=ApiKeyFactory(scopes=["face-service"]).raw)

    assert_documented(api_client.get("/face-service/api/v1/metrics"), "/face-service/api/v1/metrics")
