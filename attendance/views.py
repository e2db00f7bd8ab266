"""Attendance dashboard pages: the logs (/attendance/) with filters, pages, export and the Odoo box, and the
reports (/attendance/reports/) with charts by day, arrival hour, camera and department.

Thin: both pages use the filter set and statistics the API uses. Export and Odoo sync run through the JSON
API (``/api/v1/attendance/export``, ``/api/v1/odoo/...``), which takes a JWT: the page's script gets one
from the dashboard's token endpoint.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.dashboard import paging_query, permission_required
from attendance import shifts as shift_rules
from attendance import statistics
from attendance.api.filters import AttendanceLogFilterSet
from attendance.choices import BADGE_COLOURS, AttendanceStatus, OdooStatus
from attendance.models import AttendanceLog
from cameras.models import Camera

PAGE_SIZE = 50
FILTER_NAMES = ("search", "cameraId", "dateFrom", "dateTo", "status", "odooStatus", "department", "employeeId")
CHART_WIDTH, CHART_HEIGHT = 720, 180
BAR_ROW = 26  # height of one row of a horizontal bar chart
STATUS_SERIES = (
    (AttendanceStatus.PRESENT, "present"),
    (AttendanceStatus.LATE, "late"),
    (AttendanceStatus.MISSED, "missed"),
)


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


def _site_time(moment) -> str | None:
    # Attendance is read in the site's wall-clock time, as the API's timeIn/timeOut, whoever looks.
    return shift_rules.site_local(moment).strftime("%H:%M:%S") if moment else None


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
                "time_in": _site_time(log.check_in),
                "time_out": _site_time(log.check_out),
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


def vertical_bars(points: list[tuple[str, dict[str, int]]], series=STATUS_SERIES) -> list[dict[str, Any]]:
    """Stacked columns for an SVG chart: one per point, a segment per series, scaled to the tallest."""
    if not points:
        return []
    peak = max((sum(values.get(key, 0) for key, _ in series) for _, values in points), default=0) or 1
    width = CHART_WIDTH / len(points)
    usable = CHART_HEIGHT - 20
    columns = []
    for index, (label, values) in enumerate(points):
        bottom = CHART_HEIGHT
        segments = []
        for key, css in series:
            height = round(values.get(key, 0) / peak * usable, 1)
            bottom -= height
            segments.append({"y": round(bottom, 1), "height": height, "css": css, "count": values.get(key, 0)})
        columns.append(
            {
                "label": label,
                "x": round(index * width, 2),
                "width": round(max(width - 2, 0.5), 2),
                "segments": [segment for segment in segments if segment["height"] > 0],
                "total": sum(values.get(key, 0) for key, _ in series),
            }
        )
    return columns


def horizontal_bars(rows: list[dict[str, Any]], label_key: str, series=STATUS_SERIES) -> dict[str, Any]:
    """Stacked rows (camera, department) for an SVG chart, with the label beside each bar."""
    label_width = 200
    usable = CHART_WIDTH - label_width - 50
    peak = max((sum(row.get(key, 0) for key, _ in series) for row in rows), default=0) or 1
    bars = []
    for index, row in enumerate(rows):
        x = label_width
        segments = []
        for key, css in series:
            width = round(row.get(key, 0) / peak * usable, 1)
            if width > 0:
                segments.append({"x": x, "width": width, "css": css, "count": row.get(key, 0)})
            x += width
        total = sum(row.get(key, 0) for key, _ in series)
        y = index * BAR_ROW
        bars.append(
            {
                "label": row[label_key] or "—",
                "rect_y": y + 4,
                "text_y": y + 17,
                "total_x": round(x + 6, 1),
                "segments": [{**segment, "x": round(segment["x"], 1)} for segment in segments],
                "total": total,
            }
        )
    return {"bars": bars, "height": max(len(rows), 1) * BAR_ROW, "label_width": label_width}


@permission_required("attendance:read")
def reports_page(request: HttpRequest) -> HttpResponse:
    filters, filterset, errors = _filtered(request)
    figures = None
    charts: dict[str, Any] = {}
    if not errors:
        cleaned = filterset.form.cleaned_data
        figures = statistics.attendance_statistics(filterset.qs, cleaned.get("dateFrom"), cleaned.get("dateTo"))
        charts = {
            "days": vertical_bars([(row["date"], row) for row in figures["by_day"]]),
            "hours": vertical_bars(
                [(f"{row['hour']:02d}:00", {"arrivals": row["count"]}) for row in figures["by_hour"]],
                series=(("arrivals", "arrivals"),),
            ),
            "cameras": horizontal_bars(
                [
                    {**row, "arrivals": row["count"], "name": f"{row['camera_id']} {row['camera_name']}"}
                    for row in figures["by_camera"]
                ],
                "name",
                series=(("arrivals", "arrivals"),),
            ),
            "departments": horizontal_bars(figures["by_department"], "department"),
        }
    context = {
        **_common(filters),
        "errors": errors,
        "figures": figures,
        "charts": charts,
        "chart": {"width": CHART_WIDTH, "height": CHART_HEIGHT},
    }
    return render(request, "attendance/reports.html", context)
