"""002 ``GET /api/v1/docs``: the OpenAPI document as JSON, to ``Accept: application/json`` (002's clients), to
the OpenAPI media type and to no Accept at all."""

from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.views import SpectacularAPIView


class PlainJsonOpenApiRenderer(OpenApiJsonRenderer):
    media_type = "application/json"


class OpenApiJsonView(SpectacularAPIView):
    renderer_classes = [PlainJsonOpenApiRenderer, OpenApiJsonRenderer]
