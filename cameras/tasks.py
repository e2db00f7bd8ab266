"""Celery tasks of the cameras app."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="cameras.check_camera_health", ignore_result=True)
def check_camera_health() -> dict[str, int]:
    """Probe every enabled camera (Beat, every 2 minutes): status changes are announced, outages alerted."""
    from cameras import monitoring

    outcomes = monitoring.check_all_cameras()
    return {
        "checked": len(outcomes),
        "online": sum(o.online for o in outcomes),
        "alerts_raised": sum(o.alert_raised for o in outcomes),
        "alerts_resolved": sum(o.alert_resolved for o in outcomes),
    }
