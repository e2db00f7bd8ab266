"""The 004 endpoints are in the OpenAPI document, with their request bodies and parameters."""

from __future__ import annotations

import pytest
import yaml

pytestmark = pytest.mark.django_db

PATHS = {
    "/face-service/api/v1/recognition/process-session": "post",
    "/face-service/api/v1/recognition/stop-session": "post",
    "/face-service/api/v1/embeddings/generate": "post",
    "/face-service/api/v1/embeddings/validate": "post",
    "/face-service/api/v1/cameras/test-connection": "get",
    "/face-service/api/v1/cameras/capture-frame": "get",
    "/face-service/api/v1/health": "get",
    "/face-service/api/v1/metrics": "get",
}


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker) -> dict:
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        return yaml.safe_load(APIClient().get("/api/schema/").content)


@pytest.mark.parametrize("path", sorted(PATHS))
def test_every_endpoint_is_documented(schema, path):
    assert PATHS[path] in schema["paths"][path]


def test_the_video_upload_is_a_binary_file_field(schema):
    body = schema["paths"]["/face-service/api/v1/embeddings/validate"]["post"]["requestBody"]["content"]
    ref = body["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert schema["components"]["schemas"][ref]["properties"]["video"]["format"] == "binary"


def test_the_session_body_names_every_field(schema):
    body = schema["paths"]["/face-service/api/v1/recognition/process-session"]["post"]["requestBody"]["content"]
    ref = body["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(schema["components"]["schemas"][ref]["properties"]) == {
        "slotId",
        "roomId",
        "students",
        "cameras",
        "config",
    }
