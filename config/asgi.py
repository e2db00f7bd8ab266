"""ASGI entry point: HTTP through Django, WebSocket through Channels (served by daphne)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from config.http_handler import get_pooled_asgi_application

# Django's handler, with each request's synchronous part on long-lived threads (config/http_handler.py).
django_asgi_app = get_pooled_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402  (needs Django set up)

from config.middleware import BodyLimit  # noqa: E402
from config.routing import discover_websocket_routes  # noqa: E402
from config.webserver import skip_twisted_form_parsing  # noqa: E402

skip_twisted_form_parsing()
application = ProtocolTypeRouter(
    {"http": BodyLimit(django_asgi_app), "websocket": URLRouter(discover_websocket_routes())}
)
