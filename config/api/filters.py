"""What the API's filtersets share: query parameters under the names the contracts use.

001 spells query parameters in camelCase (``cameraId``, ``dateFrom``) and some as ``from``/``to``;
filters are declared under Python names. A filterset lists ``query_aliases`` (spelling → filter name);
a spelling is copied to its filter unless the filter's own name was sent too.
"""

from __future__ import annotations

from typing import ClassVar

import django_filters
from django_filters.rest_framework import DjangoFilterBackend

from config.api.contracts import ApiError, FieldError, Kind

# What a yes/no filter's widget reads (Django's NullBooleanSelect; "1"/"0" as django-filter's DRF widget).
_READABLE_BOOLEANS = ("true", "false", "True", "False", "1", "0")


class QueryAliases:
    """Mixin for a ``django_filters.FilterSet``: accept each alias of ``query_aliases`` for its filter."""

    query_aliases: ClassVar[dict[str, str]] = {}

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and any(alias in data for alias in self.query_aliases):
            data = data.copy()
            for alias, name in self.query_aliases.items():
                if alias in data and name not in data:
                    data[name] = data[alias]
        super().__init__(data, *args, **kwargs)


class StrictFilterBackend(DjangoFilterBackend):
    """DjangoFilterBackend that refuses a yes/no filter it cannot read (``?muted=xyz``) instead of ignoring it:
    a client that misspells a value would otherwise get every row and take them for the filtered ones."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            errors = [
                FieldError(name, "must be true or false")
                for name, declared in filterset.filters.items()
                if isinstance(declared, django_filters.BooleanFilter)
                and str(filterset.data.get(name, "")).strip() not in ("", *_READABLE_BOOLEANS)
            ]
            if errors:
                raise ApiError(Kind.VALIDATION, "Invalid filter value", field_errors=errors)
        return filterset
