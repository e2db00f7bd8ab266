"""Export jobs (001 ``export_jobs``): what each kind of export selects, and how it becomes a file.

Three kinds share one machinery: attendance logs (the filters of ``GET /attendance/logs``), the audit log
(the filters of ``GET /audit``) and one person's history (their attendance logs and detections). A job
stores its filters as the client sent them (validated, in the filter set's own spelling), and the Celery
task (``attendance.export_tasks.generate_export``) selects the rows again from them.

CSV is written while the rows are read: a server-side cursor hands them over ``EXPORT_CHUNK_SIZE`` at a
time, each is written out at once into a spooled temporary file, and storage receives that file chunk by
chunk, so a year of logs never sits in memory. A PDF is a titled report (filters, summary, tables)
rendered by WeasyPrint, which may fetch nothing: only ``data:`` URLs are allowed.
"""

from __future__ import annotations

import csv
import io
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, Max, Min, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from attendance.api.filters import FILTER_PARAMS, SNAKE_ALIASES, AttendanceLogFilterSet, SiteDateField
from attendance.choices import AttendanceStatus, ExportFormat, ExportStatus, ExportType
from attendance.models import AttendanceLog, ExportJob
from config.api.contracts import camel, utc_iso
from config.api.spa import snake

# 001 "Generate signed URL (7-day expiry)"; the job (row and file) is removed by the cleanup once it passes.
EXPORT_TTL = timedelta(days=7)
# Rows fetched per round trip of the server-side cursor, and written between two progress updates.
EXPORT_CHUNK_SIZE = 2000
# CSV bytes kept in memory before the temporary file moves to disk.
SPOOL_MAX_BYTES = 1024 * 1024
# A PDF is laid out whole in memory; beyond this many rows the client is asked to narrow the filters or
# take CSV (setting ``EXPORT_PDF_MAX_ROWS``).
DEFAULT_PDF_MAX_ROWS = 5000
# Spreadsheets run a cell starting with one of these as a formula (CSV injection).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

ProgressCallback = Callable[[int, int], object]


class ExportFilterError(ValueError):
    """Filters an export cannot run with; ``errors`` maps each parameter to its messages."""

    def __init__(self, errors: Mapping[str, list[str]]):
        self.errors = {name: list(messages) for name, messages in errors.items()}
        super().__init__("; ".join(f"{name}: {' '.join(messages)}" for name, messages in self.errors.items()))


def offline_url_fetcher():
    """WeasyPrint's fetcher limited to ``data:`` URLs: a report never reaches the network or the disk."""
    # Imported here: WeasyPrint loads Pango, which only the processes that render PDFs need.
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols=("data",), allow_redirects=False)


# --- What an export selects ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str  # the CSV header, 001's camelCase field name
    label: str  # the PDF header
    value: Callable[[Any], Any]
    in_pdf: bool = True


@dataclass(frozen=True)
class Section:
    """One table of an export: rows of one queryset, read in order."""

    title: str
    columns: tuple[Column, ...]
    queryset: QuerySet
    record: str = ""  # the ``record`` cell of a CSV that holds several sections


@dataclass(frozen=True)
class ExportPlan:
    """An export's rows (its sections) and what its PDF says about them."""

    title: str
    sections: tuple[Section, ...]
    filters: tuple[tuple[str, str], ...]
    # Aggregates for the PDF's summary, computed only when a report is rendered.
    summary: Callable[[], tuple[tuple[str, str], ...]] = field(default=tuple)

    def total(self) -> int:
        return sum(section.queryset.count() for section in self.sections)


