"""One delivery to one exporter (``integrations.exporters.deliver``): what a REST peer receives, what an MQTT
subscriber receives on the local broker, and how failures are reported."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from integrations import exporters
from tests.integrations.conftest import TOKEN, mqtt_exporter, rest_exporter
from tests.integrations.peers import MQTT_HOST, free_port

pytestmark = pytest.mark.django_db

EVENT = {"event_id": "evt-001", "plate_text": "ABC123", "confidence": 0.95}


def test_rest_delivery_posts_the_payload_as_json(http_peer):
    peer = http_peer()
    result = exporters.deliver(rest_exporter(peer.url), EVENT, key="evt-001", kind="anpr.event")
    assert (result.ok, result.http_status) == (True, 200)
    (request,) = peer.requests
    assert (request.method, request.path) == ("POST", "/events/ingest")
    assert request.headers["content-type"] == "application/json"
    assert request.json == EVENT


def test_rest_delivery_sends_the_exporters_headers(http_peer):
    peer = http_peer()
    exporter = rest_exporter(peer.url, headers={"X-Site": "gate-1", "Authorization": "Custom abc"}, auth=None)
    exporters.deliver(exporter, EVENT)
    headers = peer.requests[0].headers
    assert (headers["x-site"], headers["authorization"]) == ("gate-1", "Custom abc")


def test_rest_delivery_with_bearer_auth_sends_the_token(http_peer):
    peer = http_peer()
    exporters.deliver(rest_exporter(peer.url), EVENT)
    assert peer.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_rest_delivery_with_basic_auth_sends_the_pair(http_peer):
    peer = http_peer()
    exporter = rest_exporter(peer.url, auth={"type": "basic", "username": "argus", "password": "pw"})
    exporters.deliver(exporter, EVENT)
    assert peer.requests[0].headers["authorization"] == "Basic " + base64.b64encode(b"argus:pw").decode()


def test_rest_delivery_with_api_key_auth_uses_x_api_key_by_default(http_peer):
    peer = http_peer()
    exporters.deliver(rest_exporter(peer.url, auth={"type": "api_key", "key": "k-1"}), EVENT)
    assert peer.requests[0].headers["x-api-key"] == "k-1"


def test_rest_delivery_with_api_key_auth_uses_the_configured_header(http_peer):
    peer = http_peer()
    auth = {"type": "api_key", "key": "k-1", "header_name": "X-Auth-Key"}
    exporters.deliver(rest_exporter(peer.url, auth=auth), EVENT)
    assert peer.requests[0].headers["x-auth-key"] == "k-1"


def test_rest_delivery_names_the_event_for_idempotent_peers(http_peer):
    peer = http_peer()
    exporters.deliver(rest_exporter(peer.url), EVENT, key="evt-001", kind="anpr.event")
    assert peer.requests[0].headers["idempotency-key"] == "evt-001"


def test_rest_delivery_sends_dates_as_iso_8601(http_peer):
    peer = http_peer()
    exporters.deliver(rest_exporter(peer.url), {"timestamp": datetime(2023, 12, 15, 14, 30, 45, tzinfo=UTC)})
    assert peer.requests[0].json == {"timestamp": "2023-12-15T14:30:45Z"}


def test_rest_5xx_is_a_retryable_failure(http_peer):
    result = exporters.deliver(rest_exporter(http_peer(fail_first=1).url), EVENT)
    assert (result.ok, result.http_status, result.retryable, result.error_code) == (False, 503, True, "SVC_001")


def test_rest_4xx_is_a_final_failure(http_peer):
    result = exporters.deliver(rest_exporter(http_peer(fail_first=1, failure_status=422).url), EVENT)
    assert (result.ok, result.http_status, result.retryable) == (False, 422, False)


def test_rest_429_is_a_retryable_failure(http_peer):
    result = exporters.deliver(rest_exporter(http_peer(fail_first=1, failure_status=429).url), EVENT)
    assert result.retryable


def test_rest_closed_port_is_connection_refused(closed_url):
    result = exporters.deliver(rest_exporter(closed_url), EVENT)
    assert (result.ok, result.error, result.retryable, result.error_code) == (
        False,
        "Connection refused",
        True,
        "SVC_001",
    )


def test_rest_slow_peer_times_out_with_svc_003(http_peer, monkeypatch):
    monkeypatch.setattr(exporters, "TIMEOUT_SECONDS", 0.3)
    result = exporters.deliver(rest_exporter(http_peer(delay=1.5).url), EVENT)
    assert (result.ok, result.error, result.retryable, result.error_code) == (False, "Timed out", True, "SVC_003")


def test_rest_redirect_is_not_followed(http_peer):
    result = exporters.deliver(rest_exporter(http_peer(fail_first=1, failure_status=302).url), EVENT)
    assert (result.ok, result.http_status) == (False, 302)


def test_mqtt_delivery_publishes_the_payload_with_qos_1(mqtt_topic, subscriber):
    result = exporters.deliver(mqtt_exporter(mqtt_topic), EVENT, key="evt-001")
    assert result.ok, result.error
    (message,) = subscriber.wait_for(1)
    assert message.topic == mqtt_topic
    assert message.qos == 1
    assert json.loads(message.payload) == EVENT


def test_mqtt_delivery_publishes_with_qos_2(mqtt_topic, subscriber):
    exporter = mqtt_exporter(mqtt_topic, config={"qos": 2})
    assert exporters.deliver(exporter, EVENT).ok
    assert subscriber.wait_for(1)[0].qos == 2


def test_mqtt_delivery_publishes_with_qos_0(mqtt_topic, subscriber):
    exporter = mqtt_exporter(mqtt_topic, config={"qos": 0})
    assert exporters.deliver(exporter, EVENT).ok
    assert subscriber.wait_for(1)[0].qos == 0


def test_mqtt_delivery_with_credentials_reaches_a_broker_that_allows_anonymous(mqtt_topic, subscriber):
    exporter = mqtt_exporter(mqtt_topic, config={"username": "argus", "password": "pw"})
    assert exporters.deliver(exporter, EVENT).ok
    assert len(subscriber.wait_for(1)) == 1


def test_mqtt_delivery_to_no_broker_is_connection_refused(mqtt_topic):
    result = exporters.deliver(mqtt_exporter(mqtt_topic, url=f"mqtt://{MQTT_HOST}:{free_port()}"), EVENT)
    assert (result.ok, result.error, result.retryable) == (False, "Connection refused", True)
