"""000 counting endpoints: ``/api/v1/cameras/{id}/counts``, ``/api/v1/counts/realtime``, ``/api/v1/counts/analytics``,
and in the same style the video counters (``/api/v1/counts/counters``) and a camera's counting set-up
(``/api/v1/cameras/{id}/counting``), which the Counting page calls.

Plain snake_case JSON as 000 shows it; query parameters ``camera_id``, ``start_date``, ``end_date``, ``skip``,
``limit``. Dates are ISO 8601 date-times (a time zone, or UTC) or plain dates: a ``start_date`` date is
that day's first moment, an ``end_date`` date includes that whole day. Ranges are ``[start, end)``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.response import Response

from cameras.models import Camera
from config import stamps
from config.api.contracts import ApiError, FieldError, Kind
from config.api.plain import CountingAPIView
from counting import analytics, ingest, realtime, setup
from counting.api import serializers
from counting.models import CountRecord
from counting.video import live

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
DEFAULT_ANALYTICS_RANGE = timedelta(days=7)
MAX_ANALYTICS_RANGE = timedelta(days=3660)
_DATE_HELP = "ISO 8601 date-time (UTC where no zone is given) or a date"


def _camera(camera_id: str) -> Camera:
    camera = Camera.objects.filter(pk=camera_id).first()
    if camera is None:
        raise ApiError(Kind.NOT_FOUND, f"Camera with ID {camera_id} not found", code="CAMERA_NOT_FOUND")
    return camera


def _query_error(errors: list[FieldError]) -> ApiError:
    for error in errors:
        error.location = "query"
    return ApiError(Kind.VALIDATION, "Invalid query parameters", field_errors=errors)


def parse_bound(name: str, raw: str | None, errors: list[FieldError], *, end: bool) -> datetime | None:
    """A ``start_date``/``end_date`` parameter as a moment (an end date means the end of that day)."""
    text = (raw or "").strip()
    if not text:
        return None
    # A "+07:00" offset sent unencoded in a query string arrives as " 07:00".
    if len(text) > 6 and text[-6] == " " and text[-5:-3].isdigit() and text[-3] == ":":
        text = f"{text[:-6]}+{text[-5:]}"
    try:
        if len(text) == 10:
            day = datetime.combine(date.fromisoformat(text), time.min, UTC)
            return day + timedelta(days=1) if end else day
        moment = datetime.fromisoformat(text)
    except ValueError:
        errors.append(FieldError(name, f"{name} must be an ISO 8601 date or date-time, e.g. 2024-01-01T00:00:00Z"))
        return None
    return moment.replace(tzinfo=UTC) if timezone.is_naive(moment) else moment


def _bounded_int(name: str, raw: str | None, default: int, low: int, high: int, errors: list[FieldError]) -> int:
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        errors.append(FieldError(name, f"{name} must be an integer from {low} to {high}"))
        return default
    return value


def _range(params, errors: list[FieldError]) -> tuple[datetime | None, datetime | None]:
    start = parse_bound("start_date", params.get("start_date"), errors, end=False)
    end = parse_bound("end_date", params.get("end_date"), errors, end=True)
    if start and end and start >= end:
        errors.append(FieldError("end_date", "end_date must be after start_date"))
    return start, end


RANGE_PARAMETERS = [
    OpenApiParameter("start_date", str, description=f"From (inclusive); {_DATE_HELP}"),
    OpenApiParameter("end_date", str, description=f"Until (exclusive; a date includes that day); {_DATE_HELP}"),
]


class CameraCountsView(CountingAPIView):
    """``GET`` a camera's counts (newest first), ``POST`` one count or a batch."""

    required_permissions = {"GET": "counts:read", "POST": "counts:ingest"}
    # The stored counts are the record of an ingest call. An audit row per machine batch would double
    # the write cost of the busiest endpoint and drown people's actions in the trail.
    audit_enabled = False

    @property
    def rate_category(self) -> str:
        return "ingest" if self.request.method == "POST" else "standard"

    @extend_schema(
        operation_id="camera_counts_list",
        parameters=[
            *RANGE_PARAMETERS,
            OpenApiParameter("skip", int, description="Rows to skip (default 0)"),
            OpenApiParameter(
                "limit", int, description=f"Rows to return (default {DEFAULT_LIMIT}, at most {MAX_LIMIT})"
            ),
        ],
        responses={200: serializers.CountDataSerializer(many=True), 404: OpenApiResponse(description="No such camera")},
        description="The camera's counts in the range, newest first; the total is in the X-Total-Count header.",
    )
    def get(self, request, camera_id: str):
        errors: list[FieldError] = []
        start, end = _range(request.query_params, errors)
        skip = _bounded_int("skip", request.query_params.get("skip"), 0, 0, 10**9, errors)
        limit = _bounded_int("limit", request.query_params.get("limit"), DEFAULT_LIMIT, 1, MAX_LIMIT, errors)
        if errors:
            raise _query_error(errors)
        camera = _camera(camera_id)
        queryset = CountRecord.objects.filter(camera=camera)
        if start:
            queryset = queryset.filter(timestamp__gte=start)
        if end:
            queryset = queryset.filter(timestamp__lt=end)
        total = queryset.count()
        rows = list(queryset.order_by("-timestamp", "-id")[skip : skip + limit])
        for row in rows:
            row.camera = camera  # serializers read camera_id only; no query per row
        return Response(serializers.count_payload(rows), headers={"X-Total-Count": str(total)})

    @extend_schema(
        operation_id="camera_counts_create",
        request=PolymorphicProxySerializer(
            component_name="CountIngestBody",
            serializers=[
                serializers.CountDataInSerializer,
                serializers.CountDataInSerializer(many=True),
                serializers.CountBatchInSerializer,
            ],
            resource_type_field_name=None,
            many=False,
        ),
        responses={
            201: PolymorphicProxySerializer(
                component_name="CountIngestResult",
                serializers=[
                    serializers.CountDataSerializer,
                    serializers.CountDataSerializer(many=True),
                    serializers.CountBatchSerializer,
                ],
                resource_type_field_name=None,
                many=False,
            ),
            404: OpenApiResponse(description="No such camera"),
            422: OpenApiResponse(description="Invalid count data: every bad item and field in error.details"),
        },
        description=(
            'One CountData object, a list of them, or {"counts": [...]}. All or nothing: when any item is '
            "invalid nothing is stored and every problem is listed. The answer has the shape of the request."
        ),
    )
    def post(self, request, camera_id: str):
        camera = _camera(camera_id)
        items, shape = _items(request.data)
        clean, errors = ingest.validate_counts(
            items, camera_id=camera.pk, prefix="counts." if shape == "wrapped" else "", single=shape == "single"
        )
        if errors:
            raise ingest.invalid_counts(errors)
        records = ingest.record_counts(camera, clean, source="api")
        stored = serializers.count_payload(records)
        body: Any = stored[0] if shape == "single" else {"counts": stored} if shape == "wrapped" else stored
        return Response(body, status=status.HTTP_201_CREATED)


