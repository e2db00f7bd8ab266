"""000's ``GET /api/v2/cameras``: the versioning example, in 000's plain snake_case shape."""

from __future__ import annotations

from dataclasses import replace

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from cameras.api.filters import CameraFilterSet
from cameras.api.serializers import CountingCameraPageSerializer, CountingCameraSerializer
from cameras.models import Camera
from config.api.contracts import ApiError, FieldError, Kind
from config.api.exceptions import flatten_errors
from config.api.plain import CountingAPIView


def _bounded(raw: str | None, default: int, name: str, low: int, high: int) -> int:
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ApiError(
            Kind.VALIDATION,
            f"{name} must be an integer from {low} to {high}",
            field_errors=[FieldError(name, f"must be an integer from {low} to {high}", location="query")],
        )
    return value


class CameraListV2View(CountingAPIView):
    required_permissions = "cameras:read"

    @extend_schema(
        parameters=[
            OpenApiParameter("skip", int),
            OpenApiParameter("limit", int),
            OpenApiParameter("status", str),
            OpenApiParameter("search", str),
        ],
        responses=CountingCameraPageSerializer,
    )
    def get(self, request):
        skip = _bounded(request.query_params.get("skip"), 0, "skip", 0, 10**9)
        limit = _bounded(request.query_params.get("limit"), 100, "limit", 1, 1000)
        filterset = CameraFilterSet(request.query_params, queryset=Camera.objects.order_by("id"))
        if not filterset.is_valid():
            raise ApiError(
                Kind.VALIDATION,
                field_errors=[FieldError(k, str(v[0]), location="query") for k, v in filterset.errors.items()],
            )
        try:
            queryset = filterset.qs
        except ValidationError as exc:  # a filter method refused its value (status): a query parameter
            raise ApiError(
                Kind.VALIDATION,
                field_errors=[replace(item, location="query") for item in flatten_errors(exc.detail)],
            ) from None
        items = CountingCameraSerializer(queryset[skip : skip + limit], many=True).data
        return Response({"items": items, "total": queryset.count(), "skip": skip, "limit": limit, "version": "2.0"})
