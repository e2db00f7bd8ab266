"""WebSocket routes of every app."""

from django.urls import path

from config.realtime import RealtimeConsumer

websocket_urlpatterns = [
    path("ws", RealtimeConsumer.as_asgi()),
]
