"""GET health (public) and metrics (counted from what the service did)."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from rest_framework.test import APIClient

from recognition.face_service.choices import SessionCameraStatus
from recognition.models import SessionCamera
from tests.recognition.face_service.conftest import BASE
from tests.recognition.face_service.factories import add_results, make_session

pytestmark = pytest.mark.django_db


def test_health_is_public_and_counts_active_sessions(db):
    make_session(slot_id=1)
    make_session(slot_id=2)
    response = APIClient().get(f"{BASE}/health")
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Service is healthy"
    data = body["data"]
    assert data["service"] == "FUACS Face Recognition Service"
    assert (data["version"], data["status"], data["activeSessions"]) == ("1.0.0", "healthy", 2)
    assert isinstance(data["uptime"], int) and data["uptime"] >= 0
    assert data["timestamp"].endswith("Z")


def test_health_is_degraded_without_the_face_engine_weights(db, settings, tmp_path):
    settings.DEEPFACE_HOME = tmp_path / "empty-home"
    settings.ARGUS_FACE_MODEL = "ArcFace"  # its weights ship with no package, so they are absent here
    body = APIClient().get(f"{BASE}/health").json()
    assert body["data"]["status"] == "degraded"
    assert "Face engine weights unavailable" in body["message"]


def test_metrics_require_an_api_key(db):
    response = APIClient().get(f"{BASE}/metrics")
    assert (response.status_code, response.json()["code"]) == (401, "INVALID_API_KEY")


def test_metrics_count_sessions_recognitions_and_cameras(client):
    session = make_session(slot_id=1)
    make_session(slot_id=2)
    add_results(session, 3, similarity=0.9)
    SessionCamera.objects.filter(session=session).update(
        frames_processed=10, processing_seconds=2.0, faces_detected=8, faces_matched=6
    )
    SessionCamera.objects.create(
        session=session, camera_id=2, name="Broken", rtsp_url="rtsp://x/y", status=SessionCameraStatus.FAILED
    )
    body = client.get(f"{BASE}/metrics").json()
    assert body["message"] == "Metrics retrieved successfully"
    data = body["data"]
    assert data["service"]["activeSessions"] == 2
    assert data["service"]["totalSessionsToday"] == 2
    assert data["recognition"] == {
        "totalRecognitions": 3,
        "averageConfidence": 0.9,
        "averageProcessingTime": 0.2,
        "recognitionRate": 0.75,
    }
    assert data["cameras"] == {"totalCameras": 3, "activeCameras": 2, "failedCameras": 1, "averageFrameRate": 10.0}


def test_metrics_count_embedding_generations(client, post, videos):
    stored = "/" + default_storage.save("uploads/v.mp4", ContentFile(videos["enrolment"].read_bytes()))
    post("embeddings/generate", {"videoUrl": stored, "submissionId": 1})
    post("embeddings/generate", {"videoUrl": "/uploads/absent.mp4", "submissionId": 2})
    embedding = client.get(f"{BASE}/metrics").json()["data"]["embedding"]
    assert embedding["totalGenerated"] == 1
    assert embedding["successRate"] == 0.5
    assert embedding["averageQuality"] >= 0.7
    assert embedding["averageProcessingTime"] > 0


def test_health_timestamp_is_in_whole_seconds(db):
    import re

    timestamp = APIClient().get(f"{BASE}/health").json()["data"]["timestamp"]

    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", timestamp), timestamp


@pytest.mark.parametrize("sessions", [2, 4])
def test_health_and_metrics_cost_the_same_queries_however_many_sessions(
    client, sessions, django_assert_max_num_queries
):
    for slot in range(sessions):
        add_results(make_session(slot_id=slot + 1), 3)

    with django_assert_max_num_queries(1):
        health = APIClient().get(f"{BASE}/health").json()["data"]
    with django_assert_max_num_queries(7):
        metrics = client.get(f"{BASE}/metrics").json()["data"]

    assert health["activeSessions"] == sessions and metrics["recognition"]["totalRecognitions"] == 3 * sessions
