"""Alerts: raised once per source, resolved when the cause clears, announced live with a notification."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import notifications
from accounts.choices import Severity
from cameras.choices import AlertLevel
from cameras.models import Alert, Camera
from config import realtime
from config.api.contracts import utc_iso

_NOTIFICATION_LEVEL = {
    AlertLevel.LOW: Severity.INFO,
    AlertLevel.MEDIUM: Severity.WARNING,
    AlertLevel.HIGH: Severity.CRITICAL,
    AlertLevel.CRITICAL: Severity.CRITICAL,
}


def alert_payload(alert: Alert) -> dict[str, Any]:
    """An alert as 001 shows it (camelCase: it goes to clients as is)."""
    return {
        "id": alert.id,
        "title": alert.title,
        "description": alert.description,
        "level": alert.level,
        "timestamp": utc_iso(alert.timestamp),
        "cameraId": alert.camera_id,
        "acknowledged": alert.acknowledged,
        "muted": alert.muted,
        "tags": alert.tags,
        "resolvedAt": utc_iso(alert.resolved_at),
    }


def new_alert_id() -> str:
    return f"ALERT-{uuid.uuid4().hex[:12].upper()}"


def raise_once(
    *,
    source: str,
    title: str,
    description: str,
    level: str,
    camera: Camera | None = None,
    tags: list[str] | None = None,
    permission: str = "cameras:read",
) -> tuple[Alert, bool]:
    """Open an alert for ``source`` unless one is open already; its notification goes to the holders of
    ``permission`` only. Returns (alert, created)."""
    existing = Alert.objects.filter(source=source, resolved_at__isnull=True).first()
    if existing:
        return existing, False
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                id=new_alert_id(),
                source=source,
                title=title,
                description=description,
                level=level,
                camera=camera,
                tags=tags or [],
            )
    except IntegrityError:  # another worker opened it at the same moment
        return Alert.objects.get(source=source, resolved_at__isnull=True), False
    payload = alert_payload(alert)
    transaction.on_commit(lambda: realtime.alerts.alert(payload, camera_id=alert.camera_id))
    notifications.notify(
        title=title,
        message=description,
        level=_NOTIFICATION_LEVEL[level],
        link=f"/alerts#{alert.id}",
        permission=permission,
    )
    return alert, True


def resolve(source: str, note: str = "", *, permission: str = "cameras:read") -> bool:
    """Close the open alert of ``source``, if any, and tell everyone."""
    alert = Alert.objects.filter(source=source, resolved_at__isnull=True).first()
    if alert is None:
        return False
    alert.resolved_at = timezone.now()
    alert.save(update_fields=["resolved_at", "updated_at"])
    payload = alert_payload(alert)
    transaction.on_commit(lambda: realtime.alerts.alert(payload, camera_id=alert.camera_id))
    if note:
        notifications.notify(
            title=f"Resolved: {alert.title}",
            message=note,
            level=Severity.INFO,
            link=f"/alerts#{alert.id}",
            permission=permission,
        )
    return True


def acknowledge(alert: Alert) -> Alert:
    alert.acknowledged = True
    alert.save(update_fields=["acknowledged", "updated_at"])
    payload = alert_payload(alert)
    transaction.on_commit(lambda: realtime.alerts.alert(payload, camera_id=alert.camera_id))
    return alert


def mute(alert: Alert, muted: bool = True) -> Alert:
    alert.muted = muted
    alert.save(update_fields=["muted", "updated_at"])
    payload = alert_payload(alert)
    transaction.on_commit(lambda: realtime.alerts.alert(payload, camera_id=alert.camera_id))
    return alert
