"""The dashboard shows times in the signed-in user's time zone, pages in their language and their theme."""

from __future__ import annotations

import zoneinfo

from django.utils import timezone, translation

from accounts.preferences import display_settings
from config.api.contracts import Contract, contract_for_path


class UserPreferenceMiddleware:
    """For dashboard (HTML) requests of a signed-in user who saved preferences: activate their zone and
    language for the request, then put back what was active before.

    API requests are left alone: their timestamps are ISO 8601 with an offset, for the client to show.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chosen = None
        if contract_for_path(request.path) == Contract.HTML and request.user.is_authenticated:
            chosen = display_settings(request.user)
        if chosen is None:
            return self.get_response(request)
        zone_name, language, request.ui_theme = chosen
        try:
            timezone.activate(zoneinfo.ZoneInfo(zone_name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()  # a zone the machine no longer knows: the site's own, not an error page
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        try:
            response = self.get_response(request)
            response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
            return response
        finally:
            # Threads serve one request after another: the next one must not inherit this user's choice.
            timezone.deactivate()
            translation.deactivate()