def _items(data: Any) -> tuple[list[Any], str]:
    """The counts of a request body and the body's shape: ``single``, ``list`` or ``wrapped``."""
    if isinstance(data, dict) and "counts" in data:
        items, shape, field = data["counts"], "wrapped", "counts"
    elif isinstance(data, dict):
        return [data], "single"
    else:
        items, shape, field = data, "list", "body"
    if not isinstance(items, list):
        raise ingest.invalid_counts([FieldError(field, "must be a count object or a list of them")])
    if not items:
        raise ingest.invalid_counts([FieldError(field, "must hold at least one count")])
    if len(items) > settings.COUNTS_MAX_BATCH:
        raise ingest.invalid_counts([FieldError(field, f"at most {settings.COUNTS_MAX_BATCH} counts per request")])
    return items, shape


class RealtimeCountsView(CountingAPIView):
    required_permissions = "counts:read"
    prefetch_stamps = True  # the answer's stamp comes with authentication's round trip (config.stamps)

    @extend_schema(
        operation_id="counts_realtime",
        parameters=[OpenApiParameter("camera_id", str, description="Only this camera")],
        responses=serializers.RealtimeCountSerializer(many=True),
        description=(
            "The latest count of every camera, newest first (cameras without counts last, with nulls). "
            "Cached for a few seconds; new counts make the cache stale at once."
        ),
    )
    def get(self, request):
        with stamps.prefetched(getattr(request._request, "argus_stamps", None)):
            items = realtime.latest_counts()
        camera_id = (request.query_params.get("camera_id") or "").strip()
        if camera_id:
            items = [item for item in items if item["camera_id"] == camera_id]
            if not items:
                _camera(camera_id)  # 404 for an unknown camera; a camera created since the cache is a miss
                items = [item for item in realtime.compute_latest() if item["camera_id"] == camera_id]
        return Response(items)


