"""002's error headers on the errors of every family: ``X-Error-Code`` (the body's code), ``X-Error-Message``
and ``X-Correlation-ID`` (the client's, echoed, else the request id), beside each family's own body; and
002's ``VAL_002`` (missing required field) in the gateway family."""

from __future__ import annotations

import pytest

from config.api.contracts import ApiError, Contract, FieldError, Kind, error_body, error_headers

pytestmark = pytest.mark.django_db

# (family, path, how the body names its code)
UNAUTHENTICATED = [
    ("001", "/api/v1/cameras", lambda body: body["error"]["code"]),
    ("000", "/api/v2/cameras", lambda body: body["error"]["code"]),
    ("002", "/api/v1/rate-limit/status", lambda body: body["error"]["code"]),
    ("003", "/events", lambda body: body["error_code"]),
    ("004", "/face-service/api/v1/recognition/stop-session", lambda body: body["code"]),
]
NOT_ROUTED = [
    ("001", "/api/v1/no-such-thing", lambda body: body["error"]["code"]),
    ("000", "/api/v2/no-such-thing", lambda body: body["error"]["code"]),
    ("003", "/events/a/b/c/d", lambda body: body["error_code"]),
    ("004", "/face-service/api/v1/no-such-thing", lambda body: body["code"]),
]


@pytest.mark.parametrize(("family", "path", "code_of"), UNAUTHENTICATED, ids=[case[0] for case in UNAUTHENTICATED])
def test_unauthenticated_error_has_002_headers(api_client, family, path, code_of):
    response = api_client.get(path)

    assert response.status_code == 401, response.content
    assert response["X-Error-Code"] == code_of(response.json())
    assert response["X-Error-Message"]
    assert response["X-Correlation-ID"] == response["X-Request-ID"]


@pytest.mark.parametrize(("family", "path", "code_of"), NOT_ROUTED, ids=[case[0] for case in NOT_ROUTED])
def test_unrouted_path_error_has_002_headers(api_client, family, path, code_of):
    response = api_client.get(path)

    assert response.status_code == 404, response.content
    assert response["X-Error-Code"] == code_of(response.json())
    assert response["X-Error-Message"]


def test_validation_error_of_the_spa_has_002_headers(admin_client):
    response = admin_client.post("/api/v1/cameras", {"fps": "fast"}, format="json")

    assert response.status_code == 400
    assert response["X-Error-Code"] == "VALIDATION_ERROR" == response.json()["error"]["code"]


def test_a_client_correlation_id_is_echoed(api_client):
    response = api_client.get("/api/v1/cameras", HTTP_X_CORRELATION_ID="order-42.attempt-1")

    assert response["X-Correlation-ID"] == "order-42.attempt-1"
    assert response["X-Request-ID"] != "order-42.attempt-1"


def test_gateway_error_body_names_the_correlation_id(api_client):
    response = api_client.get("/api/v1/rate-limit/status", HTTP_X_CORRELATION_ID="order-42")

    assert response.json()["error"]["correlationId"] == "order-42"


def test_an_unfit_correlation_id_is_replaced_by_the_request_id(api_client):
    response = api_client.get("/api/v1/cameras", HTTP_X_CORRELATION_ID="bad id\twith spaces")

    assert response["X-Correlation-ID"] == response["X-Request-ID"]


def test_error_message_header_is_one_line_of_ascii():
    error = ApiError(Kind.VALIDATION, "Caméra\nintrouvable " + "x" * 300)

    header = error_headers(Contract.SPA, error)["X-Error-Message"]

    assert header.isascii() and "\n" not in header
    assert len(header) <= 200


def test_a_missing_required_field_is_val_002_in_the_gateway_family():
    error = ApiError(Kind.VALIDATION, field_errors=[FieldError("clientId", "This field is required.", code="required")])

    body = error_body(Contract.GATEWAY, error, "req-1", "/api/v1/stats/usage")

    assert body["error"]["code"] == "VAL_002"
    assert body["error"]["message"] == "Missing required field: clientId"
    assert error_headers(Contract.GATEWAY, error)["X-Error-Code"] == "VAL_002"


def test_an_invalid_value_stays_val_003_in_the_gateway_family(admin_client):
    response = admin_client.get("/api/v1/stats/usage", {"timeRange": "yesterday-ish"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VAL_003"
    assert response["X-Error-Code"] == "VAL_003"
