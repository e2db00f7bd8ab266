"""What the API's filtersets share: query parameters under the names the contracts use.

001 spells query parameters in camelCase (``cameraId``, ``dateFrom``) and some as ``from``/``to``;
filters are declared under Python names. A filterset lists ``query_aliases`` (spelling → filter name);
a spelling is copied to its filter unless the filter's own name was sent too. ``documented_names`` says which
spelling the OpenAPI document shows for a filter (one entry per parameter); the filter's own name stays
accepted, undocumented, for the clients that already send it. A refusal names the parameter as it was sent.
"""

from __future__ import annotations

from typing import ClassVar

import django_filters
from django.forms.utils import ErrorDict
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.contrib.django_filters import DjangoFilterExtension

from config.api.contracts import ApiError, FieldError, Kind

# What a yes/no filter's widget reads (Django's NullBooleanSelect; "1"/"0" as django-filter's DRF widget).
_READABLE_BOOLEANS = ("true", "false", "True", "False", "1", "0")


class QueryAliases:
    """Mixin for a ``django_filters.FilterSet``: accept each alias of ``query_aliases`` for its filter, and
    document a filter under its ``documented_names`` entry (an alias of it)."""

    query_aliases: ClassVar[dict[str, str]] = {}
    documented_names: ClassVar[dict[str, str]] = {}  # filter name → the spelling the document shows

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # The document may only show a spelling the filterset reads.
        for name, spelling in cls.documented_names.items():
            if cls.query_aliases.get(spelling) != name:
                raise TypeError(f"{cls.__name__}: {spelling!r} is documented for {name!r} but is not its alias")

    def __init__(self, data=None, *args, **kwargs):
        self.sent_as: dict[str, str] = {}  # filter name → the alias the client sent for it
        if data is not None and any(alias in data for alias in self.query_aliases):
            data = data.copy()
            for alias, name in self.query_aliases.items():
                if alias in data and name not in data:
                    data[name] = data[alias]
                    self.sent_as[name] = alias
        super().__init__(data, *args, **kwargs)

    @property
    def errors(self):
        errors = super().errors
        if not self.sent_as:
            return errors
        return ErrorDict({self.sent_as.get(name, name): messages for name, messages in errors.items()})


def sent_name(filterset, name: str) -> str:
    """How the client spelled the filter ``name`` (its alias, when it sent one)."""
    return getattr(filterset, "sent_as", {}).get(name, name)


class StrictFilterBackend(DjangoFilterBackend):
    """DjangoFilterBackend that refuses a yes/no filter it cannot read (``?muted=xyz``) instead of ignoring it:
    a client that misspells a value would otherwise get every row and take them for the filtered ones."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            errors = [
                FieldError(sent_name(filterset, name), "must be true or false", "query")
                for name, declared in filterset.filters.items()
                if isinstance(declared, django_filters.BooleanFilter)
                and str(filterset.data.get(name, "")).strip() not in ("", *_READABLE_BOOLEANS)
            ]
            if errors:
                raise ApiError(Kind.VALIDATION, "Invalid filter value", field_errors=errors)
        return filterset


class StrictFilterExtension(DjangoFilterExtension):
    """drf-spectacular: each filter documented under its filterset's ``documented_names`` spelling."""

    target_class = StrictFilterBackend
    priority = 1  # before drf-spectacular's own extension, which matches the subclass too

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        documented = getattr(filterset_class, "documented_names", {}).get(field_name, field_name)
        return super().resolve_filter_field(auto_schema, model, filterset_class, documented, filter_field)
