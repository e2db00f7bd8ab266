"""Celery tasks of the cameras app."""

from __future__ import annotations

from celery import shared_task

from cameras import monitoring, platform_alerts
from cameras.models import Camera
from cameras.vision import health


@shared_task(name="cameras.check_camera_health", ignore_result=True)
def check_camera_health() -> dict[str, int]:
    """Probe every enabled camera that no vision worker watches (Beat, every 2 minutes): status changes are
    announced, outages alerted. A watched camera's health comes from its worker, which holds the stream."""
    watched = health.watched(list(Camera.objects.filter(enabled=True).values_list("pk", flat=True)))
    outcomes = monitoring.check_all_cameras(skip=watched)
    return {
        "checked": len(outcomes),
        "watched": len(watched),
        "online": sum(o.online for o in outcomes),
        "alerts_raised": sum(o.alert_raised for o in outcomes),
        "alerts_resolved": sum(o.alert_resolved for o in outcomes),
    }


@shared_task(name="cameras.supervise_vision", ignore_result=True)
def supervise_vision() -> dict[str, list[str]]:
    """Every camera with recognition or counting on has a worker with frames, or an alert says it has not."""
    return health.supervise()


@shared_task(name="cameras.evaluate_platform_alerts", ignore_result=True)
def evaluate_platform_alerts() -> dict[str, object]:
    """002's alerting rules (error rate, response time, open circuits), every minute."""
    return platform_alerts.evaluate()
