"""Shifts in the site's time zone: which shift a person is on, where an occurrence starts and ends, whether an
arrival is present or late, and how many of those expected came (compliance).

A shift is wall-clock times in the site's time zone (``settings.TIME_ZONE``); each day it runs has one
occurrence, from its start on that day to its end (on the next day when the end is before the start).
Everything stored is UTC. The site's zone is used explicitly: a request may have activated a user's own
zone for display, which must not move which day a sighting belongs to.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet
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


def expected_headcounts(shifts: Sequence[ShiftSchedule]) -> dict[str, int]:
    """Each shift's set headcount, else the active enrolled people of its departments (all of them counted
    in one query)."""
    from recognition.choices import ProfileStatus
    from recognition.models import FaceProfile

    figures = {shift.pk: shift.expected_headcount for shift in shifts if shift.expected_headcount}
    counted = [shift for shift in shifts if not shift.expected_headcount]
    if counted:
        per_shift = {
            f"shift_{index}": Count("pk", filter=department_filter(shift) if shift.departments else None)
            for index, shift in enumerate(counted)
        }
        totals = FaceProfile.objects.filter(status=ProfileStatus.ACTIVE).aggregate(**per_shift)
        figures.update({shift.pk: totals[f"shift_{index}"] for index, shift in enumerate(counted)})
    return figures


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
    return compliance_of([shift], now, logs)[shift.pk]


def compliance_of(
    shifts: Iterable[ShiftSchedule], now: datetime | None = None, logs: QuerySet | None = None
) -> dict[str, Compliance]:
    """``compliance`` of several shifts by shift id, in at most two queries however many shifts there are
    (the shifts list would otherwise cost two per shift)."""
    shifts = list(shifts)
    now = now or timezone.now()
    current = {shift.pk: latest_started(shift, now) for shift in shifts}
    expected = expected_headcounts(shifts)
    running = [shift for shift in shifts if current[shift.pk] is not None]
    attended: dict[str, int] = {}
    if running:
        logs = AttendanceLog.objects.all() if logs is None else logs
        per_shift = {
            f"shift_{index}": Count("pk", filter=Q(shift=shift, date=current[shift.pk].day, status__in=ATTENDED))
            for index, shift in enumerate(running)
        }
        totals = logs.aggregate(**per_shift)
        attended = {shift.pk: totals[f"shift_{index}"] for index, shift in enumerate(running)}
    return {
        shift.pk: Compliance(
            current[shift.pk].day if current[shift.pk] else None, attended.get(shift.pk, 0), expected[shift.pk]
        )
        for shift in shifts
    }
