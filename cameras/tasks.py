"""Celery tasks of the cameras app.

System health: ``cameras.collect_system_metrics`` samples the host every 60 s (Beat schedule
"Collect system metrics") and ``cameras.check_services`` re-checks the platform's services every
60 s (Beat schedule "Check platform services"); both schedules are created by the migration
``0002_system_schedules`` and editable in Admin.
"""

from __future__ import annotations

from celery import shared_task

from cameras import system


@shared_task(name="cameras.collect_system_metrics", ignore_result=True)
def collect_system_metrics() -> int:
    """Store one sample of every host figure and refresh the cached latest set; returns the row count.

    Nothing is pruned here: retention of old samples belongs to the cleanup job.
    """
    return len(system.collect_metrics())


@shared_task(bind=True, name="cameras.check_services", ignore_result=True)
def check_services(self) -> dict[str, str]:
    """Re-check every service but ``web`` (this is a worker, not the web process); returns id -> status.

    The worker running this task counts as alive even if its pool keeps it from answering its own ping.
    """
    rows = system.check_services(
        only=[service_id for service_id in system.SERVICES if service_id != "web"],
        current_worker=self.request.hostname,
    )
    return {row.id: row.status for row in rows}


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
