from __future__ import annotations

import django_filters
from django.db.models import Q
from drf_spectacular.utils import extend_schema_field

from cameras.choices import COUNTING_STATUS_ALIASES, AlertLevel, CameraStatus, SensorType, StreamType
from cameras.models import Alert, Camera, Sensor, Zone
from config.api.filters import QueryAliases


class CameraFilterSet(QueryAliases, django_filters.FilterSet):
    status = django_filters.CharFilter(method="filter_status")
    stream_type = django_filters.ChoiceFilter(choices=StreamType.choices)
    enabled = django_filters.BooleanFilter()
    search = django_filters.CharFilter(method="filter_search")
    zone_id = django_filters.CharFilter(field_name="zone_id")

    class Meta:
        model = Camera
        fields = ["status", "stream_type", "enabled", "search", "zone_id"]

    # 001 sends camelCase query parameters; snake_case stays accepted.
    query_aliases = {"streamType": "stream_type", "zoneId": "zone_id"}
    documented_names = {"stream_type": "streamType", "zone_id": "zoneId"}

    # 000's active/inactive are read as online/offline (its clients share the filter on /api/v2/cameras).
    @extend_schema_field({"type": "string", "enum": [*CameraStatus.values, *COUNTING_STATUS_ALIASES]})
    def filter_status(self, queryset, name, value):
        value = COUNTING_STATUS_ALIASES.get(value, value)
        if value not in CameraStatus.values:
            from rest_framework.exceptions import ValidationError

            raise ValidationError({"status": [f"One of {', '.join(CameraStatus.values)}"]})
        return queryset.filter(status=value)

    def filter_search(self, queryset, name, value):
        return queryset.filter(
            Q(id__icontains=value) | Q(name__icontains=value) | Q(location__icontains=value) | Q(tags__icontains=value)
        )


class ZoneFilterSet(django_filters.FilterSet):
    camera_id = django_filters.CharFilter(field_name="camera_id")

    class Meta:
        model = Zone
        fields = ["camera_id"]


class SensorFilterSet(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=SensorType.choices)
    camera_id = django_filters.CharFilter(field_name="camera_id")

    class Meta:
        model = Sensor
        fields = ["type", "camera_id"]


class AlertFilterSet(QueryAliases, django_filters.FilterSet):
    level = django_filters.ChoiceFilter(choices=AlertLevel.choices)
    acknowledged = django_filters.BooleanFilter()
    muted = django_filters.BooleanFilter()
    camera_id = django_filters.CharFilter(field_name="camera_id")
    open = django_filters.BooleanFilter(field_name="resolved_at", lookup_expr="isnull")

    class Meta:
        model = Alert
        fields = ["level", "acknowledged", "muted", "camera_id", "open"]

    query_aliases = {"cameraId": "camera_id"}
    documented_names = {"camera_id": "cameraId"}
