"""Face-service Celery tasks: one scan chain per session camera, callback delivery, the watchdog.

A scan task re-reads its camera and session every run and schedules its own next run
(``apply_async(countdown=scanInterval)``) while both are active and its chain token is the camera's
current one; the state is all in the database, so a restarted worker carries on (and the Beat
watchdog restarts a chain whose scheduled run was lost with a worker).
"""

from __future__ import annotations

import logging
import time

from celery import shared_task

from recognition.face_service import callbacks, scanning, sessions

logger = logging.getLogger("argus.face_service")


@shared_task(name=sessions.SCAN_TASK, ignore_result=True)
def scan_camera(camera_pk: int, chain: str) -> dict:
    """Scan one session camera once, queue a callback for new recognitions, schedule the next scan."""
    started = time.monotonic()
    try:
        outcome = scanning.scan_camera(camera_pk, chain)
    except Exception:
        # A bug or an engine failure on one frame must not end the camera's chain: log it, try again later.
        logger.exception("scan of session camera %s failed", camera_pk)
        outcome = scanning.scan_camera_outcome_after_error(camera_pk, chain)
    if not outcome.keep_scanning:
        return {"scanning": False}
    if outcome.new_results and outcome.session_id:
        deliver_callbacks.delay(outcome.session_id)
    # The interval runs from the start of this scan, so scans keep their rhythm however long one takes.
    countdown = max(0.0, outcome.interval - (time.monotonic() - started))
    scan_camera.apply_async((camera_pk, chain), countdown=countdown)
    return {"scanning": True, "faces": outcome.faces, "matched": outcome.matched, "new": outcome.new_results}


@shared_task(name=sessions.DELIVER_TASK, ignore_result=True)
def deliver_callbacks(session_id: str) -> dict:
    """Post a session's undelivered recognitions to its callback URL, in batches."""
    sent = callbacks.deliver_pending(session_id)
    return {"batches": len(sent), "delivered": sum(1 for d in sent if d.status == "delivered")}


@shared_task(name="recognition.face_service.watch_sessions", ignore_result=True)
def watch_sessions() -> dict:
    """Beat, every minute: expire forgotten sessions, restart lost scan chains, resend waiting results."""
    return sessions.watch_sessions()
