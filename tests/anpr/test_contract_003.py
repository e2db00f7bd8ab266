"""003's client: ``/healthz/detailed`` carries the ``metrics`` block, and event reads share the events limit
(1000/min per edge worker) with ingest instead of the 100/min configuration bucket."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from anpr.models import PlateEvent
from tests.factories import ApiKeyFactory

pytestmark = pytest.mark.django_db


def _event(n: int, *, minutes_ago: float, processing: int | None) -> PlateEvent:
    metadata = {"edge_worker_id": "edge-001"} | ({"processing_time_ms": processing} if processing is not None else {})
    stored = timezone.now() - timedelta(minutes=minutes_ago)
    return PlateEvent.objects.create(
        event_id=f"evt-{n}",
        timestamp=stored,
        camera_id="cam-001",
        plate_text="ABC123",
        plate_normalized="ABC123",
        confidence=0.9,
        metadata=metadata,
        created_at=stored,
    )


@pytest.fixture
def edge_client(api_client):
    key = ApiKeyFactory(scopes=["anpr:ingest", "anpr:read"])
    api_client.credentials(HTTP_X_API_KEY=key.raw)
    return api_client


def test_detailed_health_carries_003s_metrics(edge_client):
    _event(1, minutes_ago=5, processing=200)
    _event(2, minutes_ago=10, processing=300)
    _event(3, minutes_ago=30, processing=None)  # a worker that reports no processing time
    _event(4, minutes_ago=120, processing=5000)  # older than the hour

    metrics = edge_client.get("/healthz/detailed").json()["metrics"]

    assert metrics == {"events_total": 4, "events_per_minute": 0.05, "avg_processing_time_ms": 250.0}


def test_detailed_health_metrics_without_events(edge_client):
    metrics = edge_client.get("/healthz/detailed").json()["metrics"]

    assert metrics == {"events_total": 0, "events_per_minute": 0.0, "avg_processing_time_ms": None}


def test_the_plain_healthz_has_no_metrics(api_client):
    assert "metrics" not in api_client.get("/healthz").json()


@pytest.mark.parametrize("path", ["/events", "/events/stats", "/events/evt-1"])
def test_event_reads_are_limited_by_the_events_bucket(edge_client, path):
    _event(1, minutes_ago=1, processing=100)

    response = edge_client.get(path)

    assert response.status_code == 200
    assert response["X-RateLimit-Limit"] == "1000"


def test_event_reads_and_ingest_share_one_bucket(edge_client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "ingest": 3}
    edge_client.get("/events")
    edge_client.post("/events/ingest", {"event_id": "bad"}, format="json")  # refused, but it took a token
    edge_client.get("/events/stats")

    response = edge_client.get("/events")

    assert response.status_code == 429
    assert response.json()["error_code"] == "RATE_LIMIT_EXCEEDED"


def test_configuration_keeps_its_100_per_minute(edge_client, admin_client):
    response = admin_client.get("/config/cameras")

    assert response["X-RateLimit-Limit"] == "100"
