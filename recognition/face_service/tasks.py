"""Face-service Celery tasks: callback delivery and the watchdog.

Session cameras are not scanned here: the vision workers watch them (:mod:`recognition.face_service.vision`).
"""

from __future__ import annotations

from celery import shared_task

from recognition.face_service import callbacks, sessions


@shared_task(name=sessions.DELIVER_TASK, ignore_result=True)
def deliver_callbacks(session_id: str) -> dict:
    """Post a session's undelivered recognitions to its callback URL, in batches."""
    sent = callbacks.deliver_pending(session_id)
    return {"batches": len(sent), "delivered": sum(1 for d in sent if d.status == "delivered")}


@shared_task(name="recognition.face_service.watch_sessions", ignore_result=True)
def watch_sessions() -> dict:
    """Beat, every minute: expire forgotten sessions, resend waiting results."""
    return sessions.watch_sessions()
