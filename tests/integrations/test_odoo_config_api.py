"""``GET|PUT /api/v1/odoo/config``: 001's shape, the API key encrypted at rest and never shown."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection

from config.resilience import CircuitBreaker, CircuitState
from integrations.models import OdooConfig
from tests.factories import AttendanceLogFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/odoo/config"
KEY = "5f0c9a1e-odoo-api-key-77b3"
FULL = {
    "baseUrl": "http://127.0.0.1:8069",
    "database": "production_db",
    "company": "ACME Corp",
    "username": "sync-bot@example.com",
    "apiKey": KEY,
    "autoSync": True,
}


def put(client, body, **headers):
    return client.put(URL, body, format="json", **headers)


def test_it_starts_unconfigured(admin_client):
    response = admin_client.get(URL)

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["status"] == "disconnected"
    assert data["apiKey"] is None
    assert (data["autoSync"], data["pendingCount"], data["failureCount"]) == (False, 0, 0)


def test_it_stores_the_config_and_masks_the_api_key(admin_client):
    response = put(admin_client, FULL)

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["apiKey"] == "***"
    assert {key: data[key] for key in FULL if key != "apiKey"} == {k: v for k, v in FULL.items() if k != "apiKey"}
    assert KEY not in response.content.decode()
    assert KEY not in admin_client.get(URL).content.decode()
    assert OdooConfig.load().api_key == KEY


def test_the_api_key_is_encrypted_at_rest(admin_client):
    put(admin_client, FULL)

    with connection.cursor() as cursor:
        cursor.execute("SELECT api_key FROM integrations_odooconfig WHERE id = 1")
        (stored,) = cursor.fetchone()
    assert stored.startswith("enc:v1:")
    assert KEY not in stored


def test_a_masked_api_key_written_back_keeps_the_stored_one(admin_client):
    put(admin_client, FULL)

    put(admin_client, {**FULL, "apiKey": "***", "company": "ACME Vietnam"})

    config = OdooConfig.load()
    assert (config.api_key, config.company) == (KEY, "ACME Vietnam")


def test_an_empty_api_key_clears_it(admin_client):
    put(admin_client, {**FULL, "autoSync": False})

    response = put(admin_client, {"apiKey": ""})

    assert response.json()["data"]["apiKey"] is None
    assert OdooConfig.load().api_key == ""


def test_it_refuses_a_base_url_that_is_not_http(admin_client):
    response = put(admin_client, {**FULL, "baseUrl": "ftp://odoo.example.com"})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == "baseUrl"
    assert OdooConfig.load().base_url == ""


def test_it_refuses_an_unknown_employee_match_field(admin_client):
    response = put(admin_client, {"employeeMatchField": "name"})

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "employeeMatchField"


def test_auto_sync_needs_a_complete_config(admin_client):
    response = put(admin_client, {"baseUrl": "http://127.0.0.1:8069", "autoSync": True})

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "autoSync"
    assert OdooConfig.load().auto_sync is False


def test_a_stale_version_is_a_conflict(admin_client):
    version = put(admin_client, FULL).json()["data"]["version"]
    put(admin_client, {"company": "Someone else's change"})

    response = put(admin_client, {"company": "Mine", "version": version})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "CONFLICT"
    assert OdooConfig.load().company == "Someone else's change"


def test_a_stale_if_match_header_is_a_conflict(admin_client):
    version = put(admin_client, FULL).json()["data"]["version"]
    put(admin_client, {"company": "Someone else's change"})

    response = put(admin_client, {"company": "Mine"}, HTTP_IF_MATCH=f'W/"{version}"')

    assert response.status_code == 409
    assert OdooConfig.load().company == "Someone else's change"


def test_an_if_match_that_is_no_version_is_refused(admin_client):
    response = put(admin_client, {"company": "Mine"}, HTTP_IF_MATCH='"abc"')

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "If-Match must be the configuration's version number"
    assert OdooConfig.load().company == ""


def test_changing_where_odoo_is_resets_the_status_and_the_circuit(admin_client):
    put(admin_client, FULL)
    OdooConfig.objects.filter(pk=1).update(status="connected", server_version="17.0")
    breaker = CircuitBreaker("odoo")
    for _ in range(breaker.failure_threshold):
        breaker.record_failure()

    data = put(admin_client, {"baseUrl": "http://127.0.0.1:8070", "apiKey": KEY}).json()["data"]

    assert (data["status"], data["serverVersion"]) == ("disconnected", "")
    assert breaker.state == CircuitState.CLOSED


def test_the_counts_are_those_of_the_logs(admin_client):
    start = datetime(2025, 11, 3, 9, tzinfo=UTC)
    AttendanceLogFactory(employee_id="EMP-1", check_in=start, check_out=None)
    AttendanceLogFactory(employee_id="EMP-2", check_in=start, odoo_status="failed", check_out=None)
    AttendanceLogFactory(employee_id="EMP-3", check_in=None, date=start.date())  # missed: never sent, never counted

    data = admin_client.get(URL).json()["data"]

    assert (data["pendingCount"], data["failureCount"]) == (1, 1)


def test_a_viewer_cannot_read_it(viewer_client):
    response = viewer_client.get(URL)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "AUTH_003"


def test_an_operator_cannot_change_it(operator_client):
    response = put(operator_client, FULL)

    assert response.status_code == 403
    assert OdooConfig.load().base_url == ""


def test_it_needs_authentication(api_client):
    assert api_client.get(URL).status_code == 401
