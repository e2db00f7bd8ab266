"""The live channels of 001's ``/ws`` WebSocket: their names, who may subscribe, and one publisher each.

Domain code announces changes through one publisher per channel (``detections``, ``camera-status``,
``alerts``, ``notifications``); the publisher sends over the channel layer to every web process, and
each connection (``accounts.consumers.RealtimeConsumer``, which knows the signed-in user) forwards what its
subscriptions (and optional ``cameraId`` filter) ask for.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar, NotRequired, TypedDict

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger("argus.realtime")

# What a subscriber must hold to receive each channel; None means any signed-in user.
CHANNEL_PERMISSIONS: dict[str, str | None] = {
    # Who was seen, by name: the same permission as GET /api/v1/detections/live.
    "detections": "detections:read",
    "camera-status": "cameras:read",
    "alerts": "cameras:read",
    "notifications": None,
}

CLOSE_UNAUTHENTICATED = 4401


def group_name(channel: str) -> str:
    return f"realtime.{channel}"


# --- Message shapes (001 "Server → Client") ------------------------------------------------------------


class DetectionMessage(TypedDict):
    type: str  # "detection"
    channel: str
    cameraId: str
    detection: dict[str, Any]


class CameraStatusMessage(TypedDict):
    type: str  # "camera-status"
    channel: str
    cameraId: str
    status: str
    lastSeen: str | None


class AlertMessage(TypedDict):
    type: str  # "alert"
    channel: str
    alert: dict[str, Any]
    cameraId: NotRequired[str | None]


class NotificationMessage(TypedDict):
    type: str  # "notification"
    channel: str
    notification: dict[str, Any]


class ChannelPublisher:
    """Sends one channel's messages to every subscribed connection in every process."""

    channel: ClassVar[str]

    def send(self, message: Mapping[str, Any], *, camera_id: str | None = None, user_id: str | None = None) -> None:
        layer = get_channel_layer()
        event = {
            "type": "realtime.message",
            "channel": self.channel,
            "camera_id": camera_id,
            "user_id": user_id,
            "message": dict(message),
        }
        try:
            async_to_sync(layer.group_send)(group_name(self.channel), event)
        except Exception:  # a dropped live update must not fail the change that caused it
            logger.exception("could not publish on %s", self.channel)


class DetectionPublisher(ChannelPublisher):
    channel = "detections"

    def detection(self, camera_id: str, detection: dict[str, Any]) -> None:
        message: DetectionMessage = {
            "type": "detection",
            "channel": self.channel,
            "cameraId": camera_id,
            "detection": detection,
        }
        self.send(message, camera_id=camera_id)


class CameraStatusPublisher(ChannelPublisher):
    channel = "camera-status"

    def status_changed(self, camera_id: str, status: str, last_seen: str | None) -> None:
        message: CameraStatusMessage = {
            "type": "camera-status",
            "channel": self.channel,
            "cameraId": camera_id,
            "status": status,
            "lastSeen": last_seen,
        }
        self.send(message, camera_id=camera_id)


class AlertPublisher(ChannelPublisher):
    channel = "alerts"

    def alert(self, alert: dict[str, Any], camera_id: str | None = None) -> None:
        message: AlertMessage = {"type": "alert", "channel": self.channel, "alert": alert, "cameraId": camera_id}
        self.send(message, camera_id=camera_id)


class NotificationPublisher(ChannelPublisher):
    channel = "notifications"

    def notification(self, notification: dict[str, Any], user_id: str | None = None) -> None:
        """``user_id`` None broadcasts to everyone subscribed."""
        message: NotificationMessage = {"type": "notification", "channel": self.channel, "notification": notification}
        self.send(message, user_id=user_id)


detections = DetectionPublisher()
camera_status = CameraStatusPublisher()
alerts = AlertPublisher()
notifications = NotificationPublisher()
