"""Recognition results to the caller: POST ``callbackUrl`` in batches of up to 100.

Each batch is a :class:`CallbackDelivery` (its id is the ``batchId`` and the ``Idempotency-Key``, so a
caller that got a batch whose answer was lost can ignore the repeat). Results are claimed for a batch
in one transaction (``SKIP LOCKED``), so two delivery tasks never send the same result. A batch goes out
under config.resilience: 3 retries after the first attempt with exponential backoff (from the
session's ``callback_backoff_ms``), a 30 s timeout, and a circuit breaker per callback host. A batch that
still fails is logged and kept as failed; processing goes on (004 "Log failure, continue processing").
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config import outbound
from config.api.contracts import now_iso, utc_iso
from config.resilience import CircuitBreaker, OutboundError, RetryPolicy, call_with_policy
from recognition.face_service import conf
from recognition.face_service.choices import DeliveryStatus
from recognition.models import CallbackDelivery, RecognitionResult, RecognitionSession

logger = logging.getLogger("argus.face_service")


def iso(moment=None) -> str:
    """004's time format, ``YYYY-MM-DDTHH:mm:SSZ`` (whole seconds, UTC); now by default."""
    return utc_iso((moment or timezone.now()).replace(microsecond=0))


def policy_of(session: RecognitionSession) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=max(1, session.callback_max_attempts),
        backoff_strategy="exponential",
        initial_delay_ms=session.callback_backoff_ms,
        max_delay_ms=max(session.callback_backoff_ms, 60_000),
    )


def breaker_for(url: str) -> CircuitBreaker:
    parts = urlsplit(url)
    return CircuitBreaker(f"face-service-callback:{parts.hostname}:{parts.port or ''}")


def payload_of(delivery: CallbackDelivery) -> dict[str, Any]:
    """The batch as the caller receives it."""
    session = delivery.session
    results = delivery.results.select_related("student", "camera").order_by("detected_at", "id")
    return {
        "batchId": str(delivery.id),
        "slotId": session.slot_id,
        "roomId": session.room_id,
        "totalRecognitions": len(results),
        "recognitions": [
            {
                "recognitionId": str(result.id),
                "userId": result.student.user_id,
                "fullName": result.student.full_name,
                "rollNumber": result.student.roll_number,
                "embeddingVersion": result.student.embedding_version,
                "confidence": round(result.similarity, 4),
                "cameraId": result.camera.camera_id,
                "cameraName": result.camera.name,
                "boundingBox": result.bounding_box,
                "detectedAt": iso(result.detected_at),
            }
            for result in results
        ],
        "sentAt": iso(),
    }


def claim_batch(session_id: str) -> CallbackDelivery | None:
    """Undelivered results of a session (up to the batch size) put in a new delivery, or None."""
    with transaction.atomic():
        pending = list(
            RecognitionResult.objects.select_for_update(skip_locked=True)
            .filter(session_id=session_id, delivery__isnull=True)
            .order_by("detected_at", "id")
            .values_list("pk", flat=True)[: conf.callback_batch_size()]
        )
        if not pending:
            return None
        delivery = CallbackDelivery.objects.create(session_id=session_id, size=len(pending))
        RecognitionResult.objects.filter(pk__in=pending).update(delivery=delivery)
    return delivery


def _headers(delivery: CallbackDelivery) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "Idempotency-Key": str(delivery.id)}
    api_key = conf.callback_api_key()
    if api_key:
        headers["X-API-Key"] = api_key
    return headers


def send(delivery: CallbackDelivery) -> CallbackDelivery:
    """Post one batch under the retry policy; the delivery row records every attempt and the outcome."""
    session = delivery.session
    payload = payload_of(delivery)
    headers = _headers(delivery)
    callback_url = session.callback_url

    def attempt() -> None:
        entry: dict[str, Any] = {"at": now_iso()}  # to the microsecond: the backoff is measured from it
        try:
            # Checked again at each attempt and connected to the address checked (DNS rebinding).
            with outbound.pinned_client(callback_url, "Callback URL", timeout=session.callback_timeout) as client:
                response = client.post(callback_url, json=payload, headers=headers)
            entry["status"] = response.status_code
            response.raise_for_status()
        except Exception as exc:
            entry.setdefault("error", str(exc)[:300] or type(exc).__name__)
            raise
        finally:
            delivery.attempts += 1
            delivery.attempt_log = [*delivery.attempt_log, entry]
            delivery.http_status = entry.get("status")
            delivery.save(update_fields=["attempts", "attempt_log", "http_status"])

    try:
        # Checked again at each use: the allow-list may have shrunk, or the name now resolve elsewhere.
        outbound.check_allowed_host(callback_url, settings.FACE_SERVICE_CALLBACK_HOSTS, "Callback URL")
        call_with_policy(attempt, breaker=breaker_for(callback_url), policy=policy_of(session))
    except outbound.BlockedTarget as exc:
        delivery.status = DeliveryStatus.FAILED
        delivery.last_error = str(exc)
        delivery.save(update_fields=["status", "last_error"])
        logger.error("recognition callback refused: %s", exc, extra={"slotId": session.slot_id})
        return delivery
    except OutboundError as exc:
        delivery.status = DeliveryStatus.FAILED
        delivery.last_error = exc.message[:1000]
        delivery.save(update_fields=["status", "last_error"])
        logger.error(
            "recognition callback failed after %s attempt(s): %s",
            delivery.attempts,
            exc.message,
            extra={"slotId": session.slot_id, "batchId": str(delivery.id)},
        )
        return delivery
    delivery.status = DeliveryStatus.DELIVERED
    delivery.delivered_at = timezone.now()
    delivery.last_error = ""
    delivery.save(update_fields=["status", "delivered_at", "last_error"])
    logger.info(
        "recognition callback delivered",
        extra={"slotId": session.slot_id, "batchId": str(delivery.id), "recognitions": delivery.size},
    )
    return delivery


def deliver_pending(session_id: str) -> list[CallbackDelivery]:
    """Send every undelivered result of a session, batch after batch; returns the batches sent."""
    sent = []
    while (delivery := claim_batch(session_id)) is not None:
        delivery = CallbackDelivery.objects.select_related("session").get(pk=delivery.pk)
        sent.append(send(delivery))
    return sent


def release_interrupted(older_than_seconds: float) -> int:
    """Batches left ``sending`` by a worker that died mid-send: mark them failed and give their results
    back to the queue, so the next delivery sends them again (the caller may see a batch twice; the
    recognition ids let it tell)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    released = 0
    with transaction.atomic():
        stuck = list(
            CallbackDelivery.objects.select_for_update(skip_locked=True).filter(
                status=DeliveryStatus.SENDING, created_at__lt=cutoff
            )
        )
        for delivery in stuck:
            released += RecognitionResult.objects.filter(delivery=delivery).update(delivery=None)
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = "Interrupted (the worker stopped while sending); results queued again"
            delivery.save(update_fields=["status", "last_error"])
    return released
