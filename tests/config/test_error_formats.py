"""Every contract family spells its errors its own way, on real endpoints and on paths nobody routed.

001 (/api/v1): {success: false, error: {code, message, details}, requestId}
002 (/api/v1/health, gateway): {error: {code, message, timestamp, requestId}} + X-Error-Code/Message
003 (root paths: /auth/token, /healthz, /events, /config): {detail, error_code, timestamp, request_id}
004 (/face-service/api/v1): {status, message, code}
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from config.logging import RequestIdFilter
from tests.config.error_urls import CRASH_MESSAGE
from tests.factories import DEFAULT_PASSWORD, ApiKeyFactory, UserFactory

pytestmark = pytest.mark.django_db

MALFORMED_JSON = '{"username": "a@example.com", "password": '


def _json(response) -> dict:
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    return response.json()


def _is_iso_utc(value: str) -> bool:
    return value.endswith("Z") and datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


def assert_spa_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    body = _json(response)
    assert set(body) == {"success", "error", "requestId"}
    assert body["success"] is False
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert body["requestId"] == response["X-Request-ID"]
    return body


def assert_gateway_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    body = _json(response)
    assert set(body) == {"error"}
    error = body["error"]
    assert {"code", "message", "timestamp", "requestId"} <= set(error)
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert _is_iso_utc(error["timestamp"])
    assert error["requestId"] == response["X-Request-ID"]
    assert response["X-Error-Code"] == code
    assert response["X-Error-Message"] == error["message"]
    return error


def assert_edge_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    body = _json(response)
    assert {"detail", "error_code", "timestamp", "request_id"} <= set(body)
    assert "success" not in body and "error" not in body
    assert body["error_code"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    assert _is_iso_utc(body["timestamp"])
    assert body["request_id"] == response["X-Request-ID"]
    return body


def assert_face_service_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    body = _json(response)
    assert {"status", "message", "code"} <= set(body)
    assert set(body) - {"status", "message", "code", "errors"} == set()
    assert body["status"] == status
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


def assert_no_internals(response) -> None:
    content = response.content.decode()
    assert CRASH_MESSAGE not in content
    assert "hunter2" not in content
    assert "Traceback" not in content
    assert "RuntimeError" not in content


@pytest.fixture
def login_user(db):
    return UserFactory(email="signin@example.com")


@pytest.fixture
def face_service_key(db):
    return ApiKeyFactory(scopes=["face-service"])


@pytest.fixture
def api_log(caplog):
    """Records of ``argus.api`` carry the request id (as the console handler's filter adds it)."""
    api_logger = logging.getLogger("argus.api")
    request_id_filter = RequestIdFilter()
    api_logger.addFilter(request_id_filter)
    caplog.set_level(logging.ERROR, logger="argus.api")
    yield caplog
    api_logger.removeFilter(request_id_filter)


# --- 001: the SPA under /api/v1 ------------------------------------------------------------------


def test_spa_malformed_json_is_400_val_001(api_client):
    response = api_client.post("/api/v1/auth/login", data=MALFORMED_JSON, content_type="application/json")
    body = assert_spa_error(response, 400, "VAL_001")
    assert body["error"]["message"].startswith("Invalid request format")


def test_spa_missing_fields_are_400_validation_error_naming_each_field(api_client):
    response = api_client.post("/api/v1/auth/login", data={}, format="json")
    body = assert_spa_error(response, 400, "VALIDATION_ERROR")
    details = body["error"]["details"]
    assert details["field"] == "username"
    assert details["issue"] == "This field is required."
    assert set(details["fields"]) == {"username", "password"}


def test_spa_wrong_types_are_400_validation_error(api_client):
    response = api_client.post("/api/v1/auth/login", data={"username": ["a"], "password": {"x": 1}}, format="json")
    body = assert_spa_error(response, 400, "VALIDATION_ERROR")
    assert body["error"]["details"]["fields"] == {
        "username": ["Not a valid string."],
        "password": ["Not a valid string."],
    }


def test_spa_field_errors_name_fields_in_camel_case(api_client):
    response = api_client.post("/api/v1/auth/refresh", data={}, format="json")
    body = assert_spa_error(response, 400, "VALIDATION_ERROR")
    assert body["error"]["details"]["field"] == "refreshToken"
    assert list(body["error"]["details"]["fields"]) == ["refreshToken"]


def test_spa_unsupported_media_type_is_415(api_client):
    response = api_client.post("/api/v1/auth/login", data="username=a", content_type="text/plain")
    assert_spa_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_spa_wrong_credentials_are_401_auth_001(api_client, login_user):
    response = api_client.post(
        "/api/v1/auth/login", data={"username": login_user.email, "password": "wrong-password"}, format="json"
    )
    body = assert_spa_error(response, 401, "AUTH_001")
    assert body["error"]["message"] == "Invalid credentials"


def test_spa_missing_token_is_401_auth_001_with_bearer_challenge(api_client):
    response = api_client.get("/api/v1/users")
    assert_spa_error(response, 401, "AUTH_001")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_spa_garbage_token_is_401_auth_001(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.jwt")
    response = api_client.get("/api/v1/users")
    body = assert_spa_error(response, 401, "AUTH_001")
    assert body["error"]["message"] == "Invalid authentication token"


def test_spa_malformed_authorization_header_says_what_is_wrong_in_plain_words(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer")
    response = api_client.get("/api/v1/users")
    body = assert_spa_error(response, 401, "AUTH_001")
    assert body["error"]["message"] == "Authorization header must contain two space-delimited values"


def test_spa_expired_token_is_401_auth_002(api_client, admin_user):
    token = AccessToken()
    token["sub"] = str(admin_user.pk)
    token.set_exp(from_time=timezone.now() - timedelta(hours=1), lifetime=timedelta(minutes=15))
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = api_client.get("/api/v1/users")
    assert_spa_error(response, 401, "AUTH_002")


def test_spa_missing_permission_is_403_auth_003(viewer_client):
    response = viewer_client.get("/api/v1/users")
    assert_spa_error(response, 403, "AUTH_003")


def test_spa_unknown_user_id_is_404_not_found(admin_client):
    response = admin_client.get(f"/api/v1/users/{uuid.uuid4()}")
    body = assert_spa_error(response, 404, "NOT_FOUND")
    assert body["error"]["message"] == "User not found"


def test_spa_malformed_user_id_is_404_not_found(admin_client):
    response = admin_client.get("/api/v1/users/not-a-uuid")
    assert_spa_error(response, 404, "NOT_FOUND")


def test_spa_method_not_allowed_is_405(api_client):
    response = api_client.get("/api/v1/auth/login")
    assert_spa_error(response, 405, "METHOD_NOT_ALLOWED")


def test_spa_unknown_path_is_404_json(api_client):
    response = api_client.get("/api/v1/nope")
    body = assert_spa_error(response, 404, "NOT_FOUND")
    assert body["error"]["message"] == "Resource not found"


def test_spa_unknown_path_with_post_is_404_json(api_client):
    response = api_client.post("/api/v1/nope/deeper", data={"a": 1}, format="json")
    assert_spa_error(response, 404, "NOT_FOUND")


# --- 002: the gateway ------------------------------------------------------------------------------


def test_gateway_health_is_public(api_client):
    response = api_client.get("/api/v1/health")
    assert response.status_code == 200
    assert _json(response)["status"] == "healthy"


def test_gateway_health_ignores_a_bad_token(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.jwt")
    response = api_client.get("/api/v1/health")
    assert response.status_code == 200


def test_gateway_unknown_method_is_405_val_001(api_client):
    response = api_client.delete("/api/v1/health")
    error = assert_gateway_error(response, 405, "VAL_001")
    assert "DELETE" in error["message"]


@pytest.mark.urls("tests.config.error_urls")
def test_gateway_malformed_json_is_400_val_001(api_client):
    response = api_client.post("/api/v1/rate-limit/status", data="{", content_type="application/json")
    assert_gateway_error(response, 400, "VAL_001")


@pytest.mark.urls("tests.config.error_urls")
def test_gateway_missing_fields_are_400_val_002_naming_each_field(api_client):
    response = api_client.post("/api/v1/rate-limit/status", data={}, format="json")
    error = assert_gateway_error(response, 400, "VAL_002")
    assert error["message"] == "Missing required field: slot_id"
    assert set(error["details"]) == {"slot_id", "cameras"}


@pytest.mark.urls("tests.config.error_urls")
def test_gateway_wrong_types_are_400_val_003(api_client):
    response = api_client.post(
        "/api/v1/rate-limit/status", data={"slot_id": "seven", "cameras": ["CAM-01"]}, format="json"
    )
    error = assert_gateway_error(response, 400, "VAL_003")
    assert error["details"] == {"slot_id": "A valid integer is required."}


# --- 003: the ANPR engine's root paths -------------------------------------------------------------


def test_edge_malformed_json_is_400_invalid_request(api_client):
    response = api_client.post("/auth/token", data=MALFORMED_JSON, content_type="application/json")
    assert_edge_error(response, 400, "INVALID_REQUEST")


def test_edge_missing_fields_are_400_validation_error_listing_each_field(api_client):
    response = api_client.post("/auth/token", data={}, format="json")
    body = assert_edge_error(response, 400, "VALIDATION_ERROR")
    assert body["errors"] == [
        {"field": "username", "message": "This field is required."},
        {"field": "password", "message": "This field is required."},
    ]


def test_edge_wrong_types_are_400_validation_error(api_client):
    response = api_client.post("/auth/token", data={"username": {"a": 1}, "password": "x"}, format="json")
    body = assert_edge_error(response, 400, "VALIDATION_ERROR")
    assert body["errors"] == [{"field": "username", "message": "Not a valid string."}]


def test_edge_wrong_credentials_are_401_authentication_failed(api_client, login_user):
    response = api_client.post(
        "/auth/token", data={"username": login_user.email, "password": "wrong-password"}, format="json"
    )
    body = assert_edge_error(response, 401, "AUTHENTICATION_FAILED")
    assert body["detail"] == "Invalid credentials"


def test_edge_right_credentials_get_a_bearer_token(api_client, login_user):
    response = api_client.post(
        "/auth/token", data={"username": login_user.email, "password": DEFAULT_PASSWORD}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"


def test_edge_method_not_allowed_is_405_invalid_request(api_client):
    response = api_client.get("/auth/token")
    assert_edge_error(response, 405, "INVALID_REQUEST")


def test_edge_detailed_health_without_credentials_is_401(api_client):
    response = api_client.get("/healthz/detailed")
    body = assert_edge_error(response, 401, "AUTHENTICATION_FAILED")
    assert body["detail"] == "Not authenticated"


def test_edge_detailed_health_with_unknown_api_key_is_401(api_client):
    response = api_client.get("/healthz/detailed", HTTP_X_API_KEY="bec_" + "0" * 32)
    body = assert_edge_error(response, 401, "AUTHENTICATION_FAILED")
    assert body["detail"] == "Invalid or missing API key"


def test_edge_unknown_path_under_events_is_404_resource_not_found(api_client):
    response = api_client.get("/events/nope/deeper")  # /events/{id} is a route of its own (anpr:read)
    assert_edge_error(response, 404, "RESOURCE_NOT_FOUND")


def test_edge_unknown_path_under_config_is_404_resource_not_found(api_client):
    response = api_client.get("/config/nope")
    assert_edge_error(response, 404, "RESOURCE_NOT_FOUND")


# --- 004: the face service ------------------------------------------------------------------------


def test_face_service_unknown_path_is_404_not_found(api_client):
    response = api_client.get("/face-service/api/v1/nope")
    body = assert_face_service_error(response, 404, "NOT_FOUND")
    assert body == {"status": 404, "message": "Resource not found", "code": "NOT_FOUND"}


@pytest.mark.urls("tests.config.error_urls")
def test_face_service_without_api_key_is_401_invalid_api_key(api_client):
    response = api_client.post("/face-service/api/v1/echo", data={"slot_id": 1, "cameras": ["C"]}, format="json")
    assert_face_service_error(response, 401, "INVALID_API_KEY")


@pytest.mark.urls("tests.config.error_urls")
def test_face_service_unknown_api_key_is_401_invalid_api_key(api_client):
    response = api_client.post(
        "/face-service/api/v1/echo",
        data={"slot_id": 1, "cameras": ["C"]},
        format="json",
        HTTP_X_API_KEY="bec_" + "0" * 32,
    )
    body = assert_face_service_error(response, 401, "INVALID_API_KEY")
    assert body["message"] == "Invalid or missing API key"


@pytest.mark.urls("tests.config.error_urls")
def test_face_service_key_without_its_scope_is_401_invalid_api_key(api_client, api_key):
    response = api_client.post(
        "/face-service/api/v1/echo", data={"slot_id": 1, "cameras": ["C"]}, format="json", HTTP_X_API_KEY=api_key.raw
    )
    assert_face_service_error(response, 401, "INVALID_API_KEY")


@pytest.mark.urls("tests.config.error_urls")
def test_face_service_key_with_its_scope_is_accepted(api_client, face_service_key):
    response = api_client.post(
        "/face-service/api/v1/echo",
        data={"slot_id": 1, "cameras": ["C"]},
        format="json",
        HTTP_X_API_KEY=face_service_key.raw,
    )
    assert response.status_code == 200
    assert response.json() == {"status": 200, "message": "Accepted", "data": {"slot_id": 1, "cameras": ["C"]}}


@pytest.mark.urls("tests.config.error_urls")
def test_face_service_malformed_json_is_400_invalid_request(api_client, face_service_key):
    response = api_client.post(
        "/face-service/api/v1/echo", data="{", content_type="application/json", HTTP_X_API_KEY=face_service_key.raw
    )
    assert_face_service_error(response, 400, "INVALID_REQUEST")


@pytest.mark.urls("tests.config.error_urls")
def test_face_service_missing_fields_are_400_validation_error_listing_each_field(api_client, face_service_key):
    response = api_client.post("/face-service/api/v1/echo", data={}, format="json", HTTP_X_API_KEY=face_service_key.raw)
    body = assert_face_service_error(response, 400, "VALIDATION_ERROR")
    assert body["message"] == "This field is required."
    assert [item["field"] for item in body["errors"]] == ["slotId", "cameras"]


@pytest.mark.urls("tests.config.error_urls")
def test_face_service_wrong_types_are_400_validation_error(api_client, face_service_key):
    response = api_client.post(
        "/face-service/api/v1/echo",
        data={"slot_id": 1, "cameras": []},
        format="json",
        HTTP_X_API_KEY=face_service_key.raw,
    )
    body = assert_face_service_error(response, 400, "VALIDATION_ERROR")
    assert body["errors"] == [{"field": "cameras", "message": "This list may not be empty."}]


@pytest.mark.urls("tests.config.error_urls")
def test_face_service_method_not_allowed_is_405(api_client, face_service_key):
    response = api_client.get("/face-service/api/v1/echo", HTTP_X_API_KEY=face_service_key.raw)
    assert_face_service_error(response, 405, "METHOD_NOT_ALLOWED")


# --- Crashes: 500 in the family's format, nothing internal shown, the error logged -------------------


@pytest.mark.urls("tests.config.error_urls")
def test_spa_crash_is_500_svc_002_without_internals(api_client):
    response = api_client.get("/api/v1/crash")
    body = assert_spa_error(response, 500, "SVC_002")
    assert body["error"] == {"code": "SVC_002", "message": "Internal server error", "details": None}
    assert_no_internals(response)


@pytest.mark.urls("tests.config.error_urls")
@pytest.mark.undocumented  # a simulated crash: its 500 is rightly not in the document
def test_gateway_crash_is_500_svc_002_without_internals(api_client):
    response = api_client.get("/api/v1/stats/usage")
    error = assert_gateway_error(response, 500, "SVC_002")
    assert error["message"] == "Internal server error"
    assert_no_internals(response)


@pytest.mark.urls("tests.config.error_urls")
def test_edge_crash_is_500_internal_error_without_internals(api_client):
    response = api_client.get("/config/crash")
    body = assert_edge_error(response, 500, "INTERNAL_ERROR")
    assert body["detail"] == "Internal server error"
    assert_no_internals(response)


@pytest.mark.urls("tests.config.error_urls")
def test_face_service_crash_is_500_internal_error_without_internals(api_client):
    response = api_client.get("/face-service/api/v1/crash")
    body = assert_face_service_error(response, 500, "INTERNAL_ERROR")
    assert body == {"status": 500, "message": "Internal server error", "code": "INTERNAL_ERROR"}
    assert_no_internals(response)


@pytest.mark.urls("tests.config.error_urls")
def test_plain_view_crash_under_api_v1_is_001_500_without_internals(client):
    client.raise_request_exception = False
    response = client.get("/api/v1/plain-crash")
    body = assert_spa_error(response, 500, "SVC_002")
    assert body["error"]["message"] == "Internal server error"
    assert_no_internals(response)


@pytest.mark.urls("tests.config.error_urls")
@pytest.mark.undocumented  # a simulated crash: its 500 is rightly not in the document
def test_plain_view_crash_under_events_is_003_500_without_internals(client):
    client.raise_request_exception = False
    response = client.get("/events/plain-crash")
    assert_edge_error(response, 500, "INTERNAL_ERROR")
    assert_no_internals(response)


@pytest.mark.urls("tests.config.error_urls")
def test_plain_view_crash_under_face_service_is_004_500_without_internals(client):
    client.raise_request_exception = False
    response = client.get("/face-service/api/v1/plain-crash")
    assert_face_service_error(response, 500, "INTERNAL_ERROR")
    assert_no_internals(response)


@pytest.mark.urls("tests.config.error_urls")
def test_dashboard_crash_is_the_html_error_page_without_internals(client):
    client.raise_request_exception = False
    response = client.get("/html-crash")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert_no_internals(response)


@pytest.mark.urls("tests.config.error_urls")
def test_drf_view_crash_is_logged_with_the_request_id(api_client, api_log):
    response = api_client.get("/api/v1/crash", HTTP_X_REQUEST_ID="crash-trace-1")
    assert response.status_code == 500
    records = [r for r in api_log.records if r.name == "argus.api" and r.levelno == logging.ERROR]
    assert len(records) == 1
    record = records[0]
    assert record.request_id == "crash-trace-1" == response["X-Request-ID"]
    assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)
    assert "/api/v1/crash" in record.getMessage()


@pytest.mark.urls("tests.config.error_urls")
def test_plain_view_crash_is_logged_with_the_request_id(client, api_log):
    client.raise_request_exception = False
    response = client.get("/api/v1/plain-crash")
    assert response.status_code == 500
    records = [r for r in api_log.records if r.name == "argus.api" and r.levelno == logging.ERROR]
    assert len(records) == 1
    record = records[0]
    assert record.request_id == response["X-Request-ID"]
    assert record.exc_info is not None and str(record.exc_info[1]) == CRASH_MESSAGE
