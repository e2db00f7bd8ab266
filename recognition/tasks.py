"""Recognition Celery tasks (001 "Detection Tasks"), and the face-service (004) tasks' registration.

Beat schedule (migration ``0004_detection_schedules``, editable in Admin): ``recognition.check_detection_provider``
every 5 minutes. Cameras with recognition on are no longer scanned from Beat: the vision workers watch them
continuously (``recognition.vision``; migration ``0005`` removed the scans' schedule).
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction

from config.resilience import backoff_delay
from recognition import detections
from recognition.choices import DetectionEventStatus
from recognition.face_service import tasks as face_service_tasks  # noqa: F401  (registers the 004 tasks)
from recognition.models import DetectionEventLog
from recognition.providers import ProviderError

logger = logging.getLogger("argus.recognition")

SEND_FRAME_ATTEMPTS = 3  # 001: "Retry: 3 attempts with exponential backoff"


def queue_frame(camera_id: str) -> DetectionEventLog:
    """Send-frame (001): check the camera can give a frame (:func:`detections.camera_for_frame` raises
    why not), log the detection job and queue it once the transaction commits. The log's id is the job id."""
    event = detections.start_event(detections.camera_for_frame(camera_id), "api")

    def enqueue() -> None:
        try:
            send_frame_for_detection.delay(str(event.id))
        except Exception as exc:  # the broker refused it: say so on the job rather than leave it "processing"
            logger.exception("could not queue detection job %s", event.id)
            DetectionEventLog.objects.filter(pk=event.pk).update(
                status=DetectionEventStatus.ERROR, error_message=f"Could not queue the detection job: {exc}"
            )

    transaction.on_commit(enqueue)
    return event


@shared_task(bind=True, name="recognition.send_frame_for_detection", soft_time_limit=30, time_limit=40)
def send_frame_for_detection(self, event_id: str) -> dict:
    """Run the detection job logged as ``event_id`` (001 ``send_frame_for_detection``)."""
    event = DetectionEventLog.objects.select_related("camera").filter(pk=event_id).first()
    if event is None:
        return {"status": "gone"}
    if self.request.retries:
        DetectionEventLog.objects.filter(pk=event.pk).update(status="processing")
    try:
        result = detections.process_frame(event)
    except (detections.FrameUnavailable, ProviderError) as exc:
        if self.request.retries + 1 >= SEND_FRAME_ATTEMPTS:
            return {"status": "error", "error": str(exc)}
        raise self.retry(exc=exc, countdown=backoff_delay(self.request.retries + 1, "exponential", 1000, 8000)) from exc
    return {"status": "received", "detections": len(result.detections)}


@shared_task(name="recognition.check_detection_provider", ignore_result=True)
def check_detection_provider() -> dict:
    """001 ``test_detection_provider``: health, latency, config update, alert when degraded or offline."""
    return detections.check_provider()
