"""anpr's WebSocket route: 003's ``/events/stream``."""

from django.urls import path

from anpr.consumers import EventStreamConsumer

websocket_urlpatterns = [path("events/stream", EventStreamConsumer.as_asgi())]
