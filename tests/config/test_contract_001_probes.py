"""001's probes: ``GET /health/live`` (liveness, no dependency) and ``GET /health/ready`` (database, Redis and
storage), as compose.yml's health check and an orchestrator call them: no credentials."""

from __future__ import annotations

import socket

import pytest
from django.core.files.storage import default_storage

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_live_answers_200_without_credentials(client):
    response = client.get("/health/live")

    assert response.status_code == 200
    assert response.json()["status"] == "alive"


def test_live_touches_no_dependency(client, settings, django_assert_num_queries):
    settings.REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"

    with django_assert_num_queries(0):
        response = client.get("/health/live")

    assert response.status_code == 200


def test_ready_answers_200_with_each_dependency(client):
    response = client.get("/health/ready")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "cache", "storage"}
    assert all(check["status"] == "healthy" for check in body["checks"].values())


def test_ready_with_redis_down_is_503_naming_it(client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"

    response = client.get("/health/ready")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["cache"]["status"] == "unhealthy"
    assert body["checks"]["cache"]["error"]


def test_ready_with_storage_down_is_503(client, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a regular file")
    default_storage.location = default_storage.base_location = str(blocker / "media")

    response = client.get("/health/ready")

    assert response.status_code == 503
    assert response.json()["checks"]["storage"]["status"] == "unhealthy"


def test_probes_only_answer_reads(client):
    assert client.post("/health/live").status_code == 405
    assert client.post("/health/ready").status_code == 405
