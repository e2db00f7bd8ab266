"""001 developer console: ``GET /developer/endpoints`` and ``POST /developer/endpoints/{id}/invoke``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import parsers, serializers
from rest_framework.response import Response

from accounts import developer
from config.api.contracts import ApiError, FieldError, Kind
from config.api.spa import SpaAPIView

PERMISSION = "developer:use"


class EndpointSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Stable id, e.g. DEV-1A2B3C4D")
    label = serializers.CharField()
    description = serializers.CharField()
    method = serializers.CharField()
    path = serializers.CharField(help_text="Path template, e.g. /api/v1/users/{id}")
    tag = serializers.CharField()
    path_params = serializers.ListField(child=serializers.CharField())
    query_params = serializers.ListField(child=serializers.CharField())
    has_body = serializers.BooleanField()


class InvokeRequestSerializer(serializers.Serializer):
    payload = serializers.JSONField(required=False, allow_null=True, help_text="JSON body, sent as is")
    pathParams = serializers.DictField(required=False, help_text="Values of the path template's {parameters}")
    query = serializers.DictField(required=False, help_text="Query parameters, as the endpoint names them")


class InvokeResponseSerializer(serializers.Serializer):
    status = serializers.IntegerField()
    headers = serializers.DictField(child=serializers.CharField())
    body = serializers.JSONField(allow_null=True)
    body_encoding = serializers.ChoiceField(choices=["json", "text", "base64", "none"])
    truncated = serializers.BooleanField()
    duration_ms = serializers.FloatField()


INVOKE_FIELDS = frozenset({"payload", "pathParams", "query"})


def _invoke_arguments(data: Any) -> dict[str, Any]:
    """The request body, checked: an object with only ``payload``, ``pathParams`` and ``query``.

    Anything else (``url``, ``path``, ``host``...) is refused: the endpoint id alone says what is called.
    """
    if data is None or data == {}:
        return {}
    if not isinstance(data, Mapping):
        raise ApiError(Kind.VALIDATION, "The body must be a JSON object")
    unknown = sorted(set(data) - INVOKE_FIELDS)
    if unknown:
        raise ApiError(
            Kind.VALIDATION,
            f"Unknown field {unknown[0]}; send payload, pathParams and query only",
            field_errors=[FieldError(name, "Unknown field") for name in unknown],
        )
    for name in ("pathParams", "query"):
        if data.get(name) is not None and not isinstance(data[name], Mapping):
            raise ApiError(
                Kind.VALIDATION, f"{name} must be an object", field_errors=[FieldError(name, "Not an object")]
            )
    return {
        "payload": data.get("payload"),
        "path_params": data.get("pathParams") or {},
        "query": data.get("query") or {},
    }


class EndpointListView(SpaAPIView):
    required_permissions = PERMISSION

    @extend_schema(responses=EndpointSerializer(many=True), summary="The platform's endpoints (developer console)")
    def get(self, request):
        return Response([endpoint.as_dict() for endpoint in developer.catalogue()])


class EndpointInvokeView(SpaAPIView):
    required_permissions = PERMISSION
    audit_resource = "developer-endpoint"
    audit_action = "invoke"
    # The body is taken as sent: query parameter and path parameter names are the endpoint's own, so
    # the SPA parser's camelCase-to-snake_case renaming must not touch them.
    parser_classes = [parsers.JSONParser]

    @extend_schema(
        request=InvokeRequestSerializer,
        responses=InvokeResponseSerializer,
        summary="Call a platform endpoint as yourself (developer console)",
        examples=[
            OpenApiExample(
                "Get a user",
                value={"pathParams": {"id": "3f0c…"}, "query": {}},
                request_only=True,
            )
        ],
    )
    def post(self, request, id: str):
        endpoint = developer.find(id)
        return Response(developer.invoke(request, endpoint, **_invoke_arguments(request.data)))
