"""The 001 family (the SPA): camelCase JSON in an envelope {success, data, meta}."""

from __future__ import annotations

import functools
import math
import re
from typing import Any

from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from rest_framework import generics, mixins, parsers, renderers, viewsets
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.base import ContractMixin
from config.api.contracts import ApiError, Contract, FieldError, Kind, camel
from config.api.lookup import NamedObjectLookup

# Values under these keys are free-form documents (a client's own keys): never renamed.
FREE_FORM_KEYS = frozenset({"payload", "metadata", "preferences", "context", "headers", "body", "filters", "details"})

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])([A-Z])")


# Renaming runs on every key of every 001 body, and the keys are few: each is worked out once. Bounded, as
# clients choose the keys they send.
@functools.lru_cache(maxsize=8192)
def snake(name: str) -> str:
    return _CAMEL_BOUNDARY.sub(r"_\1", name).lower()


camel_cached = functools.lru_cache(maxsize=8192)(camel)


def transform_keys(value: Any, rename) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            new_key = rename(key) if isinstance(key, str) else key
            out[new_key] = item if key in FREE_FORM_KEYS or new_key in FREE_FORM_KEYS else transform_keys(item, rename)
        return out
    if isinstance(value, (list, tuple)):
        return [transform_keys(item, rename) for item in value]
    return value


class CamelCased(list):
    """Items whose keys are camelCased already (kept so by a cache): the renderer sends them as they are, and
    keeps the envelope it rendered them in beside them, for the next answer of the same list (read only)."""

    rendered: tuple[type, bytes] | None = None  # (the renderer's class, the body it rendered)

    @classmethod
    def of(cls, items: list) -> CamelCased:
        return cls(transform_keys(items, camel_cached))


class Page(dict):
    """A page of results with its meta, which the renderer puts beside ``data``."""

    def __init__(self, items: list, meta: dict):
        super().__init__(items=items, meta=meta)


class EnvelopeRenderer(renderers.JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None and response.status_code == 204:
            return b""
        if response is not None and getattr(response, "argus_error", False):
            return super().render(data, accepted_media_type, renderer_context)
        if isinstance(data, Page):
            body = {"success": True, "data": transform_keys(data["items"], camel_cached), "meta": data["meta"]}
        elif isinstance(data, CamelCased):
            if self.get_indent(accepted_media_type, renderer_context or {}) is not None:
                return super().render({"success": True, "data": data}, accepted_media_type, renderer_context)
            kept = data.rendered
            if kept is None or kept[0] is not type(self):
                body = super().render({"success": True, "data": data}, accepted_media_type, renderer_context)
                kept = data.rendered = (type(self), body)
            return kept[1]
        else:
            body = {"success": True, "data": transform_keys(data, camel_cached)}
        return super().render(body, accepted_media_type, renderer_context)


class CamelCaseJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        return transform_keys(super().parse(stream, media_type, parser_context), snake)


class CamelCaseFormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        # A QueryDict is built from a query string, not a dict: copy the lists over under their new names.
        renamed = QueryDict(mutable=True)
        for key, values in data.lists():
            renamed.setlistdefault(snake(key), []).extend(values)
        return renamed


class CamelCaseMultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        data = result.data.copy()
        renamed = data.__class__(mutable=True)
        for key, values in data.lists():
            renamed.setlistdefault(snake(key.removesuffix("[]")), []).extend(values)
        files = MultiValueDict()  # files come as a MultiValueDict, which (unlike QueryDict) takes no ``mutable``
        for key, values in result.files.lists():
            files.setlistdefault(snake(key.removesuffix("[]")), []).extend(values)
        return parsers.DataAndFiles(renamed, files)


def _positive_int(raw: str | None, default: int, name: str, maximum: int | None = None) -> int:
    if raw in (None, ""):
        return default
    issue = f"must be an integer from 1 to {maximum}" if maximum else "must be an integer of at least 1"
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = 0
    if value < 1 or (maximum is not None and value > maximum):
        raise ApiError(Kind.VALIDATION, f"{name} {issue}", field_errors=[FieldError(name, issue)])
    return value


def expected_version(request, data: dict, resource: str) -> int | None:
    """The version a client based its change on: body ``version`` (taken out of ``data``) or an ``If-Match``
    header (``"3"`` or ``W/"3"``). ``resource`` names the thing in the refusal of an If-Match that is no
    version number ("camera", "configuration")."""
    version = data.pop("version", None)
    if version is None and request.headers.get("If-Match"):
        try:
            version = int(request.headers["If-Match"].strip('W/"'))
        except ValueError:
            raise ApiError(Kind.VALIDATION, f"If-Match must be the {resource}'s version number") from None
    return version


class PagePagination(BasePagination):
    """``page`` and ``pageSize`` in, ``meta {page, pageSize, total, totalPages}`` out."""

    default_page_size = 20
    max_page_size = 200
    # Bounded so the row offset stays far inside PostgreSQL's bigint; past the last page a page is empty.
    max_page = 1_000_000

    def paginate_queryset(self, queryset, request, view=None):
        self.page = _positive_int(request.query_params.get("page"), 1, "page", self.max_page)
        self.page_size = _positive_int(
            request.query_params.get("pageSize"), self.default_page_size, "pageSize", self.max_page_size
        )
        self.total = queryset.count() if hasattr(queryset, "count") else len(queryset)
        start = (self.page - 1) * self.page_size
        return list(queryset[start : start + self.page_size])

    def get_paginated_response(self, data):
        meta = {
            "page": self.page,
            "pageSize": self.page_size,
            "total": self.total,
            "totalPages": math.ceil(self.total / self.page_size) if self.total else 0,
        }
        return Response(Page(list(data), meta))

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "properties": {
                "success": {"type": "boolean"},
                "data": schema,
                "meta": {
                    "type": "object",
                    "properties": {k: {"type": "integer"} for k in ("page", "pageSize", "total", "totalPages")},
                },
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "page",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page},
            },
            {
                "name": "pageSize",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]


class SpaMixin(ContractMixin):
    contract = Contract.SPA
    renderer_classes = [EnvelopeRenderer]
    parser_classes = [CamelCaseJSONParser, CamelCaseFormParser, CamelCaseMultiPartParser]
    pagination_class = PagePagination


class SpaAPIView(SpaMixin, APIView):
    """A 001 endpoint that is not a resource collection."""

    # An APIView never pages: a list it answers is all of it, and the document must not promise ``meta``.
    pagination_class = None


class SpaGenericAPIView(SpaMixin, NamedObjectLookup, generics.GenericAPIView):
    """A 001 endpoint over a queryset; ``not_found`` is what a missing object's 404 says."""


class SpaListView(mixins.ListModelMixin, SpaGenericAPIView):
    """``GET``: the queryset, filtered by ``filterset_class`` and paged (``page``, ``pageSize``)."""

    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)


class SpaViewSet(SpaMixin, NamedObjectLookup, viewsets.GenericViewSet):
    """Base for 001 resources: combine with DRF's list/create/retrieve/update/destroy mixins; ``not_found``
    is what a missing object's 404 says."""
