"""GET /api/v1/shifts: shifts with their compliance."""

from __future__ import annotations

from datetime import time

import pytest
from django.utils import timezone

from tests.attendance.conftest import local, seen
from tests.factories import ShiftScheduleFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_time_zone")]

URL = "/api/v1/shifts"


def test_it_lists_active_shifts_with_compliance(viewer_client):
    today = timezone.localdate(timezone=timezone.get_default_timezone())
    ShiftScheduleFactory(
        id="SHIFT-DAY", start_time=time(0, 0), end_time=time(23, 59), expected_headcount=4, location="Plant A"
    )
    ShiftScheduleFactory(id="SHIFT-OFF", active=False)
    seen("EMP-1", local(today, 0, 5))

    body = viewer_client.get(URL).json()

    assert body["success"] is True
    [shift] = body["data"]
    assert shift["id"] == "SHIFT-DAY"
    assert (shift["startTime"], shift["endTime"], shift["location"]) == ("00:00:00", "23:59:00", "Plant A")
    assert (shift["expectedHeadcount"], shift["presentCount"], shift["compliance"]) == (4, 1, 25.0)
    assert shift["date"] == today.isoformat()
    assert shift["graceMinutes"] == 10


def test_it_needs_attendance_read(api_client):
    assert api_client.get(URL).status_code == 401
