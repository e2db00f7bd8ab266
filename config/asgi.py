"""ASGI entry point: HTTP through Django, WebSocket through Channels (served by daphne)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402  (needs Django set up)

from config.middleware import BodyLimit  # noqa: E402
from config.routing import discover_websocket_routes  # noqa: E402
from config.webserver import skip_twisted_form_parsing  # noqa: E402

skip_twisted_form_parsing()
application = ProtocolTypeRouter(
    {"http": BodyLimit(django_asgi_app), "websocket": URLRouter(discover_websocket_routes())}
)
