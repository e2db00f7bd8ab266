from __future__ import annotations

from datetime import timedelta

import django_filters
from django.db.models import Q
from django_filters.fields import IsoDateTimeField

from config.api.filters import QueryAliases
from recognition.choices import DetectionEventStatus, DetectionStatus, ProfileStatus, UnknownClusterStatus
from recognition.models import Detection, DetectionEventLog, FaceProfile, UnknownCluster


class FaceProfileFilterSet(django_filters.FilterSet):
    """001: ``department``, ``search`` (name, employee id, department) and ``status``."""

    department = django_filters.CharFilter(field_name="department", lookup_expr="iexact")
    status = django_filters.ChoiceFilter(choices=ProfileStatus.choices)
    search = django_filters.CharFilter(method="filter_search")

    class Meta:
        model = FaceProfile
        fields = ["department", "status", "search"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(employee_id__icontains=value) | Q(department__icontains=value)
        )


class UntilField(IsoDateTimeField):
    """A date-time upper bound; a bare date (``2025-11-04``) means the last instant of that day."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is not None and len(str(value).strip()) == 10:  # YYYY-MM-DD
            moment += timedelta(days=1) - timedelta(microseconds=1)
        return moment


class InclusiveUntilFilter(django_filters.IsoDateTimeFilter):
    """``to``: up to and including the moment, or the whole day of a bare date."""

    field_class = UntilField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("lookup_expr", "lte")
        super().__init__(*args, **kwargs)


# 001 names query parameters ``cameraId``, ``from`` and ``to`` (``dateFrom``/``dateTo`` elsewhere).
DETECTION_QUERY_ALIASES = {
    "cameraId": "camera_id",
    "from": "date_from",
    "to": "date_to",
    "dateFrom": "date_from",
    "dateTo": "date_to",
}
DETECTION_DOCUMENTED_NAMES = {"camera_id": "cameraId", "date_from": "from", "date_to": "to"}


class DetectionEventFilterSet(QueryAliases, django_filters.FilterSet):
    """001 ``GET /detections/events``: ``status``, ``cameraId``, ``from``, ``to``."""

    status = django_filters.ChoiceFilter(choices=DetectionEventStatus.choices)
    camera_id = django_filters.CharFilter(field_name="camera_id")
    date_from = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="gte")
    date_to = InclusiveUntilFilter(field_name="timestamp")

    query_aliases = DETECTION_QUERY_ALIASES
    documented_names = DETECTION_DOCUMENTED_NAMES

    class Meta:
        model = DetectionEventLog
        fields = ["status", "camera_id", "date_from", "date_to"]


class PersonHistoryFilterSet(QueryAliases, django_filters.FilterSet):
    """``GET /history/person/{employeeId}``: ``cameraId``, ``status``, ``from``, ``to``."""

    camera_id = django_filters.CharFilter(field_name="camera_id")
    status = django_filters.ChoiceFilter(choices=DetectionStatus.choices)
    date_from = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="gte")
    date_to = InclusiveUntilFilter(field_name="timestamp")

    query_aliases = DETECTION_QUERY_ALIASES
    documented_names = DETECTION_DOCUMENTED_NAMES

    class Meta:
        model = Detection
        fields = ["camera_id", "status", "date_from", "date_to"]


class UnknownClusterFilterSet(QueryAliases, django_filters.FilterSet):
    """``GET /unknown-faces``: ``status``, ``cameraId`` (seen by that camera), ``since`` (seen since then)."""

    status = django_filters.ChoiceFilter(choices=UnknownClusterStatus.choices)
    camera_id = django_filters.CharFilter(method="filter_camera")
    since = django_filters.IsoDateTimeFilter(field_name="last_seen", lookup_expr="gte")

    query_aliases = {"cameraId": "camera_id", "camera": "camera_id"}
    documented_names = {"camera_id": "cameraId"}

    class Meta:
        model = UnknownCluster
        fields = ["status", "camera_id", "since"]

    def filter_camera(self, queryset, name, value):
        return queryset.filter(cameras__contains=[value]) if value else queryset
