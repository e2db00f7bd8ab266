from __future__ import annotations

import django_filters
from django.db.models import Q

from accounts.choices import Severity, UserStatus
from accounts.models import AuditLog, User
from config.api.filters import QueryAliases


class UserFilterSet(django_filters.FilterSet):
    role = django_filters.CharFilter(field_name="role_id")
    status = django_filters.ChoiceFilter(choices=UserStatus.choices)
    search = django_filters.CharFilter(method="filter_search")

    class Meta:
        model = User
        fields = ["role", "status", "search"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(email__icontains=value))


class AuditLogFilterSet(QueryAliases, django_filters.FilterSet):
    actor = django_filters.CharFilter(lookup_expr="icontains")
    action = django_filters.CharFilter(lookup_expr="istartswith")
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    resource_type = django_filters.CharFilter(field_name="resource_type")
    resource_id = django_filters.CharFilter(field_name="resource_id")
    # 001 names dates ``from``/``to`` elsewhere; both spellings are accepted.
    date_from = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="gte")
    date_to = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="lte")
    search = django_filters.CharFilter(method="filter_search")
    # Everything done to or seen of one person: entries about a person carry their employee id in context,
    # and calls on a path keyed by employee id (a history export) name it as their resource.
    person = django_filters.CharFilter(method="filter_person", max_length=50)

    class Meta:
        model = AuditLog
        fields = [
            "actor",
            "action",
            "severity",
            "resource_type",
            "resource_id",
            "date_from",
            "date_to",
            "search",
            "person",
        ]

    query_aliases = {
        "from": "date_from",
        "to": "date_to",
        "dateFrom": "date_from",
        "dateTo": "date_to",
        "resourceType": "resource_type",
        "resourceId": "resource_id",
        "employeeId": "person",
    }
    documented_names = {
        "date_from": "dateFrom",
        "date_to": "dateTo",
        "resource_type": "resourceType",
        "resource_id": "resourceId",
    }

    def filter_person(self, queryset, name, value):
        return queryset.filter(Q(context__employee_id=value) | Q(resource_id=value))

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(message__icontains=value) | Q(actor__icontains=value) | Q(action__icontains=value))
