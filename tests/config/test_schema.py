"""The OpenAPI document: YAML at /api/schema/, JSON at /api/v1/docs (002), Swagger UI at /docs."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.documented import documented_response, openapi

pytestmark = pytest.mark.django_db

API_PATHS = {
    "/api/v1/auth/login": {"post"},
    "/api/v1/auth/refresh": {"post"},
    "/api/v1/auth/logout": {"post"},
    "/api/v1/auth/register": {"post"},
    "/api/v1/auth/me": {"get"},
    "/api/v1/users": {"get"},
    "/api/v1/users/{id}": {"get"},
    "/api/v1/users/{id}/password": {"patch"},
    "/api/v1/roles": {"get"},
    "/api/v1/audit": {"get"},
    "/api/v1/health": {"get"},
    "/auth/token": {"post"},
    "/healthz": {"get"},
    "/healthz/detailed": {"get"},
}


@pytest.fixture
def schema_response(api_client):
    return api_client.get("/api/schema/")


@pytest.fixture
def schema(schema_response) -> dict:
    return yaml.safe_load(schema_response.content)


def test_schema_is_yaml_by_default(schema_response):
    assert schema_response.status_code == 200
    assert schema_response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert schema_response.content.startswith(b"openapi: 3.")


def test_schema_is_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Argus API"
    assert schema["info"]["version"] == "1.0.0"


@pytest.mark.parametrize("path", sorted(API_PATHS))
def test_schema_documents_every_api_path(schema, path):
    assert path in schema["paths"]
    assert API_PATHS[path] <= set(schema["paths"][path])


def test_schema_documents_no_path_outside_the_api(schema):
    for path in schema["paths"]:
        assert path.startswith(("/api/", "/auth/", "/healthz", "/events", "/config", "/face-service/")), path


def test_schema_declares_bearer_and_api_key_security(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schemes["apiKeyAuth"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}


def test_schema_documents_request_bodies(schema):
    body = schema["paths"]["/api/v1/auth/login"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    name = body["$ref"].rsplit("/", 1)[-1]
    assert set(schema["components"]["schemas"][name]["properties"]) == {"username", "password"}


def test_schema_in_json_on_request(api_client, schema):
    response = api_client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    assert json.loads(response.content) == schema


def test_gateway_docs_are_the_same_document_as_json(api_client, schema):
    response = api_client.get("/api/v1/docs")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert json.loads(response.content) == schema


def test_swagger_ui_is_served_at_docs(api_client):
    response = api_client.get("/docs")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    content = response.content.decode()
    assert "swagger-ui" in content
    assert "/api/schema/" in content


# --- What each family sends (issue 17) ------------------------------------------------------------------------


@pytest.fixture
def document() -> dict:
    """The same document as /api/schema/, built once per process."""
    return openapi()


def _json(response: dict) -> dict:
    return documented_response(response)["content"]["application/json"]["schema"]


def test_spa_answers_are_documented_in_their_envelope_in_camel_case(document):
    answer = _json(document["paths"]["/api/v1/cameras/{id}"]["get"]["responses"]["200"])
    camera = document["components"]["schemas"][answer["properties"]["data"]["$ref"].rsplit("/", 1)[-1]]

    assert answer["required"] == ["success", "data"]
    assert {"streamType", "lastSeen", "createdAt"} <= set(camera["properties"])
    assert not [name for name in camera["properties"] if "_" in name]


def test_spa_pages_document_their_meta(document):
    page = _json(document["paths"]["/api/v1/notifications"]["get"]["responses"]["200"])
    page = document["components"]["schemas"][page["$ref"].rsplit("/", 1)[-1]]

    assert page["required"] == ["success", "data", "meta"]
    assert page["properties"]["meta"]["required"] == ["page", "pageSize", "total", "totalPages"]


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/api/v1/cameras/{id}", "SpaError"),
        ("/api/v1/rate-limit/status", "GatewayError"),
        ("/api/v2/cameras", "CountingError"),
        ("/events", "EdgeError"),
        ("/face-service/api/v1/metrics", "FaceServiceError"),
    ],
)
def test_each_family_documents_its_errors_in_its_format(document, path, error):
    responses = document["paths"][path]["get"]["responses"]

    assert {"400", "401", "403", "404", "429", "503"} <= set(responses)
    assert _json(responses["401"]) == {"$ref": f"#/components/schemas/{error}"}


def test_writes_document_conflicts_and_000_its_422(document):
    assert {"409", "413", "415"} <= set(document["paths"]["/api/v1/cameras"]["post"]["responses"])
    assert "422" in document["paths"]["/api/v1/cameras/{camera_id}/counting"]["put"]["responses"]


def test_a_retired_version_is_documented_with_its_sunset(document):
    retired = _json(document["paths"]["/api/v2/cameras"]["get"]["responses"]["410"])

    assert retired == {"$ref": "#/components/schemas/RetiredApiVersion"}


def test_signed_file_links_are_not_promised_absolute(document):
    event = document["components"]["schemas"]["Event"]["properties"]

    assert event["frame_url"]["format"] == event["crop_url"]["format"] == "uri-reference"
