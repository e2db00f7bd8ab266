"""001 alerts: ``GET /alerts`` with filters and pages, acknowledge, mute, delete, and the audit trail."""

from __future__ import annotations

import pytest

from accounts.models import AuditLog
from cameras.models import Alert, Camera
from tests.factories import AlertFactory, CameraFactory

pytestmark = pytest.mark.django_db

ALERTS = "/api/v1/alerts"


@pytest.fixture
def alerts(db) -> list[Alert]:
    lobby = CameraFactory(id="CAM-01", name="Lobby", enabled=False)
    yard = CameraFactory(id="CAM-02", name="Yard", enabled=False)
    return [
        AlertFactory(id="ALERT-1", minutes_ago=1, level="high", camera=lobby, tags=["camera", "offline"]),
        AlertFactory(id="ALERT-2", minutes_ago=2, level="low", camera=yard, acknowledged=True),
        AlertFactory(id="ALERT-3", minutes_ago=3, level="critical", camera=lobby),
        AlertFactory(id="ALERT-4", minutes_ago=4, level="high", acknowledged=True),
        AlertFactory(id="ALERT-5", minutes_ago=5, level="medium", camera=yard, muted=True),
    ]


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["data"]]


def audit_entries(action: str, resource_id: str):
    return AuditLog.objects.filter(action=action, resource_type="alert", resource_id=resource_id)


# --- Listing ---------------------------------------------------------------------------------------


