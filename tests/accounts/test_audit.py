"""The audit trail: every mutating API call is written, refused ones too; GET /api/v1/audit reads it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import audit
from accounts.models import AuditLog
from accounts.tokens import issue_tokens
from tests.accounts.conftest import error_code
from tests.conftest import role_client
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

URL = "/api/v1/audit"
NEW_USER = {"name": "Audrey Audit", "email": "audrey@example.com", "roleId": "ROLE-VIEWER"}


def entry(minutes_ago: int = 0, **fields) -> AuditLog:
    defaults = {"actor": "someone@example.com", "action": "camera.update", "message": "changed a camera"}
    logged = audit.record(**{**defaults, **fields})
    if minutes_ago:
        AuditLog.objects.filter(pk=logged.pk).update(timestamp=timezone.now() - timedelta(minutes=minutes_ago))
        logged.refresh_from_db()
    return logged


# --- what is written -------------------------------------------------------------------------------


def test_creating_a_user_writes_an_entry(admin_client):
    response = admin_client.post(
        "/api/v1/users", NEW_USER, format="json", HTTP_USER_AGENT="Mozilla/5.0 (Audit)", REMOTE_ADDR="10.1.2.3"
    )

    assert response.status_code == 201
    logged = AuditLog.objects.get()
    assert logged.actor == "admin@example.com"
    assert logged.actor_role == "ROLE-ADMIN"
    assert logged.action == "user.create"
    assert logged.resource_type == "user"
    assert logged.resource_id == response.json()["data"]["id"]
    assert logged.severity == "info"
    assert logged.ip_address == "10.1.2.3"
    assert logged.user_agent == "Mozilla/5.0 (Audit)"
    assert logged.request_id == response["X-Request-ID"]
    assert logged.context == {"method": "POST", "path": "/api/v1/users", "status": 201}


def test_entry_keeps_the_clients_request_id(admin_client):
    response = admin_client.post("/api/v1/users", NEW_USER, format="json", HTTP_X_REQUEST_ID="client-req-42")

    assert response["X-Request-ID"] == "client-req-42"
    assert AuditLog.objects.get().request_id == "client-req-42"


def test_updating_a_user_names_the_user(admin_client, viewer_user):
    admin_client.put(f"/api/v1/users/{viewer_user.pk}", {"name": "Vera V."}, format="json")

    logged = AuditLog.objects.get()
    assert logged.action == "user.update"
    assert logged.resource_id == str(viewer_user.pk)


def test_deleting_a_user_names_the_user(admin_client, viewer_user):
    admin_client.delete(f"/api/v1/users/{viewer_user.pk}")

    logged = AuditLog.objects.get()
    assert logged.action == "user.destroy"
    assert logged.resource_id == str(viewer_user.pk)
    assert logged.severity == "info"


def test_password_change_is_written(admin_client, viewer_user):
    admin_client.patch(
        f"/api/v1/users/{viewer_user.pk}/password", {"newPassword": "rain-on-tin-roofs-3"}, format="json"
    )

    logged = AuditLog.objects.get()
    assert logged.action == "user.password"
    assert logged.resource_id == str(viewer_user.pk)
    assert "rain-on-tin-roofs-3" not in str(logged.context) + logged.message


def test_forbidden_call_writes_a_warning(viewer_client):
    response = viewer_client.post("/api/v1/users", NEW_USER, format="json")

    assert response.status_code == 403
    logged = AuditLog.objects.get()
    assert logged.actor == "viewer@example.com"
    assert logged.actor_role == "ROLE-VIEWER"
    assert logged.action == "user.create"
    assert logged.severity == "warning"
    assert logged.context["status"] == 403
    assert logged.request_id == response["X-Request-ID"]


def test_unauthenticated_call_writes_a_warning_for_anonymous(api_client):
    response = api_client.post("/api/v1/users", NEW_USER, format="json")

    assert response.status_code == 401
    logged = AuditLog.objects.get()
    assert logged.actor == "anonymous"
    assert logged.severity == "warning"


def test_invalid_call_writes_a_warning(admin_client):
    admin_client.post("/api/v1/users", {"name": "No Email"}, format="json")

    logged = AuditLog.objects.get()
    assert logged.severity == "warning"
    assert logged.context["status"] == 400


def test_conflict_writes_a_warning(admin_client, admin_user):
    admin_client.delete(f"/api/v1/users/{admin_user.pk}")

    logged = AuditLog.objects.get()
    assert logged.action == "user.destroy"
    assert logged.severity == "warning"
    assert logged.context["status"] == 409


def test_get_requests_write_nothing(admin_client, viewer_user):
    admin_client.get("/api/v1/users")
    admin_client.get(f"/api/v1/users/{viewer_user.pk}")
    admin_client.get("/api/v1/auth/me")
    admin_client.get("/api/v1/roles")
    admin_client.get(URL)

    assert not AuditLog.objects.exists()


def test_refused_get_requests_write_nothing(viewer_client):
    viewer_client.get("/api/v1/users")
    viewer_client.get(URL)

    assert not AuditLog.objects.exists()


def test_logout_is_written(api_client, viewer_user):
    api_client.post("/api/v1/auth/logout", {"refreshToken": issue_tokens(viewer_user).refresh}, format="json")

    logged = AuditLog.objects.get()
    assert logged.context == {"method": "POST", "path": "/api/v1/auth/logout", "status": 204}


def test_sign_in_writes_one_entry_not_two(api_client, viewer_user):
    api_client.post(
        "/api/v1/auth/login",
        {"username": "viewer@example.com", "password": DEFAULT_PASSWORD},
        format="json",
    )

    assert list(AuditLog.objects.values_list("action", flat=True)) == ["auth.login"]


# --- GET /api/v1/audit -----------------------------------------------------------------------------


@pytest.fixture
def trail():
    return [
        entry(30, actor="alice@example.com", action="user.create", severity="info"),
        entry(20, actor="bob@example.com", action="camera.update", severity="warning", message="camera went offline"),
        entry(10, actor="alice@example.com", action="camera.delete", severity="critical"),
    ]


def test_list_returns_entries_newest_first(admin_client, trail):
    response = admin_client.get(URL)

    assert response.status_code == 200
    data = response.json()["data"]
    assert [e["action"] for e in data] == ["camera.delete", "camera.update", "user.create"]
    assert response.json()["meta"] == {"page": 1, "pageSize": 20, "total": 3, "totalPages": 1}


def test_list_shows_camel_case_fields(admin_client, trail):
    first = admin_client.get(URL).json()["data"][0]

    assert {
        "id",
        "actor",
        "actorRole",
        "action",
        "resourceType",
        "resourceId",
        "message",
        "context",
        "severity",
        "ipAddress",
        "userAgent",
        "requestId",
        "timestamp",
    } == set(first)


def test_list_filters_by_actor(admin_client, trail):
    data = admin_client.get(URL, {"actor": "bob"}).json()["data"]

    assert [e["actor"] for e in data] == ["bob@example.com"]


def test_list_filters_by_severity(admin_client, trail):
    data = admin_client.get(URL, {"severity": "critical"}).json()["data"]

    assert [e["action"] for e in data] == ["camera.delete"]


def test_list_refuses_an_unknown_severity(admin_client, trail):
    response = admin_client.get(URL, {"severity": "apocalyptic"})

    assert response.status_code == 400
    assert error_code(response) == "VALIDATION_ERROR"


def test_list_filters_by_action_prefix(admin_client, trail):
    data = admin_client.get(URL, {"action": "camera."}).json()["data"]

    assert [e["action"] for e in data] == ["camera.delete", "camera.update"]


def test_list_filters_by_date_range(admin_client, trail):
    middle = AuditLog.objects.get(action="camera.update").timestamp
    window = {"from": (middle - timedelta(minutes=5)).isoformat(), "to": (middle + timedelta(minutes=5)).isoformat()}

    data = admin_client.get(URL, window).json()["data"]

    assert [e["action"] for e in data] == ["camera.update"]


def test_list_filters_from_a_date(admin_client, trail):
    middle = AuditLog.objects.get(action="camera.update").timestamp

    data = admin_client.get(URL, {"from": middle.isoformat()}).json()["data"]

    assert [e["action"] for e in data] == ["camera.delete", "camera.update"]


def test_list_refuses_a_malformed_date(admin_client, trail):
    response = admin_client.get(URL, {"from": "last tuesday"})

    assert response.status_code == 400
    assert error_code(response) == "VALIDATION_ERROR"


def test_list_searches_messages(admin_client, trail):
    data = admin_client.get(URL, {"search": "OFFLINE"}).json()["data"]

    assert [e["actor"] for e in data] == ["bob@example.com"]


def test_list_pages(admin_client, trail):
    response = admin_client.get(URL, {"page": 2, "pageSize": 2})

    assert [e["action"] for e in response.json()["data"]] == ["user.create"]
    assert response.json()["meta"] == {"page": 2, "pageSize": 2, "total": 3, "totalPages": 2}


def test_list_costs_a_fixed_number_of_queries(admin_client, django_assert_max_num_queries):
    for n in range(40):
        entry(actor=f"user{n}@example.com")
    admin_client.get(URL)  # the first request records activity; measure the steady state

    with django_assert_max_num_queries(3):
        response = admin_client.get(URL, {"pageSize": 50})

    assert len(response.json()["data"]) == 40


def test_operator_cannot_read_it(operator_client):
    response = operator_client.get(URL)

    assert response.status_code == 403
    assert error_code(response) == "AUTH_003"


def test_role_with_audit_read_may_read_it(db):
    assert role_client("ROLE-AUDITOR", ["audit:read"]).get(URL).status_code == 200


def test_it_is_read_only(admin_client, trail):
    response = admin_client.delete(f"{URL}/{trail[0].pk}")

    assert response.status_code in (404, 405)
    assert AuditLog.objects.filter(pk=trail[0].pk).exists()
