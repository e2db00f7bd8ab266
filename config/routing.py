"""WebSocket routes: each app's ``routing.websocket_urlpatterns``, found as the admin finds ``admin`` modules.

Like ``ROOT_URLCONF``'s ``include("app.urls")``, the root names no app: an app contributes its routes.
"""

from __future__ import annotations

from importlib import import_module

from django.apps import apps
from django.utils.module_loading import module_has_submodule


def discover_websocket_routes() -> list:
    """Every installed app's WebSocket routes, in ``INSTALLED_APPS`` order."""
    patterns: list = []
    for app in apps.get_app_configs():
        if module_has_submodule(app.module, "routing"):
            # channels has a routing module of its own, without routes: hence the default
            patterns.extend(getattr(import_module(f"{app.name}.routing"), "websocket_urlpatterns", []))
    return patterns
