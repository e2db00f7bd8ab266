"""The cameras app's panels on Home (:mod:`config.home`): the cameras with their live pictures, and the open
alerts. Registered in ``CamerasConfig.ready()``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from cameras.choices import BADGE_COLOURS, CameraStatus
from cameras.models import Alert, Camera
from cameras.vision import live

HOME_CAMERAS = 6
HOME_ALERTS = 5


def cameras_panel(request: HttpRequest) -> dict[str, Any] | None:
    """Up to six cameras (enabled first) as tiles following their live pictures, and how many there are."""
    if not request.user.has_permission("cameras:read"):
        return None
    cameras = Camera.objects.order_by("-enabled", "id")
    shown = list(cameras[:HOME_CAMERAS])
    watched = live.watched(camera.pk for camera in shown)
    return {
        "total": cameras.count(),
        "online": cameras.filter(status=CameraStatus.ONLINE).count(),
        "tiles": [
            {
                "camera": camera,
                "badge": BADGE_COLOURS.get(camera.status, ""),
                "thumbnail": live.first_picture(camera, watched),
            }
            for camera in shown
        ],
    }


def alerts_panel(request: HttpRequest) -> dict[str, Any] | None:
    """The newest open alerts (unresolved and not muted), with their levels as the Alerts page shows them."""
    if not request.user.has_permission("cameras:read"):
        return None
    open_alerts = Alert.objects.filter(resolved_at__isnull=True, muted=False).order_by("-timestamp")
    return {
        "total": open_alerts.count(),
        "rows": [
            {"alert": alert, "badge": BADGE_COLOURS.get(alert.level, "")}
            for alert in open_alerts.select_related("camera")[:HOME_ALERTS]
        ],
    }
