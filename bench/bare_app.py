"""The floor ``bench/request_path.py`` measures Argus against: one plain Django view (a small JSON answer, no
middleware, no database) as an ASGI application under the same daphne.

    daphne bench.bare_app:application       (from the project directory)
"""

from __future__ import annotations

import django
from django.conf import settings
from django.http import JsonResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-bare-view-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz",
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    USE_TZ=True,
)
django.setup()


def bare(request):
    return JsonResponse({"success": True, "data": {"ok": True}})


urlpatterns = [path("bare", bare)]

from django.core.asgi import get_asgi_application  # noqa: E402  (after settings)

application = get_asgi_application()
