"""The 000 (counting) and 002 (gateway) families: plain snake_case JSON models, no envelope."""

from __future__ import annotations

from rest_framework import parsers, renderers
from rest_framework.views import APIView

from config.api.base import ContractMixin
from config.api.contracts import Contract


class CountingAPIView(ContractMixin, APIView):
    contract = Contract.COUNTING
    renderer_classes = [renderers.JSONRenderer]
    parser_classes = [parsers.JSONParser]


class GatewayAPIView(ContractMixin, APIView):
    contract = Contract.GATEWAY
    renderer_classes = [renderers.JSONRenderer]
    parser_classes = [parsers.JSONParser]
