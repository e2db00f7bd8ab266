"""The life of an export job: created from checked filters, seen by its owner, its file written and stored,
and downloaded through a signed URL until it expires.

Queueing a job for the worker is the task module's (``attendance.export_tasks.start_export``): this module
knows nothing of Celery.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db.models import Q, QuerySet
from django.utils import timezone

from attendance.choices import ExportFormat, ExportStatus, ExportType
from attendance.exports.plans import ExportFilterError
from attendance.exports.rendering import EXPORT_CHUNK_SIZE, ProgressCallback, render_csv, render_pdf
from attendance.exports.sources import source_for
from attendance.models import ExportJob

# 001 "Generate signed URL (7-day expiry)"; the job (row and file) is removed by the cleanup once it passes.
EXPORT_TTL = timedelta(days=7)
# CSV bytes kept in memory before the temporary file moves to disk.
SPOOL_MAX_BYTES = 1024 * 1024
# A PDF is laid out whole in memory; beyond this many rows the client is asked to narrow the filters or
# take CSV (setting ``EXPORT_PDF_MAX_ROWS``).
DEFAULT_PDF_MAX_ROWS = 5000


def pdf_max_rows() -> int:
    return int(getattr(settings, "EXPORT_PDF_MAX_ROWS", DEFAULT_PDF_MAX_ROWS))


def create_export_job(*, user, export_type: str, export_format: str, filters: Mapping[str, Any]) -> ExportJob:
    """Validate the filters and store a queued job (which ``export_tasks.start_export`` hands to the worker).

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
    return ExportJob.objects.create(
        user=user,
        type=export_type,
        format=export_format,
        filters=cleaned,
        expires_at=timezone.now() + EXPORT_TTL,  # a job that never runs is cleaned up too
    )


def fail_unqueued(job: ExportJob, error: Exception) -> None:
    """A job the broker would not take: failed, saying why, rather than left queued forever."""
    ExportJob.objects.filter(pk=job.pk, status=ExportStatus.QUEUED).update(
        status=ExportStatus.FAILED, error_message=f"Could not queue the export: {error}", updated_at=timezone.now()
    )


# Said on a job whose worker died mid-run (killed, out of memory, past its hard time limit).
ABANDONED_MESSAGE = "The export stopped: the worker running it stopped before it finished. Please retry."


def fail_abandoned(*, older_than: timedelta, now: datetime | None = None) -> list[ExportJob]:
    """Fail the processing jobs untouched for longer than ``older_than`` (the task's hard time limit plus a
    margin, so no live run can be this old), saying the worker stopped; returns the jobs it failed.

    A run writes ``updated_at`` when it claims the job and at each progress step, so a job this stale has no
    worker left. Each job is failed in one conditional UPDATE: a run that finishes meanwhile keeps its outcome,
    and a job is failed once however many sweeps run.
    """
    cutoff = (now or timezone.now()) - older_than
    return _fail_each(Q(status=ExportStatus.PROCESSING, updated_at__lt=cutoff), ABANDONED_MESSAGE)


def _fail_each(still: Q, message: str) -> list[ExportJob]:
    """Fail every job that matches ``still`` with ``message``, each in a conditional UPDATE that checks ``still``
    again (a job that changed meanwhile keeps its state); returns the jobs failed here."""
    failed = []
    for job in ExportJob.objects.filter(still).select_related("user"):
        if ExportJob.objects.filter(still, pk=job.pk).update(
            status=ExportStatus.FAILED, error_message=message, updated_at=timezone.now()
        ):
            job.status, job.error_message = ExportStatus.FAILED, message
            failed.append(job)
    return failed


# Said on a job whose message never reached a worker, even queued a second time.
LOST_MESSAGE = "The export never started: no worker picked it up, even when queued again. Please retry."


def requeue_lost(*, older_than: timedelta, now: datetime | None = None) -> tuple[list[ExportJob], list[ExportJob]]:
    """The queued jobs no worker has claimed for longer than ``older_than``: their message was presumably lost
    (the broker restarted without it). Each is queued again once (``requeued_at`` set; the caller sends the
    message) and, still queued ``older_than`` after that, failed saying so. Returns (to queue again, failed).

    Both steps are conditional UPDATEs, so a job is requeued and failed at most once however many sweeps run,
    and a job claimed meanwhile is left to its run. A second message for a job whose first one was only late
    is harmless: only a queued job is claimed, so one of the two finds it taken.
    """
    moment = now or timezone.now()
    cutoff = moment - older_than
    requeue = []
    waiting = ExportJob.objects.filter(status=ExportStatus.QUEUED, requeued_at__isnull=True, created_at__lt=cutoff)
    for job in waiting.select_related("user"):
        if ExportJob.objects.filter(pk=job.pk, status=ExportStatus.QUEUED, requeued_at__isnull=True).update(
            requeued_at=moment, updated_at=moment
        ):
            job.requeued_at = moment
            requeue.append(job)
    return requeue, _fail_each(Q(status=ExportStatus.QUEUED, requeued_at__lt=cutoff), LOST_MESSAGE)


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


def names_person(job: ExportJob, employee_id: str) -> bool:
    """Whether the job's file holds the person: their history, or attendance filters that select their logs,
    or (CSV) a row with their employee id. Audit exports are the audit trail and are kept."""
    filters = job.filters or {}
    if job.type == ExportType.HISTORY:
        return filters.get("employeeId") == employee_id
    if job.type != ExportType.ATTENDANCE:
        return False
    try:
        selects = source_for(job.type).plan(filters).sections[0].queryset.filter(employee_id=employee_id).exists()
    except (ExportFilterError, AttributeError, IndexError):
        selects = False
    return selects or (job.format == ExportFormat.CSV and _csv_names(job.s3_key, employee_id))


def _csv_names(key: str, employee_id: str) -> bool:
    # The logs may have changed since the file was written: the file itself is what must not name them.
    try:
        with default_storage.open(key, "rb") as handle:
            reader = csv.reader(io.TextIOWrapper(handle, encoding="utf-8-sig", newline=""))
            header = next(reader, [])
            column = header.index("employeeId") if "employeeId" in header else 1
            return any(len(row) > column and row[column] == employee_id for row in reader)
    except (OSError, ValueError, csv.Error):
        return False


def expire_exports_naming(employee_id: str) -> list[str]:
    """Expire every export job whose file names the person (the file key cleared, the job expired now) and
    return the keys of their files, for the caller to delete once its transaction commits."""
    now = timezone.now()
    keys = []
    for job in ExportJob.objects.exclude(s3_key="").select_for_update():
        if names_person(job, employee_id):
            keys.append(job.s3_key)
            ExportJob.objects.filter(pk=job.pk).update(s3_key="", download_url="", expires_at=now, updated_at=now)
    # A history export not yet run would name them after the erasure: a queued job is never claimed now.
    ExportJob.objects.filter(
        type=ExportType.HISTORY, filters__employeeId=employee_id, status=ExportStatus.QUEUED
    ).update(
        status=ExportStatus.FAILED,
        error_message="The person was erased; their history is no longer exported.",
        expires_at=now,
        updated_at=now,
    )
    return keys
