"""003 ``POST /config/exporters/{id}/test``: a real delivery of a test payload; 200 or 503 as the spec shows."""

from __future__ import annotations

import json

import pytest

from tests.integrations.conftest import TOKEN, mqtt_exporter, rest_exporter
from tests.integrations.peers import MQTT_HOST, free_port

pytestmark = pytest.mark.django_db


def test_test_against_a_live_peer_answers_200_in_003_shape(admin_client, http_peer):
    exporter = rest_exporter(http_peer().url)
    response = admin_client.post(f"/config/exporters/{exporter.pk}/test")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"status", "message", "response_time_ms", "http_status"}
    assert (body["status"], body["message"], body["http_status"]) == ("success", "Connection test successful", 200)
    assert isinstance(body["response_time_ms"], int)


def test_test_sends_a_test_payload_with_the_exporters_auth(admin_client, http_peer):
    peer = http_peer()
    exporter = rest_exporter(peer.url)
    admin_client.post(f"/config/exporters/{exporter.pk}/test")
    (request,) = peer.requests
    assert request.json["type"] == "test"
    assert request.json["exporter_id"] == exporter.pk
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


def test_test_against_a_closed_port_answers_503_in_003_shape(admin_client, closed_url):
    exporter = rest_exporter(closed_url)
    response = admin_client.post(f"/config/exporters/{exporter.pk}/test")
    assert response.status_code == 503
    body = response.json()
    assert set(body) == {"status", "message", "error", "response_time_ms"}
    assert (body["status"], body["message"], body["error"]) == (
        "failed",
        "Connection test failed",
        "Connection refused",
    )


def test_test_against_a_failing_peer_answers_503_with_its_status(admin_client, http_peer):
    exporter = rest_exporter(http_peer(fail_first=1, failure_status=500).url)
    body = admin_client.post(f"/config/exporters/{exporter.pk}/test").json()
    assert body["status"] == "failed"
    assert body["http_status"] == 500
    assert body["error"].startswith("HTTP 500")


def test_test_error_never_shows_a_secret_the_peer_echoes(admin_client, http_peer):
    exporter = rest_exporter(http_peer(fail_first=1, failure_status=400, echo_headers=True).url)
    response = admin_client.post(f"/config/exporters/{exporter.pk}/test")
    assert response.status_code == 503
    assert "***" in response.json()["error"]
    assert TOKEN not in response.content.decode()


def test_test_does_not_touch_the_outbox_or_the_counters(admin_client, closed_url):
    exporter = rest_exporter(closed_url)
    admin_client.post(f"/config/exporters/{exporter.pk}/test")
    exporter.refresh_from_db()
    assert (exporter.failed_count, exporter.messages.count()) == (0, 0)


def test_test_of_an_mqtt_exporter_publishes_to_its_topic(admin_client, mqtt_topic, subscriber):
    exporter = mqtt_exporter(mqtt_topic)
    response = admin_client.post(f"/config/exporters/{exporter.pk}/test")
    assert response.status_code == 200, response.content
    assert response.json()["http_status"] is None
    (message,) = subscriber.wait_for(1)
    assert json.loads(message.payload)["type"] == "test"


def test_test_of_an_mqtt_exporter_with_no_broker_answers_503(admin_client, mqtt_topic):
    exporter = mqtt_exporter(mqtt_topic, url=f"mqtt://{MQTT_HOST}:{free_port()}")
    response = admin_client.post(f"/config/exporters/{exporter.pk}/test")
    assert response.status_code == 503
    assert response.json()["error"] == "Connection refused"


def test_test_of_an_unknown_exporter_answers_404(admin_client):
    assert admin_client.post("/config/exporters/exporter-404/test").status_code == 404


def test_user_without_anpr_write_cannot_test(viewer_client, http_peer):
    peer = http_peer()
    exporter = rest_exporter(peer.url)
    assert viewer_client.post(f"/config/exporters/{exporter.pk}/test").status_code == 403
    assert peer.requests == []
