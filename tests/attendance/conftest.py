"""Fixtures of the attendance tests: the site in a zone ahead of UTC (so site-local days and UTC days
differ), cameras, enrolled people, shifts, and sightings as recognition reports them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from attendance.models import AttendanceLog, ShiftSchedule
from attendance.services import record_recognition
from cameras.models import Camera
from recognition.models import FaceProfile
from tests.conftest import client_for
from tests.factories import CameraFactory, UserFactory

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


def enrol(employee_id: str, name: str, department: str = "Manufacturing", status: str = "active") -> FaceProfile:
    return FaceProfile.objects.create(employee_id=employee_id, name=name, department=department, status=status)


def make_shift(
    shift_id: str = "SHIFT-DAY",
    start: time = time(9, 0),
    end: time = time(17, 0),
    grace: int = 10,
    departments: list[str] | None = None,
    weekdays: list[int] | None = None,
    **fields,
) -> ShiftSchedule:
    return ShiftSchedule.objects.create(
        id=shift_id,
        name=fields.pop("name", shift_id.title()),
        start_time=start,
        end_time=end,
        grace_minutes=grace,
        departments=departments or [],
        weekdays=weekdays if weekdays is not None else [1, 2, 3, 4, 5, 6, 7],
        **fields,
    )


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


def role_client(role_id: str, permissions: list[str]) -> APIClient:
    Role.objects.get_or_create(id=role_id, defaults={"name": role_id, "permissions": permissions})
    return client_for(UserFactory(role_id=role_id))


@pytest.fixture
def writer_client(db) -> APIClient:
    return role_client("ROLE-ATTENDANCE-WRITER", ["attendance:read", "attendance:write"])