def _local_time(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%H:%M:%S") if moment else ""


def _iso(moment: datetime | None) -> str:
    return utc_iso(moment) or ""


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


ATTENDANCE_COLUMNS = (
    Column("id", "Log", lambda log: log.id, in_pdf=False),
    Column("employeeId", "Employee ID", lambda log: log.employee_id),
    Column("name", "Name", lambda log: log.name),
    Column("department", "Department", lambda log: log.department),
    Column("date", "Date", lambda log: _day(log.date)),
    Column("timeIn", "Time in", lambda log: _local_time(log.check_in)),
    Column("timeOut", "Time out", lambda log: _local_time(log.check_out)),
    Column("cameraId", "Camera ID", lambda log: log.camera_id or "", in_pdf=False),
    Column("cameraName", "Camera", lambda log: log.camera_name),
    Column("accuracy", "Accuracy", lambda log: _number(log.accuracy)),
    Column("status", "Status", lambda log: log.status),
    Column("odooStatus", "Odoo", lambda log: log.odoo_status),
    Column("odooSyncTime", "Odoo sync", lambda log: _iso(log.odoo_sync_time), in_pdf=False),
)

AUDIT_COLUMNS = (
    Column("timestamp", "Time (UTC)", lambda entry: _iso(entry.timestamp)),
    Column("actor", "Actor", lambda entry: entry.actor),
    Column("actorRole", "Role", lambda entry: entry.actor_role),
    Column("action", "Action", lambda entry: entry.action),
    Column("resourceType", "Resource", lambda entry: entry.resource_type),
    Column("resourceId", "Resource ID", lambda entry: entry.resource_id),
    Column("severity", "Severity", lambda entry: entry.severity),
    Column("message", "Message", lambda entry: entry.message),
    Column("ipAddress", "IP address", lambda entry: entry.ip_address or "", in_pdf=False),
)

HISTORY_ATTENDANCE_COLUMNS = (
    Column("date", "Date", lambda log: _day(log.date)),
    Column("timeIn", "Time in", lambda log: _local_time(log.check_in)),
    Column("timeOut", "Time out", lambda log: _local_time(log.check_out)),
    Column("cameraId", "Camera ID", lambda log: log.camera_id or ""),
    Column("cameraName", "Camera", lambda log: log.camera_name),
    Column("accuracy", "Accuracy", lambda log: _number(log.accuracy)),
    Column("status", "Status", lambda log: log.status),
)

HISTORY_DETECTION_COLUMNS = (
    Column("timestamp", "Time (UTC)", lambda detection: _iso(detection.timestamp)),
    Column("cameraId", "Camera ID", lambda detection: detection.camera_id),
    Column("cameraName", "Camera", lambda detection: detection.camera.name),
    Column("confidence", "Confidence", lambda detection: _number(detection.confidence)),
    Column("status", "Status", lambda detection: detection.status),
)


class ExportSource(ABC):
    """One kind of export: which filters it takes, which rows they select, what the report says."""

    type: str
    title: str
    # Accepted parameter names (the filter set's spelling) and other spellings of them.
    params: tuple[str, ...] = ()
    aliases: Mapping[str, str] = {}

    def normalize(self, raw: Mapping[str, Any]) -> dict[str, str]:
        """The filters in canonical spelling, as strings; unknown or non-scalar values are errors."""
        errors: dict[str, list[str]] = {}
        filters: dict[str, str] = {}
        for key, value in raw.items():
            name = self.canonical(str(key))
            if name is None:
                errors[key] = [f"Unknown filter; one of {', '.join(self.params)}."]
            elif isinstance(value, (dict, list, tuple)):
                errors[name] = ["Must be a single value."]
            elif value is not None and str(value).strip() != "":
                filters[name] = str(value).strip()
        if errors:
            raise ExportFilterError(errors)
        return filters

    def canonical(self, key: str) -> str | None:
        """The parameter ``key`` names, in whichever of camelCase, snake_case or an alias it is spelt."""
        for candidate in (key, snake(key), camel(key)):
            if candidate in self.params:
                return candidate
            if candidate in self.aliases:
                return self.aliases[candidate]
        return None

    def clean(self, raw: Mapping[str, Any]) -> dict[str, str]:
        """Validated filters to store on a job; raises :class:`ExportFilterError`."""
        filters = self.normalize(raw)
        self.validate(filters)
        return filters

    @abstractmethod
    def validate(self, filters: Mapping[str, str]) -> None:
        """Raise :class:`ExportFilterError` unless the (canonical) filters can select rows."""

    @abstractmethod
    def plan(self, filters: Mapping[str, str]) -> ExportPlan:
        """The report: its title, sections (with their rows' queries) and summary."""


def _form_errors(errors) -> dict[str, list[str]]:
    return {
        ("non_field_errors" if name == "__all__" else name): [str(m) for m in messages]
        for name, messages in errors.items()
    }


def _valid_filterset(filterset_class, queryset: QuerySet, filters: Mapping[str, str]):
    """``filterset_class`` bound to the filters, or :class:`ExportFilterError` with its errors."""
    filterset = filterset_class(data=dict(filters), queryset=queryset)
    if not filterset.is_valid():
        raise ExportFilterError(_form_errors(filterset.errors))
    return filterset


class AttendanceExport(ExportSource):
    type = ExportType.ATTENDANCE
    title = "Attendance report"
    params = FILTER_PARAMS
    aliases = SNAKE_ALIASES

    def _filterset(self, filters: Mapping[str, str]) -> AttendanceLogFilterSet:
        return _valid_filterset(AttendanceLogFilterSet, AttendanceLog.objects.all(), filters)

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
                ("Days", f"{_day(span['first'])} to {_day(span['last'])}" if span["first"] else "none"),
            )

        return ExportPlan(
            title=self.title,
            sections=(Section("Attendance logs", ATTENDANCE_COLUMNS, logs),),
            filters=tuple((name, value) for name, value in filters.items()),
            summary=summary,
        )


