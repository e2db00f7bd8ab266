"""POST /face-service/api/v1/recognition/process-session: every refusal 004 lists, and a start against a real
RTSP camera (the scan chains themselves run in test_session_end_to_end.py)."""

from __future__ import annotations

import copy

import pytest
from rest_framework.test import APIClient

from recognition.face_service.choices import SessionCameraStatus, SessionStatus
from recognition.face_service.vision import session_camera_demands
from recognition.models import RecognitionSession, SessionCamera, SessionStudent
from tests.recognition.face_service.conftest import BASE, session_payload

pytestmark = pytest.mark.django_db

CALLBACK = "http://127.0.0.1:9/api/v1/attendance/recognition-result"
URL = f"{BASE}/recognition/process-session"
VECTOR = [0.01] * 128  # Dlib's; session_payload lifts them to 004's 512, as the caller holds them
EMBEDDINGS = {201: VECTOR, 202: [0.02] * 128}


@pytest.fixture
def body() -> dict:
    return session_payload(EMBEDDINGS, ["rtsp://127.0.0.1:1/none.mp4"], CALLBACK)


def refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    payload = response.json()
    assert payload["status"] == status
    assert payload["code"] == code
    assert payload["message"]
    return payload


def test_it_requires_an_api_key(body):
    payload = refused(APIClient().post(URL, body, format="json"), 401, "INVALID_API_KEY")
    assert payload["message"] == "Invalid or missing API key"


def test_a_slot_id_beyond_bigint_is_a_400_not_a_database_error(post, body):
    body["slotId"] = 10**20
    refused(post("recognition/process-session", body), 400, "VALIDATION_ERROR")


def test_a_scan_interval_beyond_integer_is_a_400(post, body):
    body["config"]["scanInterval"] = 2**40
    assert post("recognition/process-session", body).status_code == 400


def test_it_requires_the_slot_id(post, body):
    del body["slotId"]
    payload = refused(post("recognition/process-session", body), 400, "SLOT_ID_REQUIRED")
    assert payload["message"] == "Slot ID is required"


def test_it_requires_the_students(post, body):
    del body["students"]
    payload = refused(post("recognition/process-session", body), 400, "STUDENTS_REQUIRED")
    assert payload["message"] == "Students array is required"


def test_it_requires_the_cameras(post, body):
    del body["cameras"]
    payload = refused(post("recognition/process-session", body), 400, "CAMERAS_REQUIRED")
    assert payload["message"] == "Cameras array is required"


def test_it_refuses_empty_students(post, body):
    body["students"] = []
    payload = refused(post("recognition/process-session", body), 400, "STUDENTS_EMPTY")
    assert payload["message"] == "Students array must not be empty"


def test_it_refuses_empty_cameras(post, body):
    body["cameras"] = []
    payload = refused(post("recognition/process-session", body), 400, "CAMERAS_EMPTY")
    assert payload["message"] == "Cameras array must not be empty"


def test_it_refuses_an_embedding_of_the_wrong_dimension(post, body):
    body["students"][1]["embeddingVector"] = [0.1] * 128  # the Dlib model's own size, not 004's
    payload = refused(post("recognition/process-session", body), 400, "INVALID_EMBEDDING_DIMENSION")
    assert payload["message"] == "Embedding vector must have exactly 512 dimensions"
    assert payload["errors"][0]["field"] == "students.1.embeddingVector"


def test_it_refuses_a_512_vector_that_did_not_come_from_the_lift(post, body):
    body["students"][1]["embeddingVector"] = [0.1] * 512  # 004's size, but not [128 of Dlib's, then zeros]
    payload = refused(post("recognition/process-session", body), 400, "INVALID_EMBEDDING_DIMENSION")
    assert "was not made here" in payload["message"]
    assert payload["errors"][0]["field"] == "students.1.embeddingVector"


def test_a_512_dimension_model_takes_any_512_vector(post, body, monkeypatch):
    from recognition.engine import FaceEngine

    monkeypatch.setattr(FaceEngine, "dimension", property(lambda self: 512))
    monkeypatch.setattr(FaceEngine, "ensure_weights", lambda self: None)
    body["students"][1]["embeddingVector"] = [0.1] * 512
    body["students"][0]["embeddingVector"] = [0.1] * 128
    payload = refused(post("recognition/process-session", body), 400, "INVALID_EMBEDDING_DIMENSION")
    assert payload["errors"][0]["field"] == "students.0.embeddingVector"


@pytest.mark.parametrize("threshold", [1.2, -0.1, "high"])
def test_it_refuses_a_similarity_threshold_outside_zero_to_one(post, body, threshold):
    body["config"]["similarityThreshold"] = threshold
    payload = refused(post("recognition/process-session", body), 400, "INVALID_SIMILARITY_THRESHOLD")
    assert payload["message"] == "Similarity threshold must be between 0.0 and 1.0"


def test_it_requires_a_callback_url(post, body):
    del body["config"]["callbackUrl"]
    refused(post("recognition/process-session", body), 400, "CALLBACK_URL_REQUIRED")


def test_it_refuses_a_callback_url_that_is_not_http(post, body):
    body["config"]["callbackUrl"] = "ftp://127.0.0.1/results"
    refused(post("recognition/process-session", body), 400, "INVALID_CALLBACK_URL")


def test_it_refuses_a_camera_url_that_is_not_rtsp(post, body):
    body["cameras"][0]["rtspUrl"] = "file:///etc/passwd"
    payload = refused(post("recognition/process-session", body), 400, "INVALID_RTSP_URL")
    assert payload["errors"][0]["field"] == "cameras.0.rtspUrl"


