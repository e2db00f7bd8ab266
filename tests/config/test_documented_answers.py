"""Issue 17: the OpenAPI document describes what each family sends. Every answer these calls receive, success
and refusal alike, is held against the document (``documented_responses``: its status documented for the
operation, its body valid against the schema documented for that status, objects closed to fields the
document does not name). ``pytest --documented`` does the same for every test of the suite."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.conftest import client_for, key_client
from tests.documented import openapi, response_problems
from tests.factories import (
    AttendanceLogFactory,
    CameraFactory,
    DetectionEventLogFactory,
    FaceProfileFactory,
    NotificationFactory,
    PlateEventFactory,
    ShiftScheduleFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(db):
    return client_for(UserFactory(role_id="ROLE-ADMIN", is_staff=True, is_superuser=True))


@pytest.fixture
def viewer(db):
    return client_for(UserFactory(role_id="ROLE-VIEWER"))


@pytest.fixture
def camera(db):
    return CameraFactory(id="CAM-01", name="Lobby", stream_url="")


def test_the_spa_answers_what_is_documented(documented_responses, admin, viewer, camera):
    FaceProfileFactory(employee_id="EMP-1", name="Grace Hopper")
    NotificationFactory()
    AttendanceLogFactory(check_in=None)
    ShiftScheduleFactory()
    DetectionEventLogFactory()
    anonymous = APIClient()
    manual = {"employeeId": "EMP-1", "timestamp": "2025-11-05T03:00:00Z", "status": "present"}

    answers = [
        admin.get("/api/v1/auth/me"),
        admin.get("/api/v1/cameras"),  # a camera never probed: resolution null
        admin.get(f"/api/v1/cameras/{camera.pk}"),
        admin.get("/api/v1/cameras/CAM-NONE"),
        admin.post("/api/v1/cameras", {"name": "Gate", "streamType": "RTSP"}, format="json"),
        admin.post(f"/api/v1/cameras/{camera.pk}/test-connection"),  # no stream URL: a configuration error
        admin.post(f"/api/v1/cameras/{camera.pk}/snapshot"),
        admin.get("/api/v1/cameras/summary"),
        admin.get("/api/v1/notifications"),
        admin.get("/api/v1/detections/events"),
        admin.get("/api/v1/detections/provider/config"),
        admin.get("/api/v1/odoo/logs"),
        admin.get("/api/v1/shifts"),
        admin.get("/api/v1/attendance/logs"),
        admin.get("/api/v1/attendance/records"),
        admin.post("/api/v1/attendance/manual", manual, format="json"),  # 201: the day's new log
        admin.post("/api/v1/attendance/manual", manual, format="json"),  # 200: the same day corrected
        admin.post("/api/v1/attendance/manual", {"employeeId": "EMP-1"}, format="json"),  # 400
        admin.get("/api/v1/system/summary"),
        admin.get("/api/v1/system/health/services"),
        admin.get("/api/v1/users", {"page": "abc"}),  # 400
        viewer.post("/api/v1/users", {"name": "X", "email": "x@example.com", "roleId": "ROLE-VIEWER"}, format="json"),
        anonymous.get("/api/v1/cameras"),  # 401
    ]

    assert {answer.status_code for answer in answers} >= {200, 201, 400, 401, 403, 404, 409}
    assert documented_responses.checked == len(answers)
    assert documented_responses.problems == []


def test_the_counting_backend_answers_what_is_documented(documented_responses, admin, camera):
    answers = [
        admin.get("/api/v2/cameras"),
        admin.get("/api/v2/cameras", {"limit": "0"}),  # 422
        admin.get("/api/v1/counts/analytics"),
        admin.get("/api/v1/cameras/CAM-NONE/counts"),  # 404 CAMERA_NOT_FOUND
        APIClient().get("/api/v2/cameras"),  # 401
    ]

    assert {answer.status_code for answer in answers} >= {200, 401, 404, 422}
    assert documented_responses.checked == len(answers)
    assert documented_responses.problems == []


def test_the_gateway_answers_what_is_documented(documented_responses, admin):
    answers = [
        admin.get("/api/v1/health"),
        admin.get("/api/v1/rate-limit/status"),
        admin.get("/api/v1/stats/usage", {"timeRange": "forever"}),  # 400
        APIClient().get("/api/v1/rate-limit/status"),  # 401
    ]

    assert {answer.status_code for answer in answers} >= {200, 400, 401}
    assert documented_responses.checked == len(answers)
    assert documented_responses.problems == []


def test_the_anpr_engine_answers_what_is_documented(documented_responses, admin):
    event = PlateEventFactory()
    reader = key_client("anpr:read")
    answers = [
        reader.get("/events"),
        reader.get(f"/events/{event.event_id}"),
        reader.get("/events/evt-none"),  # 404
        reader.get("/events/stats"),
        admin.get("/config/cameras"),
        admin.post("/config/cameras", {"name": ""}, format="json"),  # 400
        reader.post("/config/cameras", {"name": "Gate"}, format="json"),  # 403
        APIClient().get("/healthz"),
        APIClient().post("/auth/token", {"username": "nobody", "password": "wrong"}, format="json"),  # 401
    ]

    assert {answer.status_code for answer in answers} >= {200, 400, 401, 403, 404}
    assert documented_responses.checked == len(answers)
    assert documented_responses.problems == []


def test_the_face_service_answers_what_is_documented(documented_responses):
    service = key_client("face-service")
    answers = [
        service.get("/face-service/api/v1/health"),
        service.get("/face-service/api/v1/metrics"),
        service.post("/face-service/api/v1/embeddings/generate", {}, format="json"),  # 400
        key_client("anpr:read").get("/face-service/api/v1/metrics"),  # 401: a key without the scope
        APIClient().get("/face-service/api/v1/metrics"),  # 401
    ]

    assert {answer.status_code for answer in answers} >= {200, 400, 401}
    assert documented_responses.checked == len(answers)
    assert documented_responses.problems == []


# --- The guard itself ---------------------------------------------------------------------------------------


def test_an_undocumented_status_is_a_problem():
    problems = response_problems("GET", "/api/v1/cameras/CAM-01", 418, "application/json", b"{}")

    assert problems == [
        "GET /api/v1/cameras/{id}: 418 is not documented (only "
        + ", ".join(sorted(openapi()["paths"]["/api/v1/cameras/{id}"]["get"]["responses"]))
        + ")"
    ]


def test_a_body_the_schema_refuses_is_a_problem():
    body = b'{"success": true, "data": {"camera_id": "CAM-01"}}'

    problems = response_problems("GET", "/api/v1/cameras/CAM-01", 200, "application/json", body)

    assert "GET /api/v1/cameras/{id} 200: data: Additional properties are not allowed ('camera_id' was unexpected)" in (
        problems
    )


def test_a_relative_link_is_not_an_absolute_uri():
    from tests.documented import FORMATS

    assert FORMATS.conforms("https://files.example.com/a.jpg", "uri")
    assert not FORMATS.conforms("/files/a.jpg?signature=x", "uri")


def test_a_path_the_document_does_not_name_is_not_its_business():
    assert response_problems("GET", "/dashboard/", 200, "text/html", b"<html>") == []
