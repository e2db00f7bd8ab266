"""The detection provider's key never follows a changed endpoint (every camera frame would go with it)."""

from __future__ import annotations

import pytest

from recognition.models import DetectionProviderConfig

pytestmark = pytest.mark.django_db

URL = "/api/v1/detections/provider/config"


@pytest.fixture
def provider(admin_client):
    body = {"kind": "http", "endpoint": "http://127.0.0.1:8001/detect", "apiKey": "sk-secret"}
    assert admin_client.put(URL, body, format="json").status_code == 200


@pytest.mark.parametrize("api_key", [{"apiKey": "***"}, {}])
def test_stored_key_does_not_follow_a_new_endpoint_host(admin_client, provider, api_key):
    response = admin_client.put(URL, {"endpoint": "http://attacker.example/detect", **api_key}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "apiKey"
    assert DetectionProviderConfig.load().endpoint == "http://127.0.0.1:8001/detect"


def test_stored_key_stays_for_another_path_on_the_same_endpoint(admin_client, provider):
    response = admin_client.put(URL, {"endpoint": "http://127.0.0.1:8001/v2/detect"}, format="json")

    assert response.status_code == 200
    assert DetectionProviderConfig.load().api_key == "sk-secret"


def test_a_new_endpoint_with_its_key_is_accepted(admin_client, provider):
    body = {"endpoint": "https://provider.example/detect", "apiKey": "sk-new"}

    assert admin_client.put(URL, body, format="json").status_code == 200
    assert DetectionProviderConfig.load().api_key == "sk-new"
