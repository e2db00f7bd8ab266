"""mark_missed: after the shifts of a day end, active enrolled people not seen that day are logged missed."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django_celery_beat.models import PeriodicTask

from attendance.choices import AttendanceStatus
from attendance.models import AttendanceLog
from attendance.services import mark_missed
from recognition.models import FaceProfile
from tests.attendance.conftest import DAY, local, seen
from tests.factories import FaceProfileFactory, ShiftScheduleFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_time_zone")]

AFTER_END = local(DAY, 17, 1)


@pytest.fixture
def enrolled_before(db):
    """People enrolled early on DAY (profiles enrolled after a shift's end are not counted for it)."""

    def enrol_early(employee_id: str, name: str, **fields) -> FaceProfile:
        profile = FaceProfileFactory(employee_id=employee_id, name=name, **{"department": "Manufacturing", **fields})
        FaceProfile.objects.filter(pk=profile.pk).update(created_at=local(DAY, 7, 0))
        return profile

    return enrol_early


def test_someone_not_seen_by_the_shifts_end_is_logged_missed(enrolled_before):
    shift = ShiftScheduleFactory(end_time=time(17, 0))
    enrolled_before("EMP-1", "Ann")

    assert mark_missed(now=AFTER_END) == 1

    log = AttendanceLog.objects.get(employee_id="EMP-1", date=DAY)
    assert (log.status, log.name, log.shift, log.check_in, log.check_out) == ("missed", "Ann", shift, None, None)
    assert log.id == "ATT-20251105-001"


def test_nobody_is_missed_before_the_shift_ends(enrolled_before):
    ShiftScheduleFactory(end_time=time(17, 0))
    enrolled_before("EMP-1", "Ann")

    assert mark_missed(now=local(DAY, 16, 59)) == 0
    assert not AttendanceLog.objects.filter(date=DAY).exists()


def test_someone_seen_that_day_is_not_missed(enrolled_before):
    ShiftScheduleFactory()
    enrolled_before("EMP-1", "Ann")
    seen(employee_id="EMP-1", at=local(DAY, 9, 40))

    mark_missed(now=AFTER_END)

    assert AttendanceLog.objects.get(employee_id="EMP-1", date=DAY).status == AttendanceStatus.LATE


def test_running_it_again_creates_nothing_more(enrolled_before):
    ShiftScheduleFactory()
    enrolled_before("EMP-1", "Ann")
    mark_missed(now=AFTER_END)

    assert mark_missed(now=AFTER_END + timedelta(minutes=5)) == 0
    assert AttendanceLog.objects.filter(date=DAY).count() == 1


def test_profiles_not_active_are_not_missed(enrolled_before):
    ShiftScheduleFactory()
    enrolled_before("EMP-1", "Pending Person", status="pending")
    enrolled_before("EMP-2", "Archived Person", status="archived")

    assert mark_missed(now=AFTER_END) == 0


def test_only_the_departments_on_the_shift_are_missed(enrolled_before):
    ShiftScheduleFactory(departments=["Manufacturing"])
    enrolled_before("EMP-1", "Ann", department="manufacturing")
    enrolled_before("EMP-2", "Bob", department="Sales")

    mark_missed(now=AFTER_END)

    assert list(AttendanceLog.objects.values_list("employee_id", flat=True)) == ["EMP-1"]


def test_a_department_with_its_own_shift_waits_for_that_shift(enrolled_before):
    ShiftScheduleFactory(id="SHIFT-ALL", end_time=time(17, 0))
    ShiftScheduleFactory(id="SHIFT-NIGHTS", start_time=time(18, 0), end_time=time(23, 0), departments=["Security"])
    enrolled_before("EMP-1", "Ann", department="Manufacturing")
    enrolled_before("EMP-2", "Sam", department="Security")

    mark_missed(now=AFTER_END)

    assert list(AttendanceLog.objects.values_list("employee_id", flat=True)) == ["EMP-1"]


def test_with_several_shifts_a_person_is_missed_only_after_the_last_ends(enrolled_before):
    ShiftScheduleFactory(id="SHIFT-EARLY", start_time=time(6, 0), end_time=time(14, 0))
    ShiftScheduleFactory(id="SHIFT-LATE", start_time=time(14, 0), end_time=time(22, 0))
    enrolled_before("EMP-1", "Ann")

    assert mark_missed(now=local(DAY, 15, 0)) == 0
    assert mark_missed(now=local(DAY, 22, 0)) == 1
    assert AttendanceLog.objects.get().shift_id == "SHIFT-EARLY"


def test_nobody_is_missed_on_a_day_the_shift_does_not_run(enrolled_before):
    ShiftScheduleFactory(weekdays=[1, 2])  # DAY is a Wednesday
    enrolled_before("EMP-1", "Ann")

    assert mark_missed(now=AFTER_END) == 0


def test_without_shifts_nobody_is_missed(enrolled_before):
    enrolled_before("EMP-1", "Ann")

    assert mark_missed(now=AFTER_END) == 0


def test_someone_enrolled_after_the_shift_ended_is_not_missed(db):
    ShiftScheduleFactory()
    FaceProfileFactory(employee_id="EMP-1", name="Ann", department="Manufacturing")  # created now, long after DAY

    assert mark_missed(now=AFTER_END) == 0


def test_a_night_shift_is_missed_after_it_ends_the_next_morning(enrolled_before):
    ShiftScheduleFactory(id="SHIFT-NIGHT", start_time=time(22, 0), end_time=time(6, 0))
    enrolled_before("EMP-1", "Ann")

    assert mark_missed(now=local(DAY + timedelta(days=1), 5, 59)) == 0
    assert mark_missed(now=local(DAY + timedelta(days=1), 6, 0)) == 1
    assert AttendanceLog.objects.get().date == DAY


def test_arriving_after_midnight_for_a_night_shift_is_not_missed(enrolled_before):
    ShiftScheduleFactory(id="SHIFT-NIGHT", start_time=time(22, 0), end_time=time(6, 0))
    enrolled_before("EMP-1", "Ann")
    seen(employee_id="EMP-1", at=local(DAY + timedelta(days=1), 0, 30))  # a log of the next site day

    mark_missed(now=local(DAY + timedelta(days=1), 6, 0))

    assert not AttendanceLog.objects.filter(date=DAY).exists()


def test_yesterday_is_caught_up_after_a_beat_outage(enrolled_before):
    ShiftScheduleFactory()
    enrolled_before("EMP-1", "Ann")

    mark_missed(now=local(DAY + timedelta(days=1), 8, 0))

    assert AttendanceLog.objects.get().date == DAY


def test_being_seen_after_being_missed_turns_the_log_late(enrolled_before):
    ShiftScheduleFactory()
    enrolled_before("EMP-1", "Ann")
    mark_missed(now=AFTER_END)

    log = seen(employee_id="EMP-1", at=local(DAY, 18, 0))

    assert (log.status, log.check_in) == (AttendanceStatus.LATE, local(DAY, 18, 0))


def test_the_beat_schedule_runs_it_every_five_minutes():
    task = PeriodicTask.objects.get(task="attendance.mark_missed")

    assert task.enabled
    assert task.interval.every == 300


def test_days_before_yesterday_are_left_alone(enrolled_before):
    ShiftScheduleFactory()
    enrolled_before("EMP-1", "Ann")

    assert mark_missed(now=local(DAY + timedelta(days=2), 8, 0)) == 1  # yesterday only (DAY + 1)
    assert AttendanceLog.objects.get().date == DAY + timedelta(days=1)
