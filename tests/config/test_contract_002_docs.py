"""002's client on ``GET /api/v1/docs``: the OpenAPI document as JSON, asked for with ``Accept:
application/json`` (it was refused with 406)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_docs_answer_json_to_accept_application_json(api_client):
    response = api_client.get("/api/v1/docs", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["openapi"].startswith("3.")
    assert {"info", "paths", "components"} <= set(body)


def test_docs_still_answer_the_openapi_media_type(api_client):
    response = api_client.get("/api/v1/docs", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