class AuditExport(ExportSource):
    type = ExportType.AUDIT
    title = "Audit log report"
    params = ("actor", "action", "severity", "resource_type", "resource_id", "date_from", "date_to", "search")
    # The request parser has already turned camelCase into snake_case; 001 also says ``from``/``to``.
    aliases = {"from": "date_from", "to": "date_to"}

    def _filterset(self, filters: Mapping[str, str]):
        from accounts.api.filters import AuditLogFilterSet
        from accounts.models import AuditLog

        return _valid_filterset(AuditLogFilterSet, AuditLog.objects.all(), filters)

    def validate(self, filters: Mapping[str, str]) -> None:
        self._filterset(filters)

    def plan(self, filters: Mapping[str, str]) -> ExportPlan:
        entries = self._filterset(filters).qs.order_by("timestamp", "id")

        def summary() -> tuple[tuple[str, str], ...]:
            counts = dict(entries.order_by().values_list("severity").annotate(n=Count("id")))
            span = entries.aggregate(first=Min("timestamp"), last=Max("timestamp"))
            return (
                ("Audit entries", str(sum(counts.values()))),
                *((severity.title(), str(count)) for severity, count in sorted(counts.items())),
                ("Period (UTC)", f"{_iso(span['first'])} to {_iso(span['last'])}" if span["first"] else "none"),
            )

        return ExportPlan(
            title=self.title,
            sections=(Section("Audit entries", AUDIT_COLUMNS, entries),),
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
                ("Seen (UTC)", f"{_iso(seen['first'])} to {_iso(seen['last'])}" if seen["first"] else "never"),
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


# --- Jobs --------------------------------------------------------------------------------------------------


def pdf_max_rows() -> int:
    return int(getattr(settings, "EXPORT_PDF_MAX_ROWS", DEFAULT_PDF_MAX_ROWS))


def create_export_job(*, user, export_type: str, export_format: str, filters: Mapping[str, Any]) -> ExportJob:
    """Validate the filters, store a queued job and hand it to the worker once the row is committed.

    ``user`` owns the job (None for a caller without an account). Raises :class:`ExportFilterError`
    before anything is stored when the filters are invalid or a PDF would be too long.
    """
    if export_format not in ExportFormat.values:
        raise ExportFilterError({"format": [f"Must be one of {', '.join(ExportFormat.values)}."]})
    source = source_for(export_type)
    cleaned = source.clean(filters)
    if export_format == ExportFormat.PDF and (total := source.plan(cleaned).total()) > pdf_max_rows():
        raise ExportFilterError(
            {
                "format": [
                    f"A PDF holds at most {pdf_max_rows()} rows; these filters select {total}. Narrow them or use csv."
                ]
            }
        )
    job = ExportJob.objects.create(
        user=user,
        type=export_type,
        format=export_format,
        filters=cleaned,
        expires_at=timezone.now() + EXPORT_TTL,  # a job that never runs is cleaned up too
    )
    transaction.on_commit(lambda: enqueue(job))
    return job


def enqueue(job: ExportJob) -> None:
    """Send the job to the worker; a broker that cannot take it fails the job instead of leaving it queued."""
    from attendance.export_tasks import generate_export

    try:
        generate_export.delay(str(job.pk))
    except Exception as error:  # broker down: say so on the job the client polls
        ExportJob.objects.filter(pk=job.pk, status=ExportStatus.QUEUED).update(
            status=ExportStatus.FAILED, error_message=f"Could not queue the export: {error}", updated_at=timezone.now()
        )


def visible_jobs(principal) -> QuerySet[ExportJob]:
    """The jobs a caller may read: all for an administrator, otherwise their own."""
    if principal.has_permission("*"):
        return ExportJob.objects.all()
    owner = owner_of(principal)
    return ExportJob.objects.filter(user=owner) if owner is not None else ExportJob.objects.none()


def owner_of(principal):
    """The account an export belongs to: the signed-in user, or the user who created the API key."""
    from accounts.models import User

    if isinstance(principal, User):
        return principal
    key = getattr(principal, "key", None)
    return getattr(key, "created_by", None)


def download_url(job: ExportJob, *, now: datetime | None = None) -> str | None:
    """A fresh signed URL for a completed job's file, valid until the job expires (7 days at most)."""
    if job.status != ExportStatus.COMPLETED or not job.s3_key:
        return None
    from config.storage import signed_url

    moment = now or timezone.now()
    remaining = int((job.expires_at - moment).total_seconds()) if job.expires_at else int(EXPORT_TTL.total_seconds())
    if remaining <= 0:
        return None
    return signed_url(job.s3_key, expire=min(remaining, int(EXPORT_TTL.total_seconds())))


def storage_key(job: ExportJob) -> str:
    """``exports/{type}/{job_id}.{format}``, the bucket layout of 001."""
    return f"exports/{job.type}/{job.pk}.{job.format}"


# --- Rendering ------------------------------------------------------------------------------------------


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value  # shown as text by spreadsheets, never evaluated
    return value


def csv_header(plan: ExportPlan) -> list[str]:
    """The CSV columns: one section's keys, or ``record`` then every section's keys in order."""
    if len(plan.sections) == 1:
        return [column.key for column in plan.sections[0].columns]
    keys: list[str] = ["record"]
    for section in plan.sections:
        keys.extend(column.key for column in section.columns if column.key not in keys)
    return keys


def csv_rows(plan: ExportPlan, *, chunk_size: int = EXPORT_CHUNK_SIZE) -> Iterator[list[Any]]:
    """Each row of each section, read from a server-side cursor ``chunk_size`` rows at a time."""
    header = csv_header(plan)
    for section in plan.sections:
        positions = [header.index(column.key) for column in section.columns]
        for row in section.queryset.iterator(chunk_size=chunk_size):
            cells: list[Any] = [""] * len(header)
            if section.record:
                cells[0] = section.record
            for position, column in zip(positions, section.columns, strict=True):
                cells[position] = _cell(column.value(row))
            yield cells


def render_csv(
    plan: ExportPlan,
    target: IO[bytes],
    *,
    chunk_size: int = EXPORT_CHUNK_SIZE,
    progress: ProgressCallback | None = None,
    total: int | None = None,
) -> int:
    """Write the plan as UTF-8 CSV (with a BOM, for spreadsheets) into ``target``; returns the row count.

    Each row is written as soon as it is read; ``progress(done, total)`` is called after every chunk.
    """
    text = io.TextIOWrapper(target, encoding="utf-8-sig", newline="", write_through=True)
    try:
        writer = csv.writer(text)
        writer.writerow(csv_header(plan))
        done = 0
        for cells in csv_rows(plan, chunk_size=chunk_size):
            writer.writerow(cells)
            done += 1
            if progress and done % chunk_size == 0:
                progress(done, total if total is not None else done)
        return done
    finally:
        text.detach()  # leave ``target`` open for the caller


def render_pdf(plan: ExportPlan, target: IO[bytes], *, progress: ProgressCallback | None = None) -> int:
    """Render the plan as a PDF report (title, filters, summary, one table per section); returns the row count."""
    sections = []
    done = 0
    total = plan.total()
    for section in plan.sections:
        columns = [column for column in section.columns if column.in_pdf]
        rows = [
            [column.value(row) for column in columns] for row in section.queryset.iterator(chunk_size=EXPORT_CHUNK_SIZE)
        ]
        done += len(rows)
        sections.append({"title": section.title, "labels": [column.label for column in columns], "rows": rows})
        if progress:
            progress(done, total)
    html = render_to_string(
        "attendance/export_report.html",
        {
            "title": plan.title,
            "generated_at": timezone.localtime(),
            "time_zone": timezone.get_current_timezone_name(),
            "filters": plan.filters,
            "summary": plan.summary(),
            "sections": sections,
        },
    )
    from weasyprint import HTML

    HTML(string=html, url_fetcher=offline_url_fetcher()).write_pdf(target)
    return done


def write_export(
    job: ExportJob, *, progress: ProgressCallback | None = None, chunk_size: int = EXPORT_CHUNK_SIZE
) -> tuple[str, int]:
    """Render the job's file and store it; returns (storage key, row count).

    Raises :class:`ExportFilterError` when the stored filters no longer hold (or a PDF grew too long).
    """
    plan = source_for(job.type).plan(job.filters or {})
    total = plan.total()
    if job.format == ExportFormat.PDF and total > pdf_max_rows():
        raise ExportFilterError({"format": [f"A PDF holds at most {pdf_max_rows()} rows; the filters select {total}."]})
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_BYTES) as spool:
        if job.format == ExportFormat.CSV:
            rows = render_csv(plan, spool, chunk_size=chunk_size, progress=progress, total=total)
        else:
            rows = render_pdf(plan, spool, progress=progress)
        spool.seek(0)
        key = storage_key(job)
        if default_storage.exists(key):
            default_storage.delete(key)  # a rerun replaces its own file rather than getting a renamed copy
        # Storage reads the spooled file in chunks (File.chunks / multipart upload), never all at once.
        name = default_storage.save(key, File(spool, name=key))
    return name, rows
