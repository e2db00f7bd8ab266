"""002 ``GET /api/v1/docs``: the OpenAPI document as JSON."""

from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.views import SpectacularAPIView


class OpenApiJsonView(SpectacularAPIView):
    renderer_classes = [OpenApiJsonRenderer]
