"""Exporter credentials and the Odoo key never follow a changed address: they stay only while scheme, host
and port do; elsewhere they must be sent again."""

from __future__ import annotations

import pytest

from integrations.models import Exporter, OdooConfig
from tests.integrations.conftest import TOKEN

pytestmark = pytest.mark.django_db

REST = {
    "name": "Backend",
    "type": "rest",
    "url": "http://127.0.0.1:9/events",
    "headers": {"X-Session-Token": "hdr-secret-1"},
    "auth": {"type": "bearer", "token": TOKEN},
}
MQTT = {
    "name": "Broker",
    "type": "mqtt",
    "url": "mqtt://127.0.0.1:1883",
    "config": {"topic": "anpr/events", "qos": 1, "username": "u", "password": "mqtt-secret-1"},
}
ODOO_KEY = "odoo-key-9c1e"


def create(client, body) -> str:
    response = client.post("/config/exporters", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_masked_token_with_a_url_on_another_host_is_refused(admin_client):
    exporter_id = create(admin_client, REST)
    body = {"url": "http://attacker.example/collect", "auth": {"type": "bearer", "token": "***"}}

    response = admin_client.put(f"/config/exporters/{exporter_id}", body, format="json")

    assert response.status_code in (400, 422)
    assert TOKEN not in response.content.decode()
    exporter = Exporter.objects.get(pk=exporter_id)
    assert (exporter.url, exporter.plain("auth")["token"]) == (REST["url"], TOKEN)


def test_omitted_credentials_do_not_follow_a_url_change(admin_client):
    exporter_id = create(admin_client, REST)

    response = admin_client.put(f"/config/exporters/{exporter_id}", {"url": "http://127.0.0.2:9/x"}, format="json")

    assert response.status_code in (400, 422)
    assert Exporter.objects.get(pk=exporter_id).url == REST["url"]


def test_a_new_port_is_another_address(admin_client):
    exporter_id = create(admin_client, REST)
    body = {"url": "http://127.0.0.1:10/events", "auth": {"type": "bearer", "token": "***"}}

    assert admin_client.put(f"/config/exporters/{exporter_id}", body, format="json").status_code in (400, 422)


def test_masked_mqtt_password_with_another_broker_is_refused(admin_client):
    exporter_id = create(admin_client, MQTT)
    body = {"url": "mqtt://attacker.example:1883", "config": {**MQTT["config"], "password": "***"}}

    response = admin_client.put(f"/config/exporters/{exporter_id}", body, format="json")

    assert response.status_code in (400, 422)
    assert Exporter.objects.get(pk=exporter_id).plain("config")["password"] == "mqtt-secret-1"


def test_credentials_are_kept_for_another_path_on_the_same_address(admin_client):
    exporter_id = create(admin_client, REST)

    response = admin_client.put(
        f"/config/exporters/{exporter_id}", {"url": "http://127.0.0.1:9/v2/events"}, format="json"
    )

    assert response.status_code == 200, response.content
    exporter = Exporter.objects.get(pk=exporter_id)
    assert exporter.plain("auth")["token"] == TOKEN
    assert exporter.plain("headers")["X-Session-Token"] == "hdr-secret-1"


def test_new_credentials_sent_with_the_new_url_are_accepted(admin_client):
    exporter_id = create(admin_client, REST)
    body = {"url": "http://127.0.0.2:9/x", "headers": {}, "auth": {"type": "bearer", "token": "fresh-token"}}

    response = admin_client.put(f"/config/exporters/{exporter_id}", body, format="json")

    assert response.status_code == 200, response.content
    assert Exporter.objects.get(pk=exporter_id).plain("auth")["token"] == "fresh-token"


@pytest.fixture
def odoo(admin_client):
    body = {
        "baseUrl": "http://127.0.0.1:8069",
        "database": "db",
        "username": "bot@example.com",
        "apiKey": ODOO_KEY,
    }
    assert admin_client.put("/api/v1/odoo/config", body, format="json").status_code == 200


def test_odoo_key_does_not_follow_a_new_base_url(admin_client, odoo):
    response = admin_client.put(
        "/api/v1/odoo/config", {"baseUrl": "http://attacker.example", "apiKey": "***"}, format="json"
    )

    assert response.status_code == 400
    assert OdooConfig.load().base_url == "http://127.0.0.1:8069"


def test_odoo_test_with_another_base_url_never_sends_the_stored_key(admin_client, odoo, http_peer):
    attacker = http_peer()

    response = admin_client.post("/api/v1/odoo/test", {"baseUrl": attacker.url}, format="json")

    assert response.status_code == 400
    assert attacker.accepted == []


def test_odoo_key_is_kept_for_the_same_address(admin_client, odoo):
    response = admin_client.put("/api/v1/odoo/config", {"baseUrl": "http://127.0.0.1:8069/"}, format="json")

    assert response.status_code == 200
    assert OdooConfig.load().api_key == ODOO_KEY
