"""Health checks against the real components: 002's /api/v1/health, 003's /healthz and /healthz/detailed.

Outages are real too: Redis is a closed port, storage a directory that cannot exist.
"""

from __future__ import annotations

import socket
from datetime import datetime

import pytest
from django.core.files.storage import default_storage

pytestmark = pytest.mark.django_db


def _is_iso_utc(value: str) -> bool:
    return value.endswith("Z") and datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_down(settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"


@pytest.fixture
def storage_down(tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a regular file")
    location = str(blocker / "media")  # nothing can be created under a regular file, not even by root
    default_storage.location = location
    default_storage.base_location = location


# --- 002: /api/v1/health ----------------------------------------------------------------------------


def test_gateway_health_is_healthy_with_every_service(api_client):
    response = api_client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"status", "timestamp", "version", "services"}
    assert body["status"] == "healthy"
    assert _is_iso_utc(body["timestamp"])
    assert body["version"] == "1.0.0"
    assert set(body["services"]) == {"beCamera", "beAuth", "database", "cache", "storage"}
    for name, service in body["services"].items():
        assert service["status"] == "healthy", name
        assert isinstance(service["responseTime"], (int, float)) and service["responseTime"] >= 0, name
        assert "error" not in service


def test_gateway_health_with_redis_down_is_503_unhealthy(api_client, redis_down):
    response = api_client.get("/api/v1/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["services"]["cache"]["status"] == "unhealthy"
    assert body["services"]["cache"]["error"]
    assert body["services"]["database"]["status"] == "healthy"


def test_gateway_health_with_storage_down_is_200_degraded(api_client, storage_down):
    response = api_client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["services"]["storage"]["status"] == "unhealthy"
    assert body["services"]["storage"]["error"]
    assert body["services"]["cache"]["status"] == "healthy"


# --- 003: /healthz -----------------------------------------------------------------------------------


def test_edge_health_is_healthy_with_every_component(api_client):
    response = api_client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"status", "timestamp", "version", "components", "uptime_seconds"}
    assert body["status"] == "healthy"
    assert _is_iso_utc(body["timestamp"])
    assert body["version"] == "1.0.0"
    assert set(body["components"]) == {"database", "cache", "s3_storage"}
    for name, component in body["components"].items():
        assert component["status"] == "healthy", name
        assert isinstance(component["response_time_ms"], (int, float)) and component["response_time_ms"] >= 0
        assert "details" not in component, name
    assert isinstance(body["uptime_seconds"], int) and body["uptime_seconds"] >= 0


def test_edge_health_is_public(api_client):
    assert api_client.get("/healthz").status_code == 200


def test_edge_health_with_redis_down_is_503_naming_the_cache(api_client, redis_down):
    response = api_client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    cache = body["components"]["cache"]
    assert cache["status"] == "unhealthy"
    assert cache["error"]
    assert "response_time_ms" not in cache
    assert body["components"]["database"]["status"] == "healthy"
    assert body["components"]["s3_storage"]["status"] == "healthy"


def test_edge_health_with_storage_down_is_503_naming_the_storage(api_client, storage_down):
    response = api_client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["components"]["s3_storage"]["status"] == "unhealthy"
    assert body["components"]["s3_storage"]["error"]


# --- 003: /healthz/detailed -------------------------------------------------------------------------


def test_detailed_health_without_credentials_is_401(api_client):
    response = api_client.get("/healthz/detailed")
    assert response.status_code == 401
    assert response.json()["error_code"] == "AUTHENTICATION_FAILED"


def test_detailed_health_with_a_bearer_token_has_details(viewer_client):
    response = viewer_client.get("/healthz/detailed")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    database = body["components"]["database"]["details"]
    assert database["connections_active"] >= 1
    assert database["connections_max"] >= database["connections_active"]
    assert database["last_check"] == body["timestamp"]
    cache = body["components"]["cache"]["details"]
    assert cache["memory_used_mb"] > 0
    assert isinstance(cache["keys_count"], int) and cache["keys_count"] >= 0
    assert "memory_max_mb" in cache
    storage = body["components"]["s3_storage"]["details"]
    assert storage == {"bucket": "filesystem", "accessible": True}
    for component in body["components"].values():
        assert component["response_time_ms"] >= 0


def test_detailed_health_accepts_an_api_key(api_client, api_key):
    response = api_client.get("/healthz/detailed", HTTP_X_API_KEY=api_key.raw)
    assert response.status_code == 200
    assert "details" in response.json()["components"]["cache"]


def test_detailed_health_with_redis_down_is_503_with_the_cache_error(admin_client, redis_down):
    response = admin_client.get("/healthz/detailed")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    cache = body["components"]["cache"]
    assert cache["status"] == "unhealthy"
    assert cache["error"]
    assert "details" not in cache
    assert "details" in body["components"]["database"]


def test_health_check_leaves_no_probe_file_behind(api_client):
    api_client.get("/healthz")
    assert list(default_storage.listdir("health")[1]) == []
