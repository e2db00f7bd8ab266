"""Query filters of the ANPR config lists (event search has its own rules in :mod:`anpr.search`)."""

from __future__ import annotations

import django_filters

from anpr.choices import ListType, ModelType
from anpr.models import DetectionModel, WatchlistEntry
from anpr.plates import normalize_plate


class DetectionModelFilterSet(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=ModelType.choices)

    class Meta:
        model = DetectionModel
        fields = ["type"]


class WatchlistFilterSet(django_filters.FilterSet):
    list_type = django_filters.ChoiceFilter(choices=ListType.choices)
    active = django_filters.BooleanFilter()
    plate_text = django_filters.CharFilter(
        method="filter_plate", help_text="Partial match, ignoring case and separators"
    )

    class Meta:
        model = WatchlistEntry
        fields = ["list_type", "active", "plate_text"]

    def filter_plate(self, queryset, name, value):
        return queryset.filter(plate_normalized__contains=normalize_plate(value))
