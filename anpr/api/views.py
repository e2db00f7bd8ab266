"""003 ANPR endpoints: ``/events/ingest``, ``/events``, ``/events/stats``, ``/events/{id}``, ``/config/models``,
and ``/config/watchlists`` (beyond 003, in its style). Thin: the rules live in the services."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, parsers, status
from rest_framework.response import Response

from anpr import ingest, search, stats, watchlists
from anpr.api import serializers
from anpr.api.filters import DetectionModelFilterSet, WatchlistFilterSet
from anpr.choices import SortField, SortOrder, StatsInterval
from anpr.models import DetectionModel, PlateEvent, WatchlistEntry
from anpr.payloads import accepted_payload, event_payload
from cameras.services import next_id
from config import stamps
from config.api.contracts import ApiError, Kind
from config.api.edge import EdgeAPIView, EdgeGenericAPIView, EdgeViewSet

# The multipart envelope around two images at the limit and the event part; anything bigger is
# refused before it is read.
ENVELOPE_SLACK_BYTES = 1024 * 1024

_DATE_HELP = "ISO 8601 date-time, or a date (a whole day)"
FILTER_PARAMETERS = [
    OpenApiParameter("camera_id", str, description="Camera id, exact"),
    OpenApiParameter("zone_id", str, description="Zone id, exact"),
    OpenApiParameter("start_date", str, description=f"From (inclusive); {_DATE_HELP}"),
    OpenApiParameter("end_date", str, description=f"Until (inclusive); {_DATE_HELP}"),
]


# 003's "Events API" limit (1000/min per edge worker) covers ingest and the event reads alike: one bucket.
EVENTS_RATE_CATEGORY = "ingest"


class EventIngestView(EdgeAPIView):
    """``POST /events/ingest``: an edge worker's event, JSON or multipart with ``frame`` and ``crop`` images."""

    required_permissions = "anpr:ingest"
    rate_category = EVENTS_RATE_CATEGORY
    # The stored event is the record of this call. An audit row per machine event would double the
    # write cost of the busiest endpoint and drown people's actions in the trail.
    audit_enabled = False
    parser_classes = [parsers.JSONParser, parsers.MultiPartParser, parsers.FormParser]
    # The watchlist's and the exporters' stamps ride on the API key's round trip (config.stamps).
    prefetch_stamps = True

    @extend_schema(
        operation_id="events_ingest",
        request={
            "application/json": serializers.IngestEventSerializer,
            "multipart/form-data": serializers.IngestMultipartSerializer,
        },
        responses={
            202: serializers.AcceptedSerializer,
            400: OpenApiResponse(description="Invalid event data: every problem in ``errors``"),
            409: OpenApiResponse(description="An event with this event_id is already stored"),
        },
    )
    def post(self, request):
        limit = 2 * ingest.max_image_bytes() + ENVELOPE_SLACK_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            raise ApiError(Kind.MALFORMED, f"Request body is larger than {limit} bytes", status=413)
        document, uploads, errors = ingest.read_request(request.content_type or "", request.data, request.FILES)
        with stamps.prefetched(getattr(request._request, "argus_stamps", None)):
            event = ingest.ingest(document, uploads, errors)
        return Response(accepted_payload(event), status=status.HTTP_202_ACCEPTED)


class EventListView(EdgeGenericAPIView):
    """``GET /events``: search with filters, sort and skip/limit."""

    required_permissions = "anpr:read"
    rate_category = EVENTS_RATE_CATEGORY
    queryset = PlateEvent.objects.all()  # names the model for the schema; the search builds the real one

    @extend_schema(
        operation_id="events_list",
        parameters=[
            *FILTER_PARAMETERS,
            OpenApiParameter("plate_text", str, description="Partial match, ignoring case, spaces, dashes and dots"),
            OpenApiParameter("min_confidence", float, description="0 to 1"),
            OpenApiParameter("sort_by", str, enum=SortField.values, description="Default timestamp"),
            OpenApiParameter("sort_order", str, enum=SortOrder.values, description="Default desc"),
        ],
        responses=serializers.EventSerializer(many=True),
    )
    def get(self, request):
        query = search.parse_query(request.query_params)
        page = self.paginate_queryset(search.search_events(query))
        return self.get_paginated_response([event_payload(event) for event in page])


class EventStatsView(EdgeAPIView):
    """``GET /events/stats``: totals, per camera and zone, unique plates, event rate and the timeline."""

    required_permissions = "anpr:read"
    rate_category = EVENTS_RATE_CATEGORY

    @extend_schema(
        operation_id="events_stats",
        parameters=[
            *FILTER_PARAMETERS,
            OpenApiParameter("interval", str, enum=StatsInterval.values, description="Timeline buckets; default hour"),
        ],
        responses=serializers.StatsSerializer,
    )
    def get(self, request):
        query, interval = stats.parse_stats_query(request.query_params)
        return Response(stats.event_stats(query, interval))


class EventDetailView(EdgeGenericAPIView):
    """``GET /events/{id}``."""

    queryset = PlateEvent.objects.all()
    lookup_url_kwarg = "event_id"
    not_found = "Event not found"
    required_permissions = "anpr:read"
    rate_category = EVENTS_RATE_CATEGORY

    @extend_schema(operation_id="events_retrieve", responses=serializers.EventSerializer)
    def get(self, request, event_id: str):
        return Response(event_payload(self.get_object()))


READ_WRITE = {
    "list": "anpr:read",
    "retrieve": "anpr:read",
    "create": "anpr:write",
    "update": "anpr:write",
    "partial_update": "anpr:write",
    "destroy": "anpr:write",
}


class _ConfigViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    EdgeViewSet,
):
    required_permissions = READ_WRITE


class DetectionModelViewSet(_ConfigViewSet):
    """``/config/models``: the detector and OCR models edge workers run. PUT changes only what it sends."""

    queryset = DetectionModel.objects.order_by("id")
    serializer_class = serializers.DetectionModelSerializer
    filterset_class = DetectionModelFilterSet
    not_found = "Model not found"
    audit_resource = "anpr-model"

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        model_id = data.pop("id", None) or next_id(DetectionModel, "model-", 3)
        try:
            with transaction.atomic():
                model = DetectionModel.objects.create(id=model_id, **data)
        except IntegrityError:  # that id is taken (by an earlier model or one created at the same moment)
            raise ApiError(Kind.CONFLICT, f"Model {model_id} already exists") from None
        return Response(self.get_serializer(model).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None):
        model = self.get_object()
        # 003's own example PUTs only the parameters: an update changes the fields it sends.
        serializer = self.get_serializer(model, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        serializer.validated_data.pop("id", None)  # the id is the address, not a field to change
        model = serializer.save()
        return Response(self.get_serializer(model).data)

    partial_update = update


class WatchlistViewSet(_ConfigViewSet):
    """``/config/watchlists`` (beyond 003): plates on the allow and deny lists, with a reason."""

    queryset = WatchlistEntry.objects.select_related("created_by").order_by("plate_normalized", "list_type")
    serializer_class = serializers.WatchlistEntrySerializer
    filterset_class = WatchlistFilterSet
    not_found = "Watchlist entry not found"
    audit_resource = "anpr-watchlist"

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = watchlists.save_entry(None, dict(serializer.validated_data), user=request.user)
        return Response(self.get_serializer(entry).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None):
        entry = self.get_object()
        serializer = self.get_serializer(entry, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        entry = watchlists.save_entry(entry, dict(serializer.validated_data))
        return Response(self.get_serializer(entry).data)

    partial_update = update
