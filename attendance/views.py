"""Attendance dashboard pages: the logs (/attendance/) with filters, pages, export and the Odoo box, and the
reports (/attendance/reports/) with charts by day, arrival hour, camera and department (:mod:`accounts.charts`).

Thin: both pages use the filter set and statistics the API uses. Export and Odoo sync run through the JSON
API (``/api/v1/attendance/export``, ``/api/v1/odoo/...``), which takes a JWT: the page's script gets one
from the dashboard's token endpoint.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.charts import Series, bar_chart
from accounts.dashboard import paging_query, permission_required
from attendance import statistics
from attendance.api.filters import AttendanceLogFilterSet
from attendance.choices import BADGE_COLOURS, AttendanceStatus, OdooStatus
from attendance.models import AttendanceLog
from cameras.models import Camera

PAGE_SIZE = 50
FILTER_NAMES = ("search", "cameraId", "dateFrom", "dateTo", "status", "odooStatus", "department", "employeeId")
ARRIVALS_COLOUR = "blue"


def _filtered(request: HttpRequest) -> tuple[dict[str, str], Any, list[str]]:
    filters = {name: request.GET.get(name, "").strip() for name in FILTER_NAMES}
    filterset = AttendanceLogFilterSet(
        {name: value for name, value in filters.items() if value},
        queryset=AttendanceLog.objects.order_by("-date", "employee_id", "id"),
    )
    if filterset.is_valid():
        return filters, filterset, []
    errors = [f"{name}: {message}" for name, messages in filterset.errors.items() for message in messages]
    return filters, filterset, errors


def _shown_time(moment) -> str | None:
    # In the viewer's time zone like every other page (their preference, else the site's), so a sighting
    # reads the same here as on Live view. The API's timeIn/timeOut stay in site time, as the contract says.
    return timezone.localtime(moment).strftime("%H:%M:%S") if moment else None


def _common(filters: dict[str, str]) -> dict[str, Any]:
    return {
        "filters": filters,
        "cameras": Camera.objects.order_by("id").values_list("id", "name"),
        "statuses": AttendanceStatus.choices,
        "odoo_statuses": OdooStatus.choices,
    }


@permission_required("attendance:read")
def logs_page(request: HttpRequest) -> HttpResponse:
    filters, filterset, errors = _filtered(request)
    page = None if errors else Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    user = request.user
    context = {
        **_common(filters),
        "errors": errors,
        "page": page,
        "rows": [
            {
                "log": log,
                "time_in": _shown_time(log.check_in),
                "time_out": _shown_time(log.check_out),
                "badge": BADGE_COLOURS.get(log.status, ""),
                "odoo_badge": BADGE_COLOURS.get(log.odoo_status, ""),
            }
            for log in (page or [])
        ],
        "overview": statistics.overview(),
        "can_export": user.has_permission("attendance:write"),
        "can_read_odoo": user.has_permission("odoo:read"),
        "can_sync_odoo": user.has_permission("odoo:write"),
        "export_filters": {name: value for name, value in filters.items() if value},
        "paging_query": paging_query(request),
    }
    return render(request, "attendance/logs.html", context)


def _status_series(rows: list[dict[str, Any]]) -> list[Series]:
    """Present, late and missed per row, stacked in their badge colours."""
    return [
        Series(status.label, BADGE_COLOURS[status], [row[status.value] for row in rows]) for status in AttendanceStatus
    ]


def report_charts(figures: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The Reports page's charts: logs by day, arrivals by hour, arrivals by camera, logs by department."""
    days, cameras, departments = figures["by_day"], figures["by_camera"], figures["by_department"]
    return {
        "days": bar_chart(
            [str(row["date"]) for row in days], _status_series(days), label_title="Day", value_title="Logs"
        ),
        "hours": bar_chart(
            [f"{row['hour']:02d}:00" for row in figures["by_hour"]],
            [Series("Arrivals", ARRIVALS_COLOUR, [row["count"] for row in figures["by_hour"]])],
            label_title="Hour of arrival (site time)",
            value_title="Arrivals",
        ),
        "cameras": bar_chart(
            [f"{row['camera_id']} {row['camera_name'] or ''}".strip() for row in cameras],
            [Series("Arrivals", ARRIVALS_COLOUR, [row["count"] for row in cameras])],
            label_title="Camera",
            value_title="Arrivals",
            horizontal=True,
        ),
        "departments": bar_chart(
            [row["department"] or "—" for row in departments],
            _status_series(departments),
            label_title="Department",
            value_title="Logs",
            horizontal=True,
        ),
    }


@permission_required("attendance:read")
def reports_page(request: HttpRequest) -> HttpResponse:
    filters, filterset, errors = _filtered(request)
    figures = None
    charts: dict[str, Any] = {}
    if not errors:
        cleaned = filterset.form.cleaned_data
        figures = statistics.attendance_statistics(filterset.qs, cleaned.get("dateFrom"), cleaned.get("dateTo"))
        charts = report_charts(figures)
    context = {
        **_common(filters),
        "errors": errors,
        "figures": figures,
        "charts": charts,
    }
    return render(request, "attendance/reports.html", context)
