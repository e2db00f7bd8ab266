"""The 004 family (face service): {status, message, data}; errors {status, message, code}."""

from __future__ import annotations

from typing import Any

from rest_framework import parsers, renderers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.base import ContractMixin
from config.api.contracts import Contract


class FaceServiceResponse(Response):
    """A 004 success: the status repeated in the body with a human message."""

    def __init__(self, data: Any, message: str, status: int = 200, **kwargs):
        super().__init__({"status": status, "message": message, "data": data}, status=status, **kwargs)


class FaceServiceAPIView(ContractMixin, APIView):
    contract = Contract.FACE_SERVICE
    renderer_classes = [renderers.JSONRenderer]
    parser_classes = [parsers.JSONParser, parsers.MultiPartParser, parsers.FormParser]
    required_permissions = "face-service"
