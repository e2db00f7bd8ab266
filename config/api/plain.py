"""The 000 (counting) and 002 (gateway) families: plain snake_case JSON models, no envelope."""

from __future__ import annotations

from rest_framework import parsers, renderers
from rest_framework.views import APIView

from config.api.base import ContractMixin
from config.api.contracts import Contract


class Kept(list):
    """A list kept by a cache and answered as it is: the renderer keeps the body it rendered beside it, for the
    next answer of the same list (read only)."""

    rendered: tuple[type, bytes] | None = None  # (the renderer's class, the body it rendered)


class KeptJSONRenderer(renderers.JSONRenderer):
    """DRF's JSON renderer; a :class:`Kept` list is rendered once (unless an indented body is asked for)."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if not isinstance(data, Kept) or self.get_indent(accepted_media_type, renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        kept = data.rendered
        if kept is None or kept[0] is not type(self):
            kept = data.rendered = (type(self), super().render(data, accepted_media_type, renderer_context))
        return kept[1]


class CountingAPIView(ContractMixin, APIView):
    contract = Contract.COUNTING
    renderer_classes = [KeptJSONRenderer]
    parser_classes = [parsers.JSONParser]


class GatewayAPIView(ContractMixin, APIView):
    contract = Contract.GATEWAY
    renderer_classes = [renderers.JSONRenderer]
    parser_classes = [parsers.JSONParser]
