"""GET /api/v1/shifts: shifts with their compliance."""

from __future__ import annotations

from datetime import time

import pytest
from django.utils import timezone

from tests.attendance.conftest import local, seen
from tests.factories import FaceProfileFactory, ShiftScheduleFactory

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


@pytest.mark.parametrize("count", [3, 6])
def test_listing_costs_the_same_queries_however_many_shifts(viewer_client, count, django_assert_max_num_queries):
    today = timezone.localdate(timezone=timezone.get_default_timezone())
    for number in range(count):
        departments = ["Manufacturing"] if number % 2 else []
        ShiftScheduleFactory(start_time=time(0, number), end_time=time(23, 59), departments=departments)
        FaceProfileFactory(department="Manufacturing")
        seen(f"EMP-{number}", local(today, 0, 30))

    # the user and its last-active stamp, the shifts, everyone expected, everyone attended
    with django_assert_max_num_queries(5):
        response = viewer_client.get(URL)

    assert len(response.json()["data"]) == count
