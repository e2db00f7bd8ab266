from __future__ import annotations

import django_filters
from django.db.models import Q

from recognition.choices import ProfileStatus
from recognition.models import FaceProfile


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
