"""Content negotiation as DRF's, with each answer kept for the same question.

DRF parses the ``Accept`` header and matches it against the view's renderers on every request, though a
client sends the same header every time (most send none, or ``*/*``). The choice depends only on the format
asked for (a ``.json`` suffix or ``?format=``), the header and the renderers' classes, so the process keeps
it by those (a bounded number of them); a request that nothing can answer is refused afresh each time (406).
"""

from __future__ import annotations

from rest_framework.negotiation import DefaultContentNegotiation

KEPT_CHOICES = 512  # past it the choices start again empty (the header is the client's to choose)

_choices: dict[tuple, tuple[int, str]] = {}


class KeptContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        key = (
            format_suffix,
            request.query_params.get(self.settings.URL_FORMAT_OVERRIDE) if self.settings.URL_FORMAT_OVERRIDE else None,
            request.META.get("HTTP_ACCEPT"),
            tuple(type(renderer) for renderer in renderers),
        )
        kept = _choices.get(key)
        if kept is not None:
            return renderers[kept[0]], kept[1]
        renderer, media_type = super().select_renderer(request, renderers, format_suffix)
        index = next(n for n, candidate in enumerate(renderers) if candidate is renderer)
        if len(_choices) >= KEPT_CHOICES:
            _choices.clear()
        _choices[key] = (index, media_type)
        return renderer, media_type
