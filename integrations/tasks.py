"""Celery tasks of the integrations app.

``integrations.dispatch_outbox`` delivers the outbox messages it is given (sent after the ingest commits,
and again with a countdown for a short retry delay). ``integrations.retry_due_deliveries`` runs every 30 s
(Beat schedule "Retry due exporter deliveries", created by migration ``0002_retry_schedule`` and editable in
Admin) and delivers whatever is due, so nothing depends on a task surviving.
"""

from __future__ import annotations

from collections import Counter

from celery import shared_task

from integrations import outbox


@shared_task(name="integrations.dispatch_outbox", ignore_result=True)
def dispatch_outbox(message_ids: list[int]) -> dict[str, int]:
    """Deliver each message that is due and not held by another worker; returns counts by outcome."""
    return dict(Counter(str(outbox.dispatch(int(message_id))) for message_id in message_ids))


@shared_task(name="integrations.retry_due_deliveries", ignore_result=True)
def retry_due_deliveries() -> dict[str, int]:
    """Deliver every due outbox message (Beat, every 30 s); returns counts by outcome."""
    return outbox.dispatch_due()
