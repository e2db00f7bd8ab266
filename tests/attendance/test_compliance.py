"""Shift compliance: present (on time or late) over expected headcount, for the shift's latest occurrence."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from attendance import shifts
from attendance.models import ShiftSchedule
from attendance.services import mark_missed, refresh_compliance
from tests.attendance.conftest import DAY, local, seen
from tests.factories import FaceProfileFactory, ShiftScheduleFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_time_zone")]


def test_compliance_is_attended_over_the_set_headcount():
    shift = ShiftScheduleFactory(expected_headcount=4)
    seen(employee_id="EMP-1", at=local(DAY, 8, 55))
    seen(employee_id="EMP-2", at=local(DAY, 9, 30))  # late still attended

    figure = shifts.compliance(shift, now=local(DAY, 12, 0))

    assert (figure.day, figure.attended, figure.expected, figure.percent) == (DAY, 2, 4, 50.0)


def test_without_a_set_headcount_the_active_people_of_its_departments_are_expected():
    shift = ShiftScheduleFactory(departments=["Manufacturing"])
    FaceProfileFactory(employee_id="EMP-1", name="Ann", department="Manufacturing")
    FaceProfileFactory(employee_id="EMP-2", name="Bob", department="Manufacturing")
    FaceProfileFactory(employee_id="EMP-3", name="Cy", department="Sales")
    FaceProfileFactory(employee_id="EMP-4", name="Di", status="archived", department="Manufacturing")
    seen(employee_id="EMP-1", at=local(DAY, 9, 0))

    assert shifts.compliance(shift, now=local(DAY, 12, 0)).percent == 50.0


def test_missed_logs_do_not_count_as_attended():
    shift = ShiftScheduleFactory(expected_headcount=2)
    seen(employee_id="EMP-1", at=local(DAY, 9, 0))
    FaceProfileFactory(employee_id="EMP-2", name="Bob", department="Manufacturing")
    from recognition.models import FaceProfile

    FaceProfile.objects.update(created_at=local(DAY - timedelta(days=3), 9))
    mark_missed(now=local(DAY, 17, 30))

    assert shifts.compliance(shift, now=local(DAY, 17, 30)).attended == 1


def test_before_todays_start_compliance_is_of_yesterdays_occurrence():
    shift = ShiftScheduleFactory(expected_headcount=1)
    seen(at=local(DAY, 9, 0))

    figure = shifts.compliance(shift, now=local(DAY + timedelta(days=1), 7, 0))

    assert (figure.day, figure.percent) == (DAY, 100.0)


def test_compliance_never_exceeds_one_hundred():
    shift = ShiftScheduleFactory(expected_headcount=1)
    seen(employee_id="EMP-1", at=local(DAY, 9, 0))
    seen(employee_id="EMP-2", at=local(DAY, 9, 0))

    assert shifts.compliance(shift, now=local(DAY, 12, 0)).percent == 100.0


def test_refresh_stores_each_active_shifts_compliance():
    ShiftScheduleFactory(id="SHIFT-DAY", expected_headcount=4)
    ShiftScheduleFactory(id="SHIFT-OLD", start_time=time(6, 0), active=False, expected_headcount=1, compliance=12.5)
    seen(at=local(DAY, 9, 0))

    refresh_compliance(now=local(DAY, 12, 0))

    assert ShiftSchedule.objects.get(pk="SHIFT-DAY").compliance == 25.0
    assert ShiftSchedule.objects.get(pk="SHIFT-OLD").compliance == 12.5


def test_compliance_of_several_shifts_gives_each_its_own_figures():
    everyone = ShiftScheduleFactory()
    makers = ShiftScheduleFactory(start_time=time(10, 0), departments=["manufacturing"])
    guards = ShiftScheduleFactory(departments=["Security"], expected_headcount=3)
    FaceProfileFactory(employee_id="EMP-1", name="Ann", department="Manufacturing")
    FaceProfileFactory(employee_id="EMP-2", name="Bob", department="Manufacturing")
    FaceProfileFactory(employee_id="EMP-3", name="Cy", department="Security")
    FaceProfileFactory(employee_id="EMP-4", name="Di", status="archived", department="Manufacturing")
    seen(employee_id="EMP-1", at=local(DAY, 9, 0), department="Manufacturing")
    seen(employee_id="EMP-3", at=local(DAY, 9, 0), department="Security")

    figures = shifts.compliance_of([everyone, makers, guards], now=local(DAY, 12, 0))

    assert {pk: (figure.attended, figure.expected) for pk, figure in figures.items()} == {
        everyone.pk: (0, 3),
        makers.pk: (1, 2),
        guards.pk: (1, 3),
    }
    assert {figure.day for figure in figures.values()} == {DAY}
