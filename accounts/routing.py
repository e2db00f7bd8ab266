"""accounts' WebSocket route: 001's ``/ws``."""

from django.urls import path

from accounts.consumers import RealtimeConsumer

websocket_urlpatterns = [path("ws", RealtimeConsumer.as_asgi())]
