"""Fixtures of the attendance tests: the site in a zone ahead of UTC (so site-local days and UTC days
differ), cameras, the attendance writer's client, and sightings as recognition reports them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from rest_framework.test import APIClient

from attendance.models import AttendanceLog
from attendance.services import record_recognition
from cameras.models import Camera
from tests.conftest import role_client
from tests.factories import CameraFactory

SITE_ZONE = "Asia/Ho_Chi_Minh"  # UTC+7 all year
SITE = ZoneInfo(SITE_ZONE)
DAY = date(2025, 11, 5)  # a Wednesday


def local(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A site-local wall-clock moment, as the aware datetime recognition would pass (any zone is fine)."""
    return datetime.combine(day, time(hour, minute, second), tzinfo=SITE)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def site_time_zone(settings):
    """The site in UTC+7 (requested by every module of these tests through ``pytestmark``)."""
    settings.TIME_ZONE = SITE_ZONE
    return SITE


@pytest.fixture
def lobby(db) -> Camera:
    return CameraFactory(id="CAM-01", name="Lobby")


@pytest.fixture
def corridor(db) -> Camera:
    return CameraFactory(id="CAM-03", name="R&D Corridor")


def seen(
    employee_id: str = "EMP-00412",
    at: datetime | None = None,
    camera: Camera | None = None,
    accuracy: float = 99.2,
    name: str = "Sophia Martinez",
    department: str = "Manufacturing",
    thumbnail: str = "",
) -> AttendanceLog:
    return record_recognition(
        employee_id=employee_id,
        name=name,
        department=department,
        camera=camera,
        seen_at=at or local(DAY, 9, 0),
        accuracy=accuracy,
        thumbnail=thumbnail,
    )


@pytest.fixture
def writer_client(db) -> APIClient:
    return role_client("ROLE-ATTENDANCE-WRITER", ["attendance:read", "attendance:write"])
