"""The transactional outbox: every accepted event reaches every enabled exporter, at least once.

How a delivery goes:

1. :func:`enqueue_event` runs inside the transaction that stores the event and writes one
   :class:`OutboxMessage` per enabled exporter. The event and what is owed to the peers commit together,
   or not at all; a retried ingest of the same event id adds nothing (unique exporter, kind, key).
2. After the commit, one Celery task ``integrations.dispatch_outbox`` per message calls :func:`dispatch`.
3. :func:`dispatch` locks the message row (``SKIP LOCKED``: a message is handled by one worker at a time),
   asks the exporter's circuit breaker, delivers, logs the attempt and either marks the message delivered
   or schedules the next attempt by the exporter's ``retry_config`` (a short delay also gets a delayed
   task). When the round's attempts are used up, or the peer refused the payload (4xx), it is ``dead``
   and one alert per exporter is raised.
4. Beat runs ``integrations.retry_due_deliveries`` every 30 s (:func:`dispatch_due`): it delivers every
   due message, so a lost task, a broker hiccup or a crashed worker delays a delivery but loses nothing.
5. A peer that was down gets everything once it is back: while it fails, the sweep keeps one dead message
   in play as a probe (the breaker spaces the probes out); the first success resolves the alert and sends
   every dead message of that exporter back for a new round.

Semantics: at least once toward the peer. The row lock is held during the network call, so two workers
never send the same message at the same time; but a peer that took a message and whose answer was lost
(timeout, crash before our commit) gets it again. REST deliveries carry ``Idempotency-Key: <event id>`` so
a peer can make that exactly once on its side. Order: messages are tried oldest first, but retries and
parallel workers can overtake one another; per-exporter order is not guaranteed.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any

from celery import signature
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from cameras import alerting
from cameras.choices import AlertLevel
from config.resilience import RetryPolicy
from config.stamps import StampedCopy
from integrations import exporters
from integrations.models import OPEN_STATUSES, DeliveryAttempt, DeliveryStatus, Exporter, OutboxMessage
from integrations.services import breaker_for, failing_source

logger = logging.getLogger("argus.integrations.outbox")

DEFAULT_KIND = "anpr.event"
# A retry due sooner than this also gets a delayed task, so 1 s backoffs are not stretched to the
# 30 s sweep; later ones are left to the sweep (long ETAs sit in worker memory and are redelivered).
_ETA_TASK_MAX_SECONDS = 300
SWEEP_LIMIT = 500
SWEEP_TIME_BUDGET = 240.0  # seconds; stays under the task time limit, the next sweep goes on
# The Celery tasks (integrations.tasks) that deliver messages, sent by name: this module is what they run,
# so it never imports them.
DISPATCH_TASK = "integrations.dispatch_outbox"
SWEEP_TASK = "integrations.retry_due_deliveries"


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY_SCHEDULED = "retry_scheduled"
    DEAD = "dead"
    CIRCUIT_OPEN = "circuit_open"  # refused by the breaker: rescheduled, no attempt counted
    NOT_DUE = "not_due"
    SKIPPED = "skipped"  # delivered or dead already
    BUSY = "busy"  # locked by another worker, or gone
    DISABLED = "disabled"  # the exporter is disabled: kept pending until it is enabled again


def _send_tasks(message_ids: list[int], countdown: float | None = None) -> None:
    for message_id in message_ids:
        signature(DISPATCH_TASK, args=[[message_id]]).apply_async(countdown=countdown)


def _kick_sweep() -> None:
    signature(SWEEP_TASK).delay()


def _load_enabled_ids() -> tuple[str, ...]:
    return tuple(Exporter.objects.filter(enabled=True).order_by("pk").values_list("pk", flat=True))


# Asked on every ingested event; exporters change a few times a year. Each process keeps the list while no
# exporter changed anywhere (config.stamps): saves, deletes and the admin's enable/disable announce it.
enabled_exporter_ids = StampedCopy("integrations:exporters", _load_enabled_ids)


def exporters_changed(sender=None, instance=None, **kwargs) -> None:
    enabled_exporter_ids.changed()


def enqueue_event(event_payload: dict[str, Any], event_id: str, kind: str = DEFAULT_KIND) -> int:
    """Owe ``event_payload`` to every enabled exporter; call it inside the transaction storing the event.

    Writes one outbox message per enabled exporter (none for disabled ones) and, once the transaction
    commits, hands each to a Celery task. If the transaction rolls back, nothing is sent. Calling it
    again for the same ``event_id`` and ``kind`` adds nothing. The payload is stored as JSON now
    (datetimes as ISO 8601), so it is what the peers receive, byte for byte, whenever they get it.

    Returns the number of messages written.
    """
    exporter_ids = enabled_exporter_ids.get()
    if not exporter_ids:
        return 0
    payload = json.loads(exporters.encode(event_payload))
    now = timezone.now()
    OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(exporter_id=pk, kind=kind, key=event_id, payload=payload, next_attempt_at=now, created_at=now)
            for pk in exporter_ids
        ],
        ignore_conflicts=True,  # the unique (exporter, kind, key): a repeated event is owed once
    )
    # The rows this call wrote are the ones stamped with its own ``now``; earlier ones keep theirs.
    new_ids = list(
        OutboxMessage.objects.filter(kind=kind, key=event_id, exporter_id__in=exporter_ids, created_at=now)
        .order_by("id")
        .values_list("id", flat=True)
    )
    if new_ids:
        # robust: a broker that is down must not fail the ingest; the sweep delivers these anyway.
        transaction.on_commit(partial(_send_tasks, new_ids), robust=True)
    return len(new_ids)


def dispatch(message_id: int) -> Outcome:
    """Try to deliver one message now, if it is due and no other worker holds it."""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("exporter")
            .filter(pk=message_id)
            .first()
        )
        if message is None:
            return Outcome.BUSY
        if message.status not in OPEN_STATUSES:
            return Outcome.SKIPPED
        now = timezone.now()
        if message.next_attempt_at > now:
            return Outcome.NOT_DUE
        exporter = message.exporter
        if not exporter.enabled:
            return Outcome.DISABLED
        breaker = breaker_for(exporter)
        if not breaker.allow():
            retry_at = datetime.fromtimestamp(breaker.retry_at(), tz=UTC)
            message.next_attempt_at = max(retry_at, now)
            message.save(update_fields=["next_attempt_at", "updated_at"])
            return Outcome.CIRCUIT_OPEN

        result = exporters.deliver(exporter, message.payload, key=message.key, kind=message.kind)
        finished = timezone.now()
        message.attempts += 1
        message.last_attempt_at = finished
        DeliveryAttempt.objects.create(
            message=message,
            number=message.attempts,
            at=finished - timedelta(milliseconds=result.duration_ms),
            ok=result.ok,
            http_status=result.http_status,
            error=result.error,
            duration_ms=result.duration_ms,
        )
        if result.ok:
            breaker.record_success()
            return _delivered(message, exporter, finished)
        if result.retryable:
            breaker.record_failure()
        else:
            breaker.record_success()  # the peer is up and answered; it is the request it refused
        return _failed(message, exporter, result, finished)


def _delivered(message: OutboxMessage, exporter: Exporter, finished: datetime) -> Outcome:
    message.status = DeliveryStatus.DELIVERED
    message.delivered_at = finished
    message.save(update_fields=["status", "attempts", "last_attempt_at", "delivered_at", "updated_at"])
    Exporter.objects.filter(pk=exporter.pk).update(delivered_count=F("delivered_count") + 1, last_delivery_at=finished)
    # Only the worker that clears ``failing_since`` runs the recovery, however many succeed at once.
    if Exporter.objects.filter(pk=exporter.pk, failing_since__isnull=False).update(failing_since=None):
        _recover(exporter, finished)
    logger.info("delivered %s %s to %s (attempt %s)", message.kind, message.key, exporter.pk, message.attempts)
    return Outcome.DELIVERED


def _recover(exporter: Exporter, now: datetime) -> None:
    alerting.resolve(failing_source(exporter.pk), note=f"{exporter.name} accepts deliveries again")
    revived = OutboxMessage.objects.filter(exporter_id=exporter.pk, status=DeliveryStatus.DEAD).update(
        status=DeliveryStatus.PENDING, round_offset=F("attempts"), next_attempt_at=now
    )
    if revived:
        logger.info("exporter %s is back: %s given-up messages sent for a new round", exporter.pk, revived)
        transaction.on_commit(_kick_sweep, robust=True)


def _failed(
    message: OutboxMessage, exporter: Exporter, result: exporters.DeliveryResult, finished: datetime
) -> Outcome:
    policy = RetryPolicy.from_config(exporter.retry_config)
    message.last_error = result.error
    Exporter.objects.filter(pk=exporter.pk).update(
        failed_count=F("failed_count") + 1, last_error=result.error, last_error_at=finished
    )
    fields = ["status", "attempts", "last_attempt_at", "last_error", "next_attempt_at", "updated_at"]
    if result.retryable and message.round_attempts < policy.attempts:
        delay = policy.delay_after(message.round_attempts)
        message.status = DeliveryStatus.FAILED
        message.next_attempt_at = finished + timedelta(seconds=delay)
        message.save(update_fields=fields)
        logger.info(
            "delivery of %s %s to %s failed (attempt %s): %s; next in %.3gs",
            message.kind, message.key, exporter.pk, message.attempts, result.error, delay,
        )  # fmt: skip
        if delay <= _ETA_TASK_MAX_SECONDS:
            transaction.on_commit(partial(_send_tasks, [message.pk], delay), robust=True)
        return Outcome.RETRY_SCHEDULED

    message.status = DeliveryStatus.DEAD
    message.save(update_fields=fields)
    why = "refused by the peer" if not result.retryable else f"after {message.round_attempts} attempts"
    logger.warning("gave up delivering %s %s to %s %s: %s", message.kind, message.key, exporter.pk, why, result.error)
    Exporter.objects.filter(pk=exporter.pk, failing_since__isnull=True).update(failing_since=finished)
    alerting.raise_once(
        source=failing_source(exporter.pk),
        title=f"Exporter failing: {exporter.name}",
        description=f"{exporter.pk} gave up on {message.kind} {message.key} {why}: {result.error}",
        level=AlertLevel.HIGH,
        tags=["exporter", "integrations"],
    )
    return Outcome.DEAD


def _probe_failing_exporters() -> int:
    """Keep one message in play for each failing exporter that has nothing left to try.

    Its oldest dead message gets one more attempt (it is dead again at once if that fails, with no new
    alert). The circuit breaker spaces these probes out; the first that succeeds brings back the rest.
    """
    now = timezone.now()
    failing = (
        Exporter.objects.filter(enabled=True, failing_since__isnull=False)
        .exclude(messages__status__in=OPEN_STATUSES)
        .only("pk", "retry_config")
    )
    probed = 0
    for exporter in failing:
        oldest = (
            OutboxMessage.objects.filter(exporter_id=exporter.pk, status=DeliveryStatus.DEAD)
            .order_by("created_at", "id")
            .first()
        )
        if oldest is None:
            continue
        last_one = max(0, oldest.attempts - RetryPolicy.from_config(exporter.retry_config).attempts + 1)
        probed += OutboxMessage.objects.filter(pk=oldest.pk, status=DeliveryStatus.DEAD).update(
            status=DeliveryStatus.FAILED, round_offset=last_one, next_attempt_at=now
        )
    return probed


def dispatch_due(*, limit: int = SWEEP_LIMIT, time_budget: float = SWEEP_TIME_BUDGET) -> dict[str, int]:
    """Deliver every due message (oldest due first), up to ``limit`` and ``time_budget`` seconds.

    Safe to run in several processes at once: each message is locked by the one handling it. Messages of
    an exporter whose circuit is open are passed over after the first refusal. Returns counts by outcome.
    """
    probes = _probe_failing_exporters()
    due = (
        OutboxMessage.objects.filter(status__in=OPEN_STATUSES, next_attempt_at__lte=timezone.now())
        .filter(exporter__enabled=True)
        .order_by("next_attempt_at", "id")
        .values_list("id", "exporter_id")[:limit]
    )
    counts: Counter[str] = Counter()
    blocked: set[str] = set()
    deadline = time.monotonic() + time_budget
    for message_id, exporter_id in list(due):
        if exporter_id in blocked:
            continue
        if time.monotonic() > deadline:
            counts["deferred"] += 1
            continue
        outcome = dispatch(message_id)
        counts[outcome] += 1
        if outcome == Outcome.CIRCUIT_OPEN:
            blocked.add(exporter_id)
    if probes:
        counts["probes"] = probes
    return dict(counts)


def retry_now(messages: QuerySet[OutboxMessage]) -> int:
    """Send the chosen undelivered messages for a new round at once (admin "retry now")."""
    with transaction.atomic():
        ids = list(messages.exclude(status=DeliveryStatus.DELIVERED).values_list("id", flat=True))
        OutboxMessage.objects.filter(pk__in=ids).update(
            status=DeliveryStatus.PENDING, round_offset=F("attempts"), next_attempt_at=timezone.now()
        )
        if ids:
            transaction.on_commit(partial(_send_tasks, ids), robust=True)
    return len(ids)
