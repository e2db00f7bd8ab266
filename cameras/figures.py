"""The cameras app's figures in the platform's summary (contributed in ``CamerasConfig.ready()``)."""

from __future__ import annotations

from cameras.choices import CameraStatus
from cameras.models import Camera
from config.system.summary import SummaryDay


def active_cameras(day: SummaryDay) -> int:
    """Enabled cameras that are online now."""
    return Camera.objects.filter(enabled=True, status=CameraStatus.ONLINE).count()