def test_it_refuses_a_student_without_a_name(post, body):
    del body["students"][0]["fullName"]
    payload = refused(post("recognition/process-session", body), 400, "VALIDATION_ERROR")
    assert payload["errors"][0]["field"] == "students.0.fullName"


def test_it_refuses_the_same_student_twice(post, body):
    body["students"].append(copy.deepcopy(body["students"][0]))
    refused(post("recognition/process-session", body), 400, "VALIDATION_ERROR")


def test_it_refuses_a_scan_interval_under_one_second(post, body):
    body["config"]["scanInterval"] = 0
    refused(post("recognition/process-session", body), 400, "INVALID_SCAN_INTERVAL")


def test_it_refuses_when_no_camera_connects_and_stores_nothing(post, body, dead_stream):
    body["cameras"] = [{"id": 1, "name": "Dead", "rtspUrl": dead_stream}]
    payload = refused(post("recognition/process-session", body), 500, "ALL_CAMERAS_FAILED")
    assert payload["message"] == "Failed to connect to any camera. Cannot start session."
    assert not RecognitionSession.objects.exists()


def test_it_starts_a_session_with_the_cameras_that_connect(post, student_embeddings, classroom_stream, dead_stream):
    body = session_payload(student_embeddings, [classroom_stream, dead_stream], CALLBACK, scanInterval=2)
    response = post("recognition/process-session", body)
    assert response.status_code == 200, response.content
    payload = response.json()
    assert payload["status"] == 200
    assert payload["message"] == "Face recognition session started successfully"
    data = payload["data"]
    started_at = data.pop("sessionStartedAt")
    assert started_at.endswith("Z") and "T" in started_at
    assert data == {
        "slotId": 1,
        "roomId": 1,
        "totalStudents": 3,
        "totalCameras": 2,
        "activeCameras": 1,
        "failedCameras": 1,
        "config": {"similarityThreshold": 0.85, "scanInterval": 2},
    }
    session = RecognitionSession.objects.get()
    assert session.status == SessionStatus.ACTIVE
    assert SessionStudent.objects.filter(session=session).count() == 3
    cameras = {c.camera_id: c for c in SessionCamera.objects.filter(session=session)}
    assert cameras[1].status == SessionCameraStatus.ACTIVE
    assert (cameras[1].width, cameras[1].height) == (960, 360)
    assert cameras[2].status == SessionCameraStatus.FAILED and cameras[2].error == "Connection refused"
    # the vision workers are asked for the camera that answered only
    assert [demand.id for demand in session_camera_demands()] == [str(cameras[1].pk)]


def test_it_keeps_the_camera_password_encrypted_at_rest(post, student_embeddings, classroom_stream):
    from django.db import connection

    url = classroom_stream.replace("rtsp://", "rtsp://admin:s3cret-pass@")
    post("recognition/process-session", session_payload(student_embeddings, [url], CALLBACK))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT rtsp_url FROM {SessionCamera._meta.db_table}")
        stored = cursor.fetchone()[0]
    assert "s3cret-pass" not in stored
    assert SessionCamera.objects.get().rtsp_url == url


def test_a_second_session_of_a_slot_is_a_conflict(post, student_embeddings, classroom_stream):
    body = session_payload(student_embeddings, [classroom_stream], CALLBACK)
    assert post("recognition/process-session", body).status_code == 200
    payload = refused(post("recognition/process-session", body), 409, "SESSION_ALREADY_EXISTS")
    assert payload["message"] == "Face recognition session already exists for slot 1"
    assert RecognitionSession.objects.count() == 1


def test_a_stopped_slot_can_start_again(post, student_embeddings, classroom_stream):
    body = session_payload(student_embeddings, [classroom_stream], CALLBACK)
    assert post("recognition/process-session", body).status_code == 200
    assert post("recognition/stop-session", {"slotId": 1}).status_code == 200
    assert post("recognition/process-session", body).status_code == 200
    assert RecognitionSession.objects.filter(status=SessionStatus.ACTIVE).count() == 1


def test_it_refuses_a_session_over_the_concurrent_limit(post, student_embeddings, classroom_stream, settings):
    settings.FACE_SERVICE_MAX_SESSIONS = 1
    first = post("recognition/process-session", session_payload(student_embeddings, [classroom_stream], CALLBACK))
    assert first.status_code == 200
    body = session_payload(student_embeddings, [classroom_stream], CALLBACK)
    body["slotId"] = 2
    refused(post("recognition/process-session", body), 503, "MAX_SESSIONS_REACHED")


@pytest.mark.parametrize("cameras", [2, 4])
def test_starting_costs_the_same_queries_however_many_cameras_and_students(
    post, classroom_stream, cameras, django_assert_max_num_queries
):
    body = session_payload({}, [classroom_stream] * cameras, CALLBACK)
    body["students"] = [
        {
            "userId": 300 + number,
            "fullName": f"Student {number}",
            "rollNumber": f"HE{300 + number}",
            "embeddingVector": [0.01 * (number + 1)] * 128 + [0.0] * 384,  # lifted to 004's 512
            "embeddingVersion": 1,
        }
        for number in range(3 * cameras)
    ]

    with django_assert_max_num_queries(11):  # cameras and students are written in one INSERT each
        response = post("recognition/process-session", body)

    assert response.json()["data"]["activeCameras"] == cameras
