"""``WS /events/stream`` (003): every accepted event, as ``{"type": "event", "data": {...}}``.

Authenticated by ``?token=`` (a JWT access token) or ``?api_key=`` in the query string, or by an
``Authorization: Bearer`` / ``X-API-Key`` header where the client can set one; the caller must hold
``anpr:read`` (a role permission, or an API key scope). Optional ``camera_id`` and ``zone_id`` query
parameters narrow the stream. Bad credentials close the handshake with 4401, missing permission 4403.
The client may send ``{"type": "ping"}`` to keep an idle connection open; it gets ``{"type": "pong"}``.

003 allows one connection per edge worker: a second connection with the same API key replaces the first,
which is closed with 4409 (on any web process: the replacement goes through the channel layer). People
(JWT) may open several, one per page.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts.consumers import user_for_token
from anpr import stream
from anpr.stream import GROUP
from config.realtime import CLOSE_UNAUTHENTICATED

CLOSE_FORBIDDEN = 4403
CLOSE_REPLACED = 4409  # the edge worker's key opened a newer connection
REQUIRED_PERMISSION = "anpr:read"


@database_sync_to_async
def _principal_for_api_key(raw: str):
    from rest_framework.exceptions import AuthenticationFailed

    from accounts.authentication import ApiKeyPrincipal, authenticate_api_key

    try:
        return ApiKeyPrincipal(authenticate_api_key(raw))
    except AuthenticationFailed:
        return None


def _credentials(scope) -> tuple[str, str, dict[str, str]]:
    """(token, api key, filters) from the query string, falling back to the headers for credentials."""
    query = {name: values[0] for name, values in parse_qs(scope.get("query_string", b"").decode()).items()}
    headers = {name.decode().lower(): value.decode() for name, value in scope.get("headers", [])}
    token = query.get("token", "")
    bearer = headers.get("authorization", "")
    if not token and bearer.lower().startswith("bearer "):
        token = bearer[7:].strip()
    api_key = query.get("api_key", "") or headers.get("x-api-key", "")
    filters = {name: query[name] for name in ("camera_id", "zone_id") if query.get(name)}
    return token, api_key, filters


class EventStreamConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        token, api_key, self.filters = _credentials(self.scope)
        principal = None
        if token:
            principal = await user_for_token(token)
        elif api_key:
            principal = await _principal_for_api_key(api_key)
        if principal is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not principal.has_permission(REQUIRED_PERMISSION):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        key = getattr(principal, "key", None)
        if key is not None:
            self.worker_group = f"anpr-stream.key.{key.pk}"
            await self.channel_layer.group_send(self.worker_group, {"type": "stream.replaced", "by": self.channel_name})
            await self.channel_layer.group_add(self.worker_group, self.channel_name)
        await self.channel_layer.group_add(GROUP, self.channel_name)
        await sync_to_async(stream.joined)()  # publishers that saw no member look again (anpr.stream)
        self.joined = True
        await self.accept()

    async def disconnect(self, code):
        if getattr(self, "joined", False):
            await self.channel_layer.group_discard(GROUP, self.channel_name)
        if getattr(self, "worker_group", None):
            await self.channel_layer.group_discard(self.worker_group, self.channel_name)

    async def stream_replaced(self, message):
        if message["by"] != self.channel_name:
            await self.close(code=CLOSE_REPLACED)

    @classmethod
    async def decode_json(cls, text_data):
        try:
            return await super().decode_json(text_data)
        except ValueError:  # not JSON: ignored like any other message the stream does not expect
            return None

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def anpr_event(self, message):
        for name, wanted in self.filters.items():
            if message.get(name) != wanted:
                return
        await self.send_json({"type": "event", "data": message["data"]})
