"""The ``/ws`` WebSocket of 001: authenticated by access token, subscribe/unsubscribe, ping/pong.

Domain code announces changes through one publisher per channel (``detections``, ``camera-status``,
``alerts``, ``notifications``); the publisher sends over the channel layer to every web process, and
each connection forwards what its subscriptions (and optional ``cameraId`` filter) ask for.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar, NotRequired, TypedDict
from urllib.parse import parse_qs

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
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


# --- The consumer --------------------------------------------------------------------------------


@database_sync_to_async
def _user_for_token(raw: str):
    from rest_framework_simplejwt.exceptions import TokenError
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User
    from accounts.tokens import session_revoked

    try:
        token = AccessToken(raw)
    except TokenError:
        return None
    if token.get("sid") and session_revoked(token["sid"]):
        return None
    user = User.objects.select_related("role").filter(pk=token.get("sub")).first()
    return user if user is not None and user.is_active else None


class RealtimeConsumer(AsyncJsonWebsocketConsumer):
    """Auth is the access token in the query string (browsers cannot set headers on a WebSocket),
    so cookies play no part and no Origin check is needed for CSRF's sake."""

    async def connect(self):
        query = parse_qs(self.scope.get("query_string", b"").decode())
        raw = (query.get("token") or [""])[0]
        self.user = await _user_for_token(raw) if raw else None
        if self.user is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        # channel -> camera filters (None in the set: every camera)
        self.subscriptions: dict[str, set[str | None]] = {}
        await self.accept()
        await self.send_json({"type": "connected", "userId": str(self.user.pk)})

    async def disconnect(self, code):
        for channel in list(getattr(self, "subscriptions", {})):
            await self.channel_layer.group_discard(group_name(channel), self.channel_name)

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            await self._error("INVALID_MESSAGE", "Messages are JSON objects")
            return
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})
            return
        action = content.get("action")
        if action not in ("subscribe", "unsubscribe"):
            await self._error("INVALID_MESSAGE", "Send {action: subscribe|unsubscribe, channel} or {type: ping}")
            return
        channel = content.get("channel")
        if channel not in CHANNEL_PERMISSIONS:
            await self._error("UNKNOWN_CHANNEL", f"Unknown channel {channel!r}; one of {sorted(CHANNEL_PERMISSIONS)}")
            return
        camera_id = content.get("cameraId") or None
        if action == "subscribe":
            needed = CHANNEL_PERMISSIONS[channel]
            if needed and not self.user.has_permission(needed):
                await self._error("AUTH_003", f"Subscribing to {channel} needs {needed}", channel=channel)
                return
            if channel not in self.subscriptions:
                await self.channel_layer.group_add(group_name(channel), self.channel_name)
            self.subscriptions.setdefault(channel, set()).add(camera_id)
            await self.send_json({"type": "subscribed", "channel": channel, "cameraId": camera_id})
            return
        filters = self.subscriptions.get(channel, set())
        filters.discard(camera_id)
        if channel in self.subscriptions and not filters:
            del self.subscriptions[channel]
            await self.channel_layer.group_discard(group_name(channel), self.channel_name)
        await self.send_json({"type": "unsubscribed", "channel": channel, "cameraId": camera_id})

    async def realtime_message(self, event):
        filters = self.subscriptions.get(event["channel"])
        if not filters:
            return
        if event.get("user_id") and event["user_id"] != str(self.user.pk):
            return
        camera_id = event.get("camera_id")
        if None in filters or camera_id in filters:
            await self.send_json(event["message"])

    async def _error(self, code: str, message: str, **extra):
        await self.send_json({"type": "error", "code": code, "message": message, **extra})
