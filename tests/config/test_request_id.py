"""Every response names its request (X-Request-ID); a sane client id is kept, anything else replaced."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.django_db


def _is_uuid4(value: str) -> bool:
    try:
        return uuid.UUID(value).version == 4
    except ValueError:
        return False


def test_api_response_has_a_minted_request_id(admin_client):
    response = admin_client.get("/api/v1/roles")
    assert response.status_code == 200
    assert _is_uuid4(response["X-Request-ID"])


def test_gateway_health_response_has_a_request_id(api_client):
    response = api_client.get("/api/v1/health")
    assert _is_uuid4(response["X-Request-ID"])


def test_edge_health_response_has_a_request_id(api_client):
    response = api_client.get("/healthz")
    assert _is_uuid4(response["X-Request-ID"])


def test_html_login_page_has_a_request_id(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert _is_uuid4(response["X-Request-ID"])


def test_html_not_found_page_has_a_request_id(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert _is_uuid4(response["X-Request-ID"])


def test_each_request_gets_its_own_id(api_client):
    first = api_client.get("/healthz")["X-Request-ID"]
    second = api_client.get("/healthz")["X-Request-ID"]
    assert first != second


@pytest.mark.parametrize("supplied", ["req-12345", "3f2b8c1e-0c4a-4f6e-9d7a-1b2c3d4e5f60", "trace:a.b_c-1"])
def test_a_sane_client_request_id_is_echoed(api_client, supplied):
    response = api_client.get("/api/v1/health", HTTP_X_REQUEST_ID=supplied)
    assert response["X-Request-ID"] == supplied


def test_a_client_request_id_with_spaces_is_replaced(api_client):
    response = api_client.get("/api/v1/health", HTTP_X_REQUEST_ID="id with spaces")
    assert _is_uuid4(response["X-Request-ID"])


def test_an_overlong_client_request_id_is_replaced(api_client):
    response = api_client.get("/api/v1/health", HTTP_X_REQUEST_ID="a" * 300)
    assert _is_uuid4(response["X-Request-ID"])


def test_a_client_request_id_with_markup_is_replaced(api_client):
    response = api_client.get("/api/v1/health", HTTP_X_REQUEST_ID="<script>alert(1)</script>")
    assert _is_uuid4(response["X-Request-ID"])


def test_an_empty_client_request_id_is_replaced(api_client):
    response = api_client.get("/api/v1/health", HTTP_X_REQUEST_ID="")
    assert _is_uuid4(response["X-Request-ID"])


def test_spa_error_body_carries_the_minted_request_id(api_client):
    response = api_client.get("/api/v1/users")
    assert response.status_code == 401
    assert response.json()["requestId"] == response["X-Request-ID"]
    assert _is_uuid4(response["X-Request-ID"])


def test_spa_error_body_carries_the_client_request_id(api_client):
    response = api_client.get("/api/v1/users", HTTP_X_REQUEST_ID="client-abc")
    assert response.json()["requestId"] == "client-abc"


def test_unrouted_spa_path_error_body_carries_the_client_request_id(api_client):
    response = api_client.get("/api/v1/nope", HTTP_X_REQUEST_ID="client-404")
    assert response.status_code == 404
    assert response.json()["requestId"] == "client-404" == response["X-Request-ID"]


def test_edge_error_body_carries_the_client_request_id(api_client):
    response = api_client.get("/healthz/detailed", HTTP_X_REQUEST_ID="edge-trace-9")
    assert response.status_code == 401
    assert response.json()["request_id"] == "edge-trace-9" == response["X-Request-ID"]


def test_unrouted_edge_path_error_body_carries_the_request_id(api_client):
    response = api_client.get("/events/nope")
    assert response.json()["request_id"] == response["X-Request-ID"]


def test_gateway_error_body_carries_the_client_request_id(api_client):
    response = api_client.delete("/api/v1/health", HTTP_X_REQUEST_ID="gw-trace-7")
    assert response.status_code == 405
    assert response.json()["error"]["requestId"] == "gw-trace-7" == response["X-Request-ID"]


def test_error_body_carries_the_replacement_of_an_unsafe_request_id(api_client):
    response = api_client.get("/api/v1/users", HTTP_X_REQUEST_ID="bad id")
    assert response.json()["requestId"] == response["X-Request-ID"] != "bad id"


def test_audit_entry_records_the_request_id(api_client, admin_user):
    from accounts.models import AuditLog

    api_client.post(
        "/api/v1/auth/login",
        data={"username": admin_user.email, "password": "wrong-password"},
        format="json",
        HTTP_X_REQUEST_ID="audit-trace-3",
    )
    assert AuditLog.objects.filter(action="auth.login_failed", request_id="audit-trace-3").exists()
