"""The ``/ws`` WebSocket of 001: authenticated by access token, subscribe/unsubscribe, ping/pong.

The channels, their permissions and their publishers are ``config.realtime``; this consumer knows the user.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from accounts.tokens import session_revoked
from config.realtime import CHANNEL_PERMISSIONS, CLOSE_UNAUTHENTICATED, group_name


@database_sync_to_async
def user_for_token(raw: str):
    """The active user an access token names, or None (invalid, expired, or its session ended)."""
    try:
        token = AccessToken(raw)
    except TokenError:
        return None
    if token.get("sid") and session_revoked(token["sid"]):
        return None
    user = User.objects.select_related("role").filter(pk=token.get("sub")).first()
    return user if user is not None and user.is_active else None


@database_sync_to_async
def current_user(user_id, session_id: str | None):
    """The connection's user as they are now, or None when suspended, deleted or signed out."""
    if session_id and session_revoked(session_id):
        return None
    user = User.objects.select_related("role").filter(pk=user_id).first()
    return user if user is not None and user.is_active else None


# Permissions are checked again at most this often while messages flow: a suspended user, a revoked
# session or a withdrawn permission stops receiving within that, not at the next reconnect.
RECHECK_SECONDS = 2.0


class RealtimeConsumer(AsyncJsonWebsocketConsumer):
    """Auth is the access token in the query string (browsers cannot set headers on a WebSocket),
    so cookies play no part and no Origin check is needed for CSRF's sake."""

    async def connect(self):
        query = parse_qs(self.scope.get("query_string", b"").decode())
        raw = (query.get("token") or [""])[0]
        self.user = await user_for_token(raw) if raw else None
        if self.user is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.session_id = AccessToken(raw).get("sid")
        self.checked_at = time.monotonic()
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

    async def still_allowed(self, channel: str) -> bool:
        """Re-read the user (at most every RECHECK_SECONDS); close the socket when they may no longer listen."""
        if time.monotonic() - self.checked_at >= RECHECK_SECONDS:
            self.user = await current_user(self.user.pk, self.session_id)
            self.checked_at = time.monotonic()
            if self.user is None:
                await self.close(code=CLOSE_UNAUTHENTICATED)
                return False
        needed = CHANNEL_PERMISSIONS.get(channel)
        if needed and not self.user.has_permission(needed):
            self.subscriptions.pop(channel, None)
            await self.channel_layer.group_discard(group_name(channel), self.channel_name)
            return False
        return True

    async def realtime_message(self, event):
        filters = self.subscriptions.get(event["channel"])
        if not filters or self.user is None:
            return
        if not await self.still_allowed(event["channel"]):
            return
        if event.get("user_id") and event["user_id"] != str(self.user.pk):
            return
        camera_id = event.get("camera_id")
        if None in filters or camera_id in filters:
            await self.send_json(event["message"])

    async def _error(self, code: str, message: str, **extra):
        await self.send_json({"type": "error", "code": code, "message": message, **extra})
