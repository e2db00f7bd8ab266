"""Present or late against the person's shift and its grace period, in the site's time zone."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from attendance.choices import AttendanceStatus
from attendance.models import AttendanceLog
from tests.attendance.conftest import DAY, local, seen, utc
from tests.factories import ShiftScheduleFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_time_zone")]


def test_arriving_before_the_start_is_present():
    ShiftScheduleFactory(start_time=time(9, 0), grace_minutes=10)

    assert seen(at=local(DAY, 8, 40)).status == AttendanceStatus.PRESENT


def test_arriving_within_the_grace_period_is_present():
    ShiftScheduleFactory(start_time=time(9, 0), grace_minutes=10)

    assert seen(at=local(DAY, 9, 9, 59)).status == AttendanceStatus.PRESENT


def test_arriving_at_the_end_of_the_grace_period_is_present():
    ShiftScheduleFactory(start_time=time(9, 0), grace_minutes=10)

    assert seen(at=local(DAY, 9, 10, 0)).status == AttendanceStatus.PRESENT


def test_arriving_after_the_grace_period_is_late():
    ShiftScheduleFactory(start_time=time(9, 0), grace_minutes=10)

    assert seen(at=local(DAY, 9, 10, 1)).status == AttendanceStatus.LATE


def test_a_zero_grace_period_makes_any_delay_late():
    ShiftScheduleFactory(start_time=time(9, 0), grace_minutes=0)

    assert seen(at=local(DAY, 9, 0, 1)).status == AttendanceStatus.LATE


def test_without_a_shift_a_sighting_is_present():
    log = seen(at=local(DAY, 13, 0))

    assert (log.status, log.shift) == (AttendanceStatus.PRESENT, None)


def test_the_log_records_the_shift_it_was_judged_against():
    shift = ShiftScheduleFactory()

    assert seen(at=local(DAY, 9, 0)).shift == shift


def test_a_shift_naming_the_department_wins_over_one_for_everyone():
    ShiftScheduleFactory(id="SHIFT-ALL", start_time=time(8, 0), grace_minutes=0)
    ShiftScheduleFactory(id="SHIFT-MFG", start_time=time(10, 0), grace_minutes=0, departments=["manufacturing"])

    log = seen(at=local(DAY, 9, 30), department="Manufacturing")

    assert (log.shift_id, log.status) == ("SHIFT-MFG", AttendanceStatus.PRESENT)


def test_a_shift_of_another_department_does_not_apply():
    ShiftScheduleFactory(id="SHIFT-RND", start_time=time(6, 0), grace_minutes=0, departments=["R&D"])

    log = seen(at=local(DAY, 9, 30), department="Manufacturing")

    assert (log.shift, log.status) == (None, AttendanceStatus.PRESENT)


def test_of_several_shifts_the_one_starting_nearest_the_arrival_applies():
    ShiftScheduleFactory(id="SHIFT-EARLY", start_time=time(6, 0), end_time=time(14, 0), grace_minutes=5)
    ShiftScheduleFactory(id="SHIFT-LATE", start_time=time(14, 0), end_time=time(22, 0), grace_minutes=5)

    log = seen(at=local(DAY, 13, 50))

    assert (log.shift_id, log.status) == ("SHIFT-LATE", AttendanceStatus.PRESENT)


def test_a_shift_not_running_that_weekday_does_not_apply():
    ShiftScheduleFactory(
        start_time=time(6, 0), grace_minutes=0, weekdays=[1, 2]
    )  # Monday and Tuesday; DAY is a Wednesday

    assert seen(at=local(DAY, 9, 0)).status == AttendanceStatus.PRESENT


def test_an_earlier_sighting_delivered_late_makes_a_late_log_present():
    ShiftScheduleFactory(start_time=time(9, 0), grace_minutes=10)
    seen(at=local(DAY, 9, 30))

    log = seen(at=local(DAY, 8, 50))

    assert log.status == AttendanceStatus.PRESENT


def test_the_day_is_the_site_local_day_not_the_utc_day():
    # 23:30 UTC on the 4th is 06:30 on the 5th at UTC+7.
    log = seen(at=utc(2025, 11, 4, 23, 30))

    assert log.date == date(2025, 11, 5)
    assert log.id == "ATT-20251105-001"


def test_sightings_either_side_of_site_midnight_make_two_logs():
    seen(at=local(DAY, 23, 59, 59))
    seen(at=local(DAY + timedelta(days=1), 0, 0, 1))

    assert sorted(AttendanceLog.objects.values_list("date", flat=True)) == [DAY, DAY + timedelta(days=1)]


def test_lateness_is_judged_in_site_local_time():
    ShiftScheduleFactory(start_time=time(9, 0), grace_minutes=10)

    # 02:05 UTC is 09:05 at the site: within the grace period, though 02:05 is before 09:00 in UTC terms.
    assert seen(at=utc(2025, 11, 5, 2, 5)).status == AttendanceStatus.PRESENT
    assert seen(employee_id="EMP-2", at=utc(2025, 11, 5, 2, 11)).status == AttendanceStatus.LATE


def test_shift_times_follow_daylight_saving_time(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    ShiftScheduleFactory(start_time=time(9, 0), grace_minutes=0)
    summer = date(2025, 7, 2)  # CEST, UTC+2: 09:00 local is 07:00 UTC

    assert seen(at=datetime(2025, 7, 2, 7, 0, tzinfo=ZoneInfo("UTC"))).status == AttendanceStatus.PRESENT
    assert seen(employee_id="EMP-2", at=datetime(2025, 7, 2, 7, 1, tzinfo=ZoneInfo("UTC"))).status == "late"
    assert AttendanceLog.objects.filter(date=summer).count() == 2


def test_a_manual_status_is_not_changed_by_recognition():
    ShiftScheduleFactory(start_time=time(9, 0), grace_minutes=0)
    log = seen(at=local(DAY, 10, 0))
    AttendanceLog.objects.filter(pk=log.pk).update(status=AttendanceStatus.PRESENT, manual_override=True)

    log = seen(at=local(DAY, 9, 30))  # earlier, but still late by the rules

    assert log.status == AttendanceStatus.PRESENT
    assert log.check_in == local(DAY, 9, 30)
