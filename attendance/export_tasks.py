"""The export task (001 "Export Tasks" ``generate_export``): fill a queued job, then tell its owner; and
:func:`start_export`, which stores a job and queues it (the only place exports meet Celery).

A job moves queued → processing → completed or failed. Only a queued job is taken, in one conditional
UPDATE, so a second delivery of the same message (or a second worker) leaves it alone. Progress is
written as the rows are rendered; the owner is notified on the ``notifications`` channel either way.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction
from django.utils import timezone

from accounts.choices import Severity
from accounts.notifications import notify
from attendance import exports
from attendance.choices import ExportStatus
from attendance.models import ExportJob
from config.storage import signed_url

logger = logging.getLogger("argus.exports")

# 001: "Timeout: 300s"; the hard limit leaves the task time to record the failure.
SOFT_TIME_LIMIT = 300
HARD_TIME_LIMIT = SOFT_TIME_LIMIT + 30
# A processing job untouched for longer than this has no live run left: the sweep fails it.
ABANDONED_AFTER = timedelta(seconds=HARD_TIME_LIMIT + 120)
# A queued job no worker has claimed for this long has presumably lost its message (the broker restarted
# without it): the sweep queues it again once, and fails it if it is still queued this long after that. A busy
# queue only gets a second message for the job (harmless: only a queued job is claimed).
QUEUED_LOST_AFTER = timedelta(minutes=10)
# Rendering fills progress up to here; storing the file and signing its URL take the rest.
RENDERED_PERCENT = 95


def start_export(*, user, export_type: str, export_format: str, filters: Mapping[str, Any]) -> ExportJob:
    """Store a queued export job (:func:`exports.create_export_job` checks the filters, raising
    :class:`exports.ExportFilterError`) and hand it to the worker once the row is committed."""
    job = exports.create_export_job(user=user, export_type=export_type, export_format=export_format, filters=filters)
    transaction.on_commit(lambda: _enqueue(job))
    return job


def _enqueue(job: ExportJob) -> None:
    try:
        generate_export.delay(str(job.pk))
    except Exception as error:  # broker down: say so on the job the client polls
        exports.fail_unqueued(job, error)


class ProgressReporter:
    """``progress(done, total)`` for the renderers: writes the job's percent whenever it changes."""

    def __init__(self, job: ExportJob):
        self.job_id = job.pk
        self.percent = 0

    def __call__(self, done: int, total: int) -> None:
        percent = min(RENDERED_PERCENT, int(done * RENDERED_PERCENT / total)) if total else RENDERED_PERCENT
        if percent > self.percent:
            self.percent = percent
            ExportJob.objects.filter(pk=self.job_id, status=ExportStatus.PROCESSING).update(
                progress=percent, updated_at=timezone.now()
            )


def _claim(job_id: str) -> ExportJob | None:
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportStatus.QUEUED).update(
        status=ExportStatus.PROCESSING, progress=0, updated_at=timezone.now()
    )
    return ExportJob.objects.select_related("user").get(pk=job_id) if claimed else None


def _describe(job: ExportJob) -> str:
    return f"{job.get_type_display()} ({job.format.upper()})"


def _complete(job: ExportJob, key: str, rows: int) -> None:
    now = timezone.now()
    job.status = ExportStatus.COMPLETED
    job.progress = 100
    job.row_count = rows
    job.s3_key = key
    job.completed_at = now
    job.expires_at = now + exports.EXPORT_TTL
    job.download_url = signed_url(key, expire=int(exports.EXPORT_TTL.total_seconds()))
    job.error_message = ""
    job.save(
        update_fields=[
            "status",
            "progress",
            "row_count",
            "s3_key",
            "completed_at",
            "expires_at",
            "download_url",
            "error_message",
            "updated_at",
        ]
    )
    if job.user is not None:
        notify(
            title="Export ready",
            message=f"{_describe(job)}: {rows} rows. The download link is valid for 7 days.",
            user=job.user,
            link=job.download_url,
        )


