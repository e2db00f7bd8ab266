"""Shifts are edited in Admin; logs are browsable there."""

from __future__ import annotations

import pytest

from attendance.models import ShiftSchedule
from tests.attendance.conftest import seen
from tests.factories import ShiftScheduleFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_time_zone")]


@pytest.fixture
def admin(client, admin_user):
    client.force_login(admin_user)
    return client


def test_a_shift_is_created_in_admin(admin):
    response = admin.post(
        "/admin/attendance/shiftschedule/add/",
        {
            "id": "SHIFT-MORNING",
            "name": "Morning",
            "start_time": "06:00",
            "end_time": "14:00",
            "grace_minutes": "5",
            "location": "Plant A",
            "departments": "Manufacturing, Logistics, ",
            "weekdays": ["1", "3", "5"],
            "expected_headcount": "12",
            "active": "on",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    shift = ShiftSchedule.objects.get(pk="SHIFT-MORNING")
    assert shift.departments == ["Manufacturing", "Logistics"]
    assert shift.weekdays == [1, 3, 5]
    assert shift.grace_minutes == 5


def test_the_shift_form_shows_departments_as_one_line(admin):
    ShiftScheduleFactory(id="SHIFT-X", name="X", start_time="09:00", end_time="17:00", departments=["R&D", "Sales"])

    assert 'value="R&amp;D, Sales"' in admin.get("/admin/attendance/shiftschedule/SHIFT-X/change/").content.decode()


def test_the_log_list_renders(admin):
    seen()

    response = admin.get("/admin/attendance/attendancelog/")

    assert response.status_code == 200
    assert "ATT-20251105-001" in response.content.decode()
