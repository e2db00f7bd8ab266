"""Fixtures of the counting tests: cameras, clients holding each counting permission, count payloads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from rest_framework.test import APIClient

from cameras.models import Camera
from tests.conftest import key_client, role_client
from tests.factories import CameraFactory

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def count(n: int = 5, timestamp: str = "2024-03-01T12:00:00Z", confidence: float = 0.9, **extra: Any) -> dict:
    """A 000 CountData item as a counter sends it."""
    return {"count": n, "timestamp": timestamp, "confidence": confidence, **extra}


def counts_url(camera_id: str) -> str:
    return f"/api/v1/cameras/{camera_id}/counts"


@pytest.fixture
def camera(db) -> Camera:
    return CameraFactory(id="cam-001", name="Main entrance", location="Building A", status="online")


@pytest.fixture
def other_camera(db) -> Camera:
    return CameraFactory(id="cam-002", name="Back door", location="Building B")


@pytest.fixture
def ingest_client(db) -> APIClient:
    """An edge counter: an API key with counts:ingest only."""
    return key_client("counts:ingest")


@pytest.fixture
def reader_client(db) -> APIClient:
    """A person whose role holds counts:read only."""
    return role_client("ROLE-COUNTS", ["counts:read"])
