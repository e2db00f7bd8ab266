"""Shifts in the site's time zone: which shift a person is on, where an occurrence starts and ends, whether an
arrival is present or late, and how many of those expected came (compliance).

A shift is wall-clock times in the site's time zone (``settings.TIME_ZONE``); each day it runs has one
occurrence, from its start on that day to its end (on the next day when the end is before the start).
Everything stored is UTC. The site's zone is used explicitly: a request may have activated a user's own
zone for display, which must not move which day a sighting belongs to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet
from django.utils import timezone

from attendance.choices import AttendanceStatus
from attendance.models import AttendanceLog, ShiftSchedule

ATTENDED = (AttendanceStatus.PRESENT, AttendanceStatus.LATE)


def site_zone() -> ZoneInfo:
    return timezone.get_default_timezone()


def site_local(moment: datetime) -> datetime:
    return timezone.localtime(moment, site_zone())


def site_day(moment: datetime) -> date:
    """The site-local day a moment belongs to."""
    return site_local(moment).date()


def site_today(now: datetime | None = None) -> date:
    return site_day(now or timezone.now())


def at_site(day: date, wall_clock: time) -> datetime:
    """A site-local wall-clock time on ``day`` as an aware datetime (DST-correct)."""
    return datetime.combine(day, wall_clock, tzinfo=site_zone())


@dataclass(frozen=True)
class Occurrence:
    shift: ShiftSchedule
    day: date
    start: datetime
    end: datetime

    @property
    def deadline(self) -> datetime:
        """The last moment an arrival counts as present."""
        return self.start + timedelta(minutes=self.shift.grace_minutes)


def occurrence(shift: ShiftSchedule, day: date) -> Occurrence:
    start = at_site(day, shift.start_time)
    end_day = day + timedelta(days=1) if shift.end_time <= shift.start_time else day
    return Occurrence(shift, day, start, at_site(end_day, shift.end_time))


def runs_on(shift: ShiftSchedule, day: date) -> bool:
    weekdays = shift.weekdays or []
    return not weekdays or day.isoweekday() in weekdays


def _covers(shift: ShiftSchedule, department: str) -> bool:
    wanted = department.strip().casefold()
    return any(str(name).strip().casefold() == wanted for name in shift.departments or [])


def shifts_for_department(department: str, day: date, shifts: Iterable[ShiftSchedule] | None = None) -> list:
    """The active shifts a department works on ``day``: those that name it, else those for everyone."""
    running = [shift for shift in (shifts if shifts is not None else active_shifts()) if runs_on(shift, day)]
    named = [shift for shift in running if shift.departments and _covers(shift, department)]
    return named or [shift for shift in running if not shift.departments]


def active_shifts() -> list[ShiftSchedule]:
    return list(ShiftSchedule.objects.filter(active=True))


def shift_for(department: str, moment: datetime, shifts: Iterable[ShiftSchedule] | None = None):
    """The shift a sighting at ``moment`` belongs to: of the department's shifts that day, the one whose
    start is nearest. None when the department has no shift that day."""
    day = site_day(moment)
    candidates = shifts_for_department(department, day, shifts)
    if not candidates:
        return None
    return min(candidates, key=lambda shift: (abs(occurrence(shift, day).start - moment), shift.pk))


def status_for(shift: ShiftSchedule | None, day: date, check_in: datetime) -> str:
    """Present up to the shift's start plus its grace period, late after; present without a shift."""
    if shift is None:
        return AttendanceStatus.PRESENT
    return AttendanceStatus.PRESENT if check_in <= occurrence(shift, day).deadline else AttendanceStatus.LATE


def latest_started(shift: ShiftSchedule, now: datetime) -> Occurrence | None:
    """The shift's occurrence running now, or the last one that ran (within a week)."""
    today = site_today(now)
    for back in range(8):
        day = today - timedelta(days=back)
        if runs_on(shift, day):
            current = occurrence(shift, day)
            if current.start <= now:
                return current
    return None


def department_filter(shift: ShiftSchedule) -> Q:
    """Matches the face profiles (or logs) of the shift's departments, ignoring case."""
    query = Q()
    for name in shift.departments or []:
        query |= Q(department__iexact=str(name).strip())
    return query


def expected_headcount(shift: ShiftSchedule) -> int:
    """The shift's set headcount, else the active enrolled people of its departments."""
    if shift.expected_headcount:
        return shift.expected_headcount
    from recognition.choices import ProfileStatus
    from recognition.models import FaceProfile

    profiles = FaceProfile.objects.filter(status=ProfileStatus.ACTIVE)
    if shift.departments:
        profiles = profiles.filter(department_filter(shift))
    return profiles.count()


@dataclass(frozen=True)
class Compliance:
    day: date | None
    attended: int
    expected: int

    @property
    def percent(self) -> float:
        if not self.expected or self.day is None:
            return 0.0
        return round(min(100.0, 100.0 * self.attended / self.expected), 2)


def compliance(shift: ShiftSchedule, now: datetime | None = None, logs: QuerySet | None = None) -> Compliance:
    """Present (on time or late) over expected headcount for the shift's current or last occurrence."""
    current = latest_started(shift, now or timezone.now())
    expected = expected_headcount(shift)
    if current is None:
        return Compliance(None, 0, expected)
    logs = AttendanceLog.objects.all() if logs is None else logs
    attended = logs.filter(shift=shift, date=current.day, status__in=ATTENDED).count()
    return Compliance(current.day, attended, expected)