def _fail(job: ExportJob, message: str) -> None:
    job.status = ExportStatus.FAILED
    job.error_message = message
    job.save(update_fields=["status", "error_message", "updated_at"])
    if job.user is not None:
        notify(title="Export failed", message=f"{_describe(job)}: {message}", level=Severity.WARNING, user=job.user)


def _failure_message(error: Exception) -> str:
    if isinstance(error, exports.ExportFilterError):
        return f"Invalid filters: {error}"
    if isinstance(error, SoftTimeLimitExceeded):
        return f"The export took longer than {SOFT_TIME_LIMIT} s; narrow the filters."
    # Internals stay in the worker's log; the client learns what kind of failure it was.
    return f"The export could not be generated ({type(error).__name__})."


# Acknowledged after the run, and given back if the worker dies: a worker lost between receiving the message
# and claiming the job no longer leaves it queued for good. Safe to deliver twice: only a queued job is
# claimed, so a redelivery after the claim finds it taken and leaves it (to the sweep, if its worker died).
@shared_task(
    name="attendance.generate_export",
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=HARD_TIME_LIMIT,
    acks_late=True,
    reject_on_worker_lost=True,
)
def generate_export(job_id: str) -> dict[str, Any]:
    """Render and store a queued export job, sign its URL (7 days) and notify its owner.

    Returns ``{jobId, status, rowCount}``; a job that is not queued (taken, finished or gone) is left as it is.
    """
    job = _claim(job_id)
    if job is None:
        current = ExportJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
        return {"jobId": str(job_id), "status": current or "missing", "rowCount": None}
    try:
        key, rows = exports.write_export(job, progress=ProgressReporter(job))
    except Exception as error:
        logger.exception("export %s (%s.%s) failed", job.pk, job.type, job.format)
        _fail(job, _failure_message(error))
        return {"jobId": str(job.pk), "status": job.status, "rowCount": None}
    _complete(job, key, rows)
    logger.info("export %s (%s.%s) stored %s rows at %s", job.pk, job.type, job.format, rows, key)
    return {"jobId": str(job.pk), "status": job.status, "rowCount": rows}


@shared_task(name="attendance.sweep_abandoned_exports", ignore_result=True)
def sweep_abandoned_exports() -> list[str]:
    """Beat: fail the export jobs whose worker stopped mid-run (killed, or past the hard time limit, which
    gives the task no chance to record it), so none stays "processing" for good; their owners are told.

    They are failed rather than run again: a run that died once (out of memory, too long for the limit)
    would likely die again, and the owner can retry with narrower filters. Returns the failed jobs' ids.

    Jobs still queued past :data:`QUEUED_LOST_AFTER` (their message lost with a broker restart) are queued
    again once, and failed saying so (owners told) if that second message is lost too
    (:func:`sweep_lost_exports`); those are not in the ids returned.
    """
    failed = exports.fail_abandoned(older_than=ABANDONED_AFTER)
    for job in failed:
        logger.warning("export %s (%s.%s) abandoned by its worker: failed", job.pk, job.type, job.format)
        _tell_failed(job)
    sweep_lost_exports()
    return [str(job.pk) for job in failed]


def sweep_lost_exports() -> dict[str, list[str]]:
    """Queue again (once) the jobs whose message was lost; fail those lost twice. Returns both lists of ids."""
    requeue, failed = exports.requeue_lost(older_than=QUEUED_LOST_AFTER)
    for job in requeue:
        logger.warning("export %s (%s.%s) still queued, its message lost: queued again", job.pk, job.type, job.format)
        _enqueue(job)
    for job in failed:
        logger.warning("export %s (%s.%s) never picked up, even queued again: failed", job.pk, job.type, job.format)
        _tell_failed(job)
    return {"requeued": [str(job.pk) for job in requeue], "failed": [str(job.pk) for job in failed]}


def _tell_failed(job: ExportJob) -> None:
    if job.user is not None:
        notify(
            title="Export failed",
            message=f"{_describe(job)}: {job.error_message}",
            level=Severity.WARNING,
            user=job.user,
        )
