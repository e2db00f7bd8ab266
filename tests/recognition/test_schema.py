"""The face endpoints in the OpenAPI document, multipart file fields as binary."""

from __future__ import annotations

import pytest
import yaml

FACE_PATHS = {
    "/api/v1/faces": {"get", "post"},
    "/api/v1/faces/{id}": {"get", "put", "delete"},
    "/api/v1/faces/{id}/images": {"get", "post"},
    "/api/v1/faces/{id}/images/{image_id}": {"delete"},
    "/api/v1/faces/identify": {"post"},
    "/api/v1/faces/verify": {"post"},
}


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        return yaml.safe_load(APIClient().get("/api/schema/").content)


@pytest.mark.parametrize("path", sorted(FACE_PATHS))
def test_schema_documents_every_face_path(schema, path):
    assert FACE_PATHS[path] <= set(schema["paths"][path])


def multipart_properties(schema: dict, path: str) -> dict:
    body = schema["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    return schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]["properties"]


def test_enrolment_images_are_binary_files(schema):
    images = multipart_properties(schema, "/api/v1/faces")["images"]

    assert images["items"]["format"] == "binary" and images["maxItems"] == 5


@pytest.mark.parametrize(("path", "field"), [("/api/v1/faces/identify", "image"), ("/api/v1/faces/verify", "image1")])
def test_identify_and_verify_take_binary_images(schema, path, field):
    assert multipart_properties(schema, path)[field]["format"] == "binary"
