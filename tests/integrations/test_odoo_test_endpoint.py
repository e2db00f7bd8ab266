"""``POST /api/v1/odoo/test``: authenticate over JSON-RPC against a local Odoo and report what happened."""

from __future__ import annotations

import pytest

from config.resilience import CircuitBreaker, CircuitState
from integrations.models import OdooConfig
from tests.integrations.odoo_peer import OdooPeer, configure
from tests.integrations.peers import free_port

pytestmark = pytest.mark.django_db

URL = "/api/v1/odoo/test"


@pytest.fixture
def peer():
    odoo = OdooPeer(version="17.0")
    odoo.add_employee("Sophia Martinez", barcode="EMP-00412")
    odoo.add_employee("No Badge")
    yield odoo
    odoo.stop()


def test_the_right_key_connects_and_reports_the_server_version(admin_client, peer):
    configure(peer)

    response = admin_client.post(URL, {}, format="json")

    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["status"], data["serverVersion"], data["uid"]) == ("connected", "17.0", peer.uid)
    assert data["employeeCount"] == 1  # employees with a barcode
    config = OdooConfig.load()
    assert (config.status, config.server_version) == ("connected", "17.0")


def test_a_wrong_key_reports_the_authentication_failure(admin_client, peer):
    configure(peer, api_key="not-the-key")

    data = admin_client.post(URL, {}, format="json").json()["data"]

    assert data["status"] == "error"
    assert data["message"].startswith("Authentication failed")
    assert data["serverVersion"] == "17.0"
    assert OdooConfig.load().status == "error"


def test_an_unknown_database_reports_odoos_error(admin_client, peer):
    configure(peer, database="no_such_db")

    data = admin_client.post(URL, {}, format="json").json()["data"]

    assert data["status"] == "error"
    assert 'database "no_such_db" does not exist' in data["message"]


def test_an_unreachable_server_reports_the_error(admin_client, peer):
    configure(peer, base_url=f"http://127.0.0.1:{free_port()}")

    data = admin_client.post(URL, {}, format="json").json()["data"]

    assert data["status"] == "error"
    assert data["message"] == "Odoo is unreachable: Connection refused"


def test_a_server_that_is_not_odoo_is_reported(admin_client, peer):
    configure(peer, base_url=f"{peer.url}/web")  # /web/jsonrpc: Odoo's 404 page

    data = admin_client.post(URL, {}, format="json").json()["data"]

    assert (data["status"], data["message"]) == ("error", "HTTP 404")


def test_unsaved_values_are_tested_without_changing_the_config(admin_client, peer):
    configure(peer, api_key="not-the-key")

    body = {"apiKey": peer.api_key}
    data = admin_client.post(URL, body, format="json").json()["data"]

    assert data["status"] == "connected"
    config = OdooConfig.load()
    assert (config.status, config.api_key) == ("disconnected", "not-the-key")


def test_a_working_connection_closes_the_circuit(admin_client, peer):
    configure(peer)
    breaker = CircuitBreaker("odoo")
    for _ in range(breaker.failure_threshold):
        breaker.record_failure()

    admin_client.post(URL, {}, format="json")

    assert breaker.state == CircuitState.CLOSED


def test_the_api_key_never_appears_in_the_answer(admin_client, peer):
    configure(peer, api_key="not-the-key")

    response = admin_client.post(URL, {}, format="json")

    assert "not-the-key" not in response.content.decode()


def test_it_is_refused_without_a_configuration(admin_client):
    response = admin_client.post(URL, {}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "ODOO_NOT_CONFIGURED"


def test_it_needs_odoo_write(operator_client, peer):
    configure(peer)

    assert operator_client.post(URL, {}, format="json").status_code == 403