class CountAnalyticsView(CountingAPIView):
    required_permissions = "counts:read"
    rate_category = "analytics"  # 002: analytics endpoints 50/min per client

    @extend_schema(
        operation_id="counts_analytics",
        parameters=[
            OpenApiParameter("camera_id", str, description="One camera; every camera when absent"),
            *RANGE_PARAMETERS,
        ],
        responses={200: serializers.AnalyticsSerializer, 404: OpenApiResponse(description="No such camera")},
        description=(
            "Per camera and overall: records, sum, average, min, max and average confidence over the range, "
            "with daily and hourly buckets. Read from hourly and daily rollups kept as counts arrive. "
            "Granularity is the hour: the range is widened to whole UTC hours, and the answer says which. "
            "Default range: the last 7 days."
        ),
    )
    def get(self, request):
        errors: list[FieldError] = []
        start, end = _range(request.query_params, errors)
        if errors:
            raise _query_error(errors)
        end = end or timezone.now()
        start = start or end - DEFAULT_ANALYTICS_RANGE
        if start >= end:
            raise _query_error([FieldError("start_date", "start_date must be before end_date")])
        if end - start > MAX_ANALYTICS_RANGE:
            raise _query_error([FieldError("end_date", f"the range may span at most {MAX_ANALYTICS_RANGE.days} days")])
        camera_id = (request.query_params.get("camera_id") or "").strip()
        cameras = [_camera(camera_id).pk] if camera_id else None
        return Response(analytics.analytics(start, end, cameras))


class CounterStatesView(CountingAPIView):
    required_permissions = "counts:read"

    @extend_schema(
        operation_id="counts_counters",
        responses=serializers.CounterStateSerializer(many=True),
        description=(
            "What each camera's video counter is doing: whether a run is queued or under way, the in/out split "
            "of its last interval and the run's totals (the count records carry in + out only)."
        ),
    )
    def get(self, request):
        camera_ids = list(Camera.objects.order_by("id").values_list("id", flat=True))
        return Response(serializers.CounterStateSerializer(live.counter_states(camera_ids), many=True).data)


def _setup_payload(camera: Camera) -> dict[str, Any]:
    return serializers.CountingSetupSerializer(
        {
            "camera_id": camera.pk,
            "counting": setup.stored_setup(camera),
            "problem": setup.setup_problem(camera),
            "version": camera.version,
        }
    ).data


def _expected_version(raw: Any, location: str) -> int | None:
    """The camera version a change is based on (None when not sent), so a concurrent edit is not overwritten."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, str) and raw.isdigit():
        return int(raw)
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    error = FieldError("version", "version must be an integer", location=location)
    raise ApiError(Kind.VALIDATION, "Invalid counting set-up", field_errors=[error])


class CameraCountingView(CountingAPIView):
    """A camera's counting set-up: a line with its "in" side, or a zone, and the interval of stored counts."""

    required_permissions = {"GET": "counts:read", "PUT": "cameras:write", "DELETE": "cameras:write"}
    audit_resource = "camera"

    @extend_schema(
        operation_id="camera_counting_retrieve",
        responses={200: serializers.CountingSetupSerializer, 404: OpenApiResponse(description="No such camera")},
    )
    def get(self, request, camera_id: str):
        return Response(_setup_payload(_camera(camera_id)))

    @extend_schema(
        operation_id="camera_counting_update",
        request=serializers.CountingSetupInSerializer,
        responses={
            200: serializers.CountingSetupSerializer,
            404: OpenApiResponse(description="No such camera"),
            409: OpenApiResponse(description="The camera changed since the version sent"),
            422: OpenApiResponse(description="Invalid set-up: every field in error in error.details"),
        },
        description=(
            "Store the set-up in the camera (its other metadata is kept). Coordinates are pixels of ``frame`` "
            "(the camera's frame when absent) and must lie inside it."
        ),
    )
    def put(self, request, camera_id: str):
        camera = _camera(camera_id)
        data = dict(request.data) if isinstance(request.data, dict) else request.data
        version = _expected_version(data.pop("version", None) if isinstance(data, dict) else None, "body")
        return Response(_setup_payload(setup.save_setup(camera, data, expected_version=version)))

    @extend_schema(
        operation_id="camera_counting_destroy",
        parameters=[OpenApiParameter("version", int, description="The camera's version the removal is based on")],
        responses={200: serializers.CountingSetupSerializer, 404: OpenApiResponse(description="No such camera")},
        description="Remove the set-up: the camera is no longer counted.",
    )
    def delete(self, request, camera_id: str):
        camera = _camera(camera_id)
        version = _expected_version(request.query_params.get("version"), "query")
        return Response(_setup_payload(setup.remove_setup(camera, expected_version=version)))
