"""What each kind of export selects: attendance logs (the filters of ``GET /attendance/logs``) and one
person's history (their attendance logs and detections); with the audit log, the registry of them all."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Min

from attendance.api.filters import FILTER_PARAMS, SNAKE_ALIASES, AttendanceLogFilterSet, SiteDateField
from attendance.choices import AttendanceStatus, ExportType
from attendance.exports.audit import AuditExport
from attendance.exports.plans import (
    Column,
    ExportFilterError,
    ExportPlan,
    ExportSource,
    Section,
    day_cell,
    iso_cell,
    number_cell,
    time_cell,
    valid_filterset,
)
from attendance.models import AttendanceLog

ATTENDANCE_COLUMNS = (
    Column("id", "Log", lambda log: log.id, in_pdf=False),
    Column("employeeId", "Employee ID", lambda log: log.employee_id),
    Column("name", "Name", lambda log: log.name),
    Column("department", "Department", lambda log: log.department),
    Column("date", "Date", lambda log: day_cell(log.date)),
    Column("timeIn", "Time in", lambda log: time_cell(log.check_in)),
    Column("timeOut", "Time out", lambda log: time_cell(log.check_out)),
    Column("cameraId", "Camera ID", lambda log: log.camera_id or "", in_pdf=False),
    Column("cameraName", "Camera", lambda log: log.camera_name),
    Column("accuracy", "Accuracy", lambda log: number_cell(log.accuracy)),
    Column("status", "Status", lambda log: log.status),
    Column("odooStatus", "Odoo", lambda log: log.odoo_status),
    Column("odooSyncTime", "Odoo sync", lambda log: iso_cell(log.odoo_sync_time), in_pdf=False),
)

HISTORY_ATTENDANCE_COLUMNS = (
    Column("date", "Date", lambda log: day_cell(log.date)),
    Column("timeIn", "Time in", lambda log: time_cell(log.check_in)),
    Column("timeOut", "Time out", lambda log: time_cell(log.check_out)),
    Column("cameraId", "Camera ID", lambda log: log.camera_id or ""),
    Column("cameraName", "Camera", lambda log: log.camera_name),
    Column("accuracy", "Accuracy", lambda log: number_cell(log.accuracy)),
    Column("status", "Status", lambda log: log.status),
)

HISTORY_DETECTION_COLUMNS = (
    Column("timestamp", "Time (UTC)", lambda detection: iso_cell(detection.timestamp)),
    Column("cameraId", "Camera ID", lambda detection: detection.camera_id),
    Column("cameraName", "Camera", lambda detection: detection.camera.name),
    Column("confidence", "Confidence", lambda detection: number_cell(detection.confidence)),
    Column("status", "Status", lambda detection: detection.status),
)


class AttendanceExport(ExportSource):
    type = ExportType.ATTENDANCE
    title = "Attendance report"
    params = FILTER_PARAMS
    aliases = SNAKE_ALIASES

    def _filterset(self, filters: Mapping[str, str]) -> AttendanceLogFilterSet:
        return valid_filterset(AttendanceLogFilterSet, AttendanceLog.objects.all(), filters)

    def validate(self, filters: Mapping[str, str]) -> None:
        self._filterset(filters)

    def plan(self, filters: Mapping[str, str]) -> ExportPlan:
        # No select_related: the camera's name is on the log, and a plain query streams best.
        logs = self._filterset(filters).qs.order_by("date", "employee_id", "id")

        def summary() -> tuple[tuple[str, str], ...]:
            counts = dict(logs.order_by().values_list("status").annotate(n=Count("id")))
            span = logs.aggregate(first=Min("date"), last=Max("date"), people=Count("employee_id", distinct=True))
            return (
                ("Attendance logs", str(sum(counts.values()))),
                ("Employees", str(span["people"])),
                *((status.label, str(counts.get(status.value, 0))) for status in AttendanceStatus),
                ("Days", f"{day_cell(span['first'])} to {day_cell(span['last'])}" if span["first"] else "none"),
            )

        return ExportPlan(
            title=self.title,
            sections=(Section("Attendance logs", ATTENDANCE_COLUMNS, logs),),
            filters=tuple((name, value) for name, value in filters.items()),
            summary=summary,
        )


class HistoryExport(ExportSource):
    """One person's attendance logs and recognition detections (``employeeId`` comes from the path)."""

    type = ExportType.HISTORY
    title = "Person history"
    params = ("employeeId", "dateFrom", "dateTo", "cameraId")
    aliases = {"employee_id": "employeeId", "date_from": "dateFrom", "date_to": "dateTo", "camera_id": "cameraId"}

    def validate(self, filters: Mapping[str, str]) -> None:
        self._days(filters)

    def _days(self, filters: Mapping[str, str]) -> tuple[date | None, date | None]:
        errors: dict[str, list[str]] = {}
        days: dict[str, date | None] = {}
        if not filters.get("employeeId"):
            errors["employeeId"] = ["This field is required."]
        elif len(filters["employeeId"]) > 50:
            errors["employeeId"] = ["At most 50 characters."]
        for name in ("dateFrom", "dateTo"):
            try:
                days[name] = SiteDateField(required=False).clean(filters.get(name))
            except ValidationError as error:
                errors[name] = list(error.messages)
        if not errors and days["dateFrom"] and days["dateTo"] and days["dateFrom"] > days["dateTo"]:
            errors["dateTo"] = ["dateTo must be on or after dateFrom."]
        if errors:
            raise ExportFilterError(errors)
        return days["dateFrom"], days["dateTo"]

    def plan(self, filters: Mapping[str, str]) -> ExportPlan:
        from recognition.models import Detection

        day_from, day_to = self._days(filters)
        person = filters["employeeId"]
        logs = AttendanceLog.objects.filter(employee_id=person)
        detections = Detection.objects.filter(person_id=person).select_related("camera")
        if day_from:
            logs = logs.filter(date__gte=day_from)
            detections = detections.filter(timestamp__date__gte=day_from)  # the site's local day
        if day_to:
            logs = logs.filter(date__lte=day_to)
            detections = detections.filter(timestamp__date__lte=day_to)
        if filters.get("cameraId"):
            logs = logs.filter(camera_id=filters["cameraId"])
            detections = detections.filter(camera_id=filters["cameraId"])
        logs = logs.order_by("date", "id")
        detections = detections.order_by("timestamp", "id")

        def summary() -> tuple[tuple[str, str], ...]:
            counts = dict(logs.order_by().values_list("status").annotate(n=Count("id")))
            seen = detections.aggregate(n=Count("id"), first=Min("timestamp"), last=Max("timestamp"))
            name = logs.exclude(name="").values_list("name", flat=True).last() or ""
            return (
                ("Person", f"{person} {name}".strip()),
                ("Attendance days", str(sum(counts.values()))),
                *((status.label, str(counts.get(status.value, 0))) for status in AttendanceStatus),
                ("Detections", str(seen["n"])),
                ("Seen (UTC)", f"{iso_cell(seen['first'])} to {iso_cell(seen['last'])}" if seen["first"] else "never"),
            )

        return ExportPlan(
            title=f"{self.title}: {person}",
            sections=(
                Section("Attendance logs", HISTORY_ATTENDANCE_COLUMNS, logs, record="attendance"),
                Section("Detections", HISTORY_DETECTION_COLUMNS, detections, record="detection"),
            ),
            filters=tuple((key, value) for key, value in filters.items()),
            summary=summary,
        )


SOURCES: dict[str, ExportSource] = {
    source.type: source for source in (AttendanceExport(), AuditExport(), HistoryExport())
}


def source_for(export_type: str) -> ExportSource:
    return SOURCES[export_type]
