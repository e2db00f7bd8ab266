"""The 003 family (ANPR engine root paths): snake_case, lists as {items, total, skip, limit}."""

from __future__ import annotations

from rest_framework import generics, parsers, renderers, viewsets
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.base import ContractMixin
from config.api.contracts import ApiError, Contract, FieldError, Kind
from config.api.lookup import NamedObjectLookup


def _non_negative_int(raw: str | None, default: int, name: str, maximum: int | None = None) -> int:
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ApiError(
            Kind.VALIDATION, "Validation error", field_errors=[FieldError(name, "must be an integer")]
        ) from None
    if value < 0 or (maximum is not None and value > maximum):
        bound = f"between 0 and {maximum}" if maximum is not None else "0 or more"
        raise ApiError(Kind.VALIDATION, "Validation error", field_errors=[FieldError(name, f"must be {bound}")])
    return value


class SkipLimitPagination(BasePagination):
    default_limit = 100
    max_limit = 1000

    def paginate_queryset(self, queryset, request, view=None):
        self.skip = _non_negative_int(request.query_params.get("skip"), 0, "skip")
        self.limit = _non_negative_int(request.query_params.get("limit"), self.default_limit, "limit", self.max_limit)
        self.total = queryset.count() if hasattr(queryset, "count") else len(queryset)
        return list(queryset[self.skip : self.skip + self.limit])

    def get_paginated_response(self, data):
        return Response({"items": list(data), "total": self.total, "skip": self.skip, "limit": self.limit})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "properties": {
                "items": schema,
                "total": {"type": "integer"},
                "skip": {"type": "integer"},
                "limit": {"type": "integer"},
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {"name": "skip", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0}},
            {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "maximum": 1000}},
        ]


class EdgeMixin(ContractMixin):
    contract = Contract.EDGE
    renderer_classes = [renderers.JSONRenderer]
    parser_classes = [parsers.JSONParser, parsers.FormParser, parsers.MultiPartParser]
    pagination_class = SkipLimitPagination
    rate_category = "config"


class EdgeAPIView(EdgeMixin, APIView):
    pass


class EdgeGenericAPIView(EdgeMixin, NamedObjectLookup, generics.GenericAPIView):
    pass


class EdgeViewSet(EdgeMixin, NamedObjectLookup, viewsets.GenericViewSet):
    """Base for 003 resources; ``not_found`` is what a missing object's 404 says."""
