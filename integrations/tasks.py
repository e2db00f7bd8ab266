"""Celery tasks of the integrations app.

``integrations.dispatch_outbox`` delivers the outbox messages it is given (sent after the ingest commits,
and again with a countdown for a short retry delay). ``integrations.retry_due_deliveries`` runs every 30 s
(Beat schedule "Retry due exporter deliveries", created by migration ``0002_retry_schedule`` and editable in
Admin) and delivers whatever is due, so nothing depends on a task surviving.

``integrations.sync_attendance_to_odoo`` sends attendance logs to Odoo (``POST /odoo/sync``); a run stopped
by an unreachable Odoo is tried again with exponential backoff (5 times, as 001 says). ``integrations.
scheduled_odoo_sync`` runs every 30 minutes (Beat schedule "Odoo auto-sync", migration ``0004``) and starts
a sync when the config's ``auto_sync`` is on.
"""

from __future__ import annotations

import uuid
from collections import Counter

from celery import shared_task
from django.db import transaction

from integrations import outbox
from integrations.models import OdooConfig
from integrations.odoo import sync as odoo_sync
from integrations.odoo.config import OdooNotConfigured


@shared_task(name=outbox.DISPATCH_TASK, ignore_result=True)
def dispatch_outbox(message_ids: list[int]) -> dict[str, int]:
    """Deliver each message that is due and not held by another worker; returns counts by outcome."""
    return dict(Counter(str(outbox.dispatch(int(message_id))) for message_id in message_ids))


@shared_task(name=outbox.SWEEP_TASK, ignore_result=True)
def retry_due_deliveries() -> dict[str, int]:
    """Deliver every due outbox message (Beat, every 30 s); returns counts by outcome."""
    return outbox.dispatch_due()


@shared_task(bind=True, name="integrations.sync_attendance_to_odoo", max_retries=4, acks_late=True)
def sync_attendance_to_odoo(self, record_ids: list[str] | None = None, retry_failed: bool = False) -> dict:
    """Send pending (or the given) attendance logs to Odoo; the run id is this task's id.

    Idempotent, so a redelivered or retried task never doubles a record. Busy (another run holds the
    lock): tried again shortly.
    """
    try:
        report = odoo_sync.sync_attendance(record_ids, retry_failed=retry_failed, run_id=self.request.id)
    except odoo_sync.SyncBusy:
        if self.request.retries >= self.max_retries:
            return {"skipped": "another Odoo sync run is in progress"}
        raise self.retry(countdown=30) from None
    except OdooNotConfigured as exc:
        return {"skipped": exc.text()}
    if report.retry_later and self.request.retries < self.max_retries:
        raise self.retry(countdown=odoo_sync.retry_countdown(self.request.retries, report))
    return report.as_dict()


def queue_odoo_sync(record_ids: list[str] | None = None, *, retry_failed: bool = False) -> str:
    """Queue a sync run (``POST /odoo/sync``, Admin's "sync now", the schedule) for when the current
    transaction commits; returns its job id, which is also the run id of its log entries. A request
    :func:`integrations.odoo.sync.checked_sync_request` refuses queues nothing."""
    kwargs = {"record_ids": odoo_sync.checked_sync_request(record_ids), "retry_failed": retry_failed}
    job_id = str(uuid.uuid4())
    transaction.on_commit(lambda: sync_attendance_to_odoo.apply_async(kwargs=kwargs, task_id=job_id))
    return job_id


@shared_task(name="integrations.scheduled_odoo_sync", ignore_result=True)
def scheduled_odoo_sync() -> dict:
    """Beat, every 30 minutes: start a sync of the pending logs when auto-sync is on."""
    config = OdooConfig.load()
    if not config.auto_sync:
        return {"skipped": "auto-sync is off"}
    if not config.is_configured:
        return {"skipped": "Odoo is not configured"}
    return {"queued": queue_odoo_sync()}
