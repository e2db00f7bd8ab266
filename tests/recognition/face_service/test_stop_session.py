"""POST /face-service/api/v1/recognition/stop-session: the summary, and each refusal."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from recognition.face_service.choices import DeliveryStatus, SessionCameraStatus, SessionStatus
from recognition.models import CallbackDelivery, RecognitionResult, SessionCamera
from tests.recognition.face_service.conftest import BASE
from tests.recognition.face_service.factories import add_results, make_session

pytestmark = pytest.mark.django_db


def deliver(results, status=DeliveryStatus.DELIVERED) -> None:
    session = results[0].session
    delivery = CallbackDelivery.objects.create(session=session, status=status, size=len(results), attempts=1)
    RecognitionResult.objects.filter(pk__in=[r.pk for r in results]).update(delivery=delivery)


def test_it_stops_the_session_and_sums_it_up(post):
    session = make_session(slot_id=7, started_ago=1800)
    deliver(add_results(session, 23))
    response = post("recognition/stop-session", {"slotId": 7})
    assert response.status_code == 200, response.content
    payload = response.json()
    assert payload["status"] == 200
    assert payload["message"] == "Face recognition session stopped successfully"
    data = payload["data"]
    assert data["slotId"] == 7
    assert data["totalRecognitions"] == 23
    assert 1800 <= data["sessionDuration"] <= 1810
    assert data["sessionStoppedAt"].endswith("Z")
    session.refresh_from_db()
    assert session.status == SessionStatus.STOPPED
    assert session.stopped_at <= timezone.now()


def test_its_cameras_are_no_longer_watched(post):
    from recognition.face_service.vision import session_camera_demands

    session = make_session()
    assert len(list(session_camera_demands())) == 1
    post("recognition/stop-session", {"slotId": 1})
    camera = SessionCamera.objects.get(session=session)
    assert camera.status == SessionCameraStatus.STOPPED
    assert list(session_camera_demands()) == []


def test_recognitions_not_yet_delivered_are_not_counted_as_sent(post):
    session = make_session()
    results = add_results(session, 3)
    deliver(results[:1])
    deliver(results[1:2], status=DeliveryStatus.FAILED)
    response = post("recognition/stop-session", {"slotId": 1})
    assert response.json()["data"]["totalRecognitions"] == 1


def test_it_requires_the_slot_id(post):
    response = post("recognition/stop-session", {})
    assert response.status_code == 400
    assert response.json() == {
        "status": 400,
        "message": "Slot ID is required",
        "code": "SLOT_ID_REQUIRED",
        "errors": [{"field": "slotId", "message": "Slot ID is required"}],
    }


def test_a_slot_without_a_session_is_not_found(post):
    response = post("recognition/stop-session", {"slotId": 1})
    assert response.status_code == 404
    assert response.json() == {
        "status": 404,
        "message": "No active face recognition session found for slot 1",
        "code": "SESSION_NOT_FOUND",
    }


def test_a_stopped_session_cannot_be_stopped_twice(post):
    make_session()
    assert post("recognition/stop-session", {"slotId": 1}).status_code == 200
    assert post("recognition/stop-session", {"slotId": 1}).status_code == 404


def test_it_requires_an_api_key(db):
    make_session()
    response = APIClient().post(f"{BASE}/recognition/stop-session", {"slotId": 1}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "INVALID_API_KEY"


@pytest.mark.parametrize("recognitions", [5, 10])
def test_stopping_costs_the_same_queries_however_many_recognitions(post, recognitions, django_assert_max_num_queries):
    session = make_session(students={201 + number: [0.1] * 128 for number in range(recognitions)})
    results = add_results(session, recognitions)
    deliver(results[: recognitions // 2])

    with django_assert_max_num_queries(11):
        response = post("recognition/stop-session", {"slotId": 1})

    assert response.json()["data"]["totalRecognitions"] == recognitions // 2
