"""Attendance figures for ``GET /attendance/statistics`` and ``/overview``, the reports page and the
dashboard: counts by day, arrival hour, camera and department, in the site's time zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import ExtractHour

from attendance import shifts as shift_rules
from attendance.choices import AttendanceStatus, OdooStatus, PresenceStatus
from attendance.models import AttendanceLog, AttendanceRecord
from config.api.contracts import utc_iso

DEFAULT_WINDOW_DAYS = 30
MAX_FILLED_DAYS = 366  # longer ranges list only the days that have logs
GROUPS = ("day", "hour", "camera", "department")

_BY_STATUS = {
    "present": Count("id", filter=Q(status=AttendanceStatus.PRESENT)),
    "late": Count("id", filter=Q(status=AttendanceStatus.LATE)),
    "missed": Count("id", filter=Q(status=AttendanceStatus.MISSED)),
    "total": Count("id"),
}


def window(day_from: date | None, day_to: date | None, now: datetime | None = None) -> tuple[date, date]:
    """The days a statistics request covers: as asked, else the last 30 days (up to today)."""
    if day_to is None:
        day_to = max(shift_rules.site_today(now), day_from) if day_from else shift_rules.site_today(now)
    if day_from is None:
        day_from = day_to - timedelta(days=DEFAULT_WINDOW_DAYS - 1)
    return day_from, day_to


def _rate(attended: int, total: int) -> float:
    return round(100.0 * attended / total, 1) if total else 0.0


def by_day(logs: QuerySet, day_from: date, day_to: date) -> list[dict[str, Any]]:
    rows = {row["date"]: row for row in logs.order_by().values("date").annotate(**_BY_STATUS)}
    if (day_to - day_from).days >= MAX_FILLED_DAYS:
        days = sorted(rows)
    else:
        days = [day_from + timedelta(days=offset) for offset in range((day_to - day_from).days + 1)]
    empty = dict.fromkeys(_BY_STATUS, 0)
    return [{**empty, **rows.get(day, {}), "date": day.isoformat()} for day in days]


def by_hour(logs: QuerySet) -> list[dict[str, int]]:
    """Arrivals (time in) per site-local hour, all 24 hours."""
    counts = dict(
        logs.filter(check_in__isnull=False)
        .order_by()
        .annotate(hour=ExtractHour("check_in", tzinfo=shift_rules.site_zone()))
        .values("hour")
        .annotate(count=Count("id"))
        .values_list("hour", "count")
    )
    return [{"hour": hour, "count": counts.get(hour, 0)} for hour in range(24)]


def by_camera(logs: QuerySet) -> list[dict[str, Any]]:
    rows = (
        logs.filter(camera_id__isnull=False)
        .order_by()
        .values("camera_id")
        .annotate(count=Count("id"), camera_name=Max("camera_name"))
        .order_by("-count", "camera_id")
    )
    return [{"camera_id": row["camera_id"], "camera_name": row["camera_name"], "count": row["count"]} for row in rows]


def by_department(logs: QuerySet) -> list[dict[str, Any]]:
    rows = logs.order_by().values("department").annotate(**_BY_STATUS).order_by("-total", "department")
    return [{**row, "attendance_rate": _rate(row["present"] + row["late"], row["total"])} for row in rows]


def totals(logs: QuerySet) -> dict[str, Any]:
    figures = logs.order_by().aggregate(**_BY_STATUS)
    return {**figures, "attendance_rate": _rate(figures["present"] + figures["late"], figures["total"])}


def attendance_statistics(
    logs: QuerySet, day_from: date | None, day_to: date | None, group: str | None = None
) -> dict[str, Any]:
    """Figures over ``logs`` (already filtered) within the window; ``group`` limits them to one breakdown."""
    day_from, day_to = window(day_from, day_to)
    logs = logs.filter(date__gte=day_from, date__lte=day_to)
    result: dict[str, Any] = {"date_from": day_from.isoformat(), "date_to": day_to.isoformat(), "totals": totals(logs)}
    builders = {
        "day": ("by_day", lambda: by_day(logs, day_from, day_to)),
        "hour": ("by_hour", lambda: by_hour(logs)),
        "camera": ("by_camera", lambda: by_camera(logs)),
        "department": ("by_department", lambda: by_department(logs)),
    }
    for name, (key, build) in builders.items():
        if group in (None, name):
            result[key] = build()
    return result


def overview(day: date | None = None) -> dict[str, Any]:
    """One day at a glance (today by default): who came, on time or late, who was missed or not seen yet,
    who is on site, manual corrections and the Odoo backlog."""
    from recognition.choices import ProfileStatus
    from recognition.models import FaceProfile

    day = day or shift_rules.site_today()
    logs = AttendanceLog.objects.filter(date=day)
    figures = totals(logs)
    active = FaceProfile.objects.filter(status=ProfileStatus.ACTIVE)
    employees = active.count()
    logged = logs.filter(employee_id__in=active.values("employee_id")).count()
    start = shift_rules.at_site(day, datetime.min.time())
    end = shift_rules.at_site(day + timedelta(days=1), datetime.min.time())
    on_site = AttendanceRecord.objects.filter(status=PresenceStatus.ON_SITE, timestamp__gte=start, timestamp__lt=end)
    odoo = AttendanceLog.objects.order_by().aggregate(
        pending=Count("id", filter=Q(odoo_status=OdooStatus.PENDING)),
        failed=Count("id", filter=Q(odoo_status=OdooStatus.FAILED)),
        synced=Count("id", filter=Q(odoo_status=OdooStatus.SYNCED)),
    )
    last = logs.aggregate(last=Max("check_out"), first=Max("check_in"))
    last_sighting = max((moment for moment in last.values() if moment), default=None)
    return {
        "date": day.isoformat(),
        "total_employees": employees,
        "present": figures["present"],
        "late": figures["late"],
        "missed": figures["missed"],
        "logged": figures["total"],
        "not_seen": max(employees - logged, 0),
        "on_site": on_site.count(),
        "attendance_rate": _rate(figures["present"] + figures["late"], employees),
        "manual_overrides": logs.filter(manual_override=True).count(),
        "odoo": odoo,
        "last_sighting": utc_iso(last_sighting),
    }