def test_list_answers_newest_first_in_001_shape(viewer_client, alerts, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        response = viewer_client.get(ALERTS)
    assert ids(response) == ["ALERT-1", "ALERT-2", "ALERT-3", "ALERT-4", "ALERT-5"]
    first = response.json()["data"][0]
    assert first["cameraId"] == "CAM-01"
    assert first["level"] == "high"
    assert first["tags"] == ["camera", "offline"]
    assert (first["acknowledged"], first["muted"], first["resolvedAt"]) == (False, False, None)
    assert first["timestamp"]
    assert response.json()["meta"] == {"page": 1, "pageSize": 20, "total": 5, "totalPages": 1}


def test_list_query_count_does_not_grow_with_the_alerts(viewer_client, alerts, django_assert_max_num_queries):
    camera = Camera.objects.get(pk="CAM-01")
    for number in range(6, 40):
        AlertFactory(id=f"ALERT-{number}", minutes_ago=number, camera=camera)
    with django_assert_max_num_queries(6):
        response = viewer_client.get(ALERTS, {"pageSize": 100})
    assert len(response.json()["data"]) == 39


def test_list_filters_by_level(viewer_client, alerts):
    assert ids(viewer_client.get(ALERTS, {"level": "high"})) == ["ALERT-1", "ALERT-4"]


def test_list_refuses_an_unknown_level(viewer_client, alerts):
    response = viewer_client.get(ALERTS, {"level": "apocalyptic"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_list_filters_by_acknowledged(viewer_client, alerts):
    assert ids(viewer_client.get(ALERTS, {"acknowledged": "true"})) == ["ALERT-2", "ALERT-4"]
    assert ids(viewer_client.get(ALERTS, {"acknowledged": "false"})) == ["ALERT-1", "ALERT-3", "ALERT-5"]


def test_list_filters_by_camera_id(viewer_client, alerts):
    assert ids(viewer_client.get(ALERTS, {"cameraId": "CAM-02"})) == ["ALERT-2", "ALERT-5"]


def test_list_combines_filters(viewer_client, alerts):
    assert ids(viewer_client.get(ALERTS, {"cameraId": "CAM-01", "level": "critical"})) == ["ALERT-3"]


def test_list_pages(viewer_client, alerts):
    response = viewer_client.get(ALERTS, {"page": 2, "pageSize": 2})
    assert ids(response) == ["ALERT-3", "ALERT-4"]
    assert response.json()["meta"] == {"page": 2, "pageSize": 2, "total": 5, "totalPages": 3}


def test_list_refuses_page_zero(viewer_client, alerts):
    response = viewer_client.get(ALERTS, {"page": 0})
    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "page"


def test_list_needs_authentication(api_client, alerts):
    assert api_client.get(ALERTS).status_code == 401


# --- Acknowledge ------------------------------------------------------------------------------------


def test_acknowledge_marks_the_alert_acknowledged(operator_client, alerts):
    response = operator_client.post(f"{ALERTS}/ALERT-1/acknowledge")
    assert response.status_code == 200
    assert response.json()["data"]["acknowledged"] is True
    assert Alert.objects.get(pk="ALERT-1").acknowledged is True


def test_acknowledge_is_audited(operator_client, alerts):
    operator_client.post(f"{ALERTS}/ALERT-1/acknowledge")
    entry = audit_entries("alert.acknowledge", "ALERT-1").get()
    assert entry.actor == "operator@example.com"
    assert entry.context["status"] == 200


def test_viewer_cannot_acknowledge(viewer_client, alerts):
    response = viewer_client.post(f"{ALERTS}/ALERT-1/acknowledge")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "AUTH_003"
    assert Alert.objects.get(pk="ALERT-1").acknowledged is False


def test_a_refused_acknowledge_is_audited_as_a_warning(viewer_client, alerts):
    viewer_client.post(f"{ALERTS}/ALERT-1/acknowledge")
    entry = audit_entries("alert.acknowledge", "ALERT-1").get()
    assert (entry.actor, entry.severity, entry.context["status"]) == ("viewer@example.com", "warning", 403)


def test_acknowledge_unknown_alert_is_404(operator_client, alerts):
    response = operator_client.post(f"{ALERTS}/ALERT-404/acknowledge")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


# --- Mute --------------------------------------------------------------------------------------------


def test_mute_without_a_body_mutes(operator_client, alerts):
    response = operator_client.post(f"{ALERTS}/ALERT-1/mute")
    assert response.status_code == 200
    assert response.json()["data"]["muted"] is True
    assert Alert.objects.get(pk="ALERT-1").muted is True


def test_mute_with_muted_false_unmutes(operator_client, alerts):
    response = operator_client.post(f"{ALERTS}/ALERT-5/mute", {"muted": False}, format="json")
    assert response.status_code == 200
    assert response.json()["data"]["muted"] is False
    assert Alert.objects.get(pk="ALERT-5").muted is False


def test_mute_with_a_non_boolean_is_refused(operator_client, alerts):
    response = operator_client.post(f"{ALERTS}/ALERT-1/mute", {"muted": "sometimes"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "muted"
    assert Alert.objects.get(pk="ALERT-1").muted is False


def test_mute_is_audited(operator_client, alerts):
    operator_client.post(f"{ALERTS}/ALERT-1/mute")
    assert audit_entries("alert.mute", "ALERT-1").count() == 1


def test_viewer_cannot_mute(viewer_client, alerts):
    assert viewer_client.post(f"{ALERTS}/ALERT-1/mute").status_code == 403
    assert Alert.objects.get(pk="ALERT-1").muted is False


def test_mute_unknown_alert_is_404(operator_client, alerts):
    assert operator_client.post(f"{ALERTS}/ALERT-404/mute").status_code == 404


# --- Delete ------------------------------------------------------------------------------------------


def test_delete_removes_the_alert(operator_client, alerts):
    response = operator_client.delete(f"{ALERTS}/ALERT-2")
    assert response.status_code == 204
    assert not Alert.objects.filter(pk="ALERT-2").exists()


def test_delete_is_audited(operator_client, alerts):
    operator_client.delete(f"{ALERTS}/ALERT-2")
    entry = audit_entries("alert.destroy", "ALERT-2").get()
    assert entry.context == {"method": "DELETE", "path": f"{ALERTS}/ALERT-2", "status": 204}


def test_viewer_cannot_delete(viewer_client, alerts):
    assert viewer_client.delete(f"{ALERTS}/ALERT-2").status_code == 403
    assert Alert.objects.filter(pk="ALERT-2").exists()


def test_delete_unknown_alert_is_404(operator_client, alerts):
    assert operator_client.delete(f"{ALERTS}/ALERT-404").status_code == 404
