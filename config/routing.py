"""WebSocket routes of every app."""

from django.urls import path

from anpr.consumers import EventStreamConsumer
from config.realtime import RealtimeConsumer

websocket_urlpatterns = [
    path("ws", RealtimeConsumer.as_asgi()),
    path("events/stream", EventStreamConsumer.as_asgi()),
]
