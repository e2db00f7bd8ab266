"""CORS: browser clients on the origins of ARGUS_CORS_ALLOWED_ORIGINS may call the API families."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
SPA = "https://spa.example.com"


@pytest.fixture(autouse=True)
def allowed_origin(settings):
    settings.CORS_ALLOWED_ORIGINS = [SPA]


def preflight(client, path: str, origin: str = SPA, headers: str = "authorization, content-type"):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers,
    )


def test_the_allowed_origins_come_from_the_environment(settings):
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "ARGUS_CORS_ALLOWED_ORIGINS": "https://a.example.com,https://b.example.com",
        "DATABASE_URL": f"postgresql://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
    }
    code = "from django.conf import settings; print(','.join(settings.CORS_ALLOWED_ORIGINS))"

    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert result.stdout.strip() == "https://a.example.com,https://b.example.com"


def test_a_preflight_from_an_allowed_origin_is_answered(client):
    response = preflight(client, "/api/v1/auth/login")

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SPA
    assert "POST" in response["Access-Control-Allow-Methods"]


def test_a_preflight_allows_the_platforms_request_headers(client):
    response = preflight(client, "/api/v1/cameras", headers="authorization, x-api-key, x-request-id, content-type")

    allowed = {value.strip() for value in response["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "x-api-key", "x-request-id", "content-type"} <= allowed


def test_a_preflight_from_another_origin_gets_no_cors_headers(client):
    response = preflight(client, "/api/v1/auth/login", origin="https://evil.example.net")

    assert "Access-Control-Allow-Origin" not in response


def test_a_response_to_an_allowed_origin_exposes_the_platform_headers(client):
    response = client.get("/api/v1/health", HTTP_ORIGIN=SPA)

    assert response["Access-Control-Allow-Origin"] == SPA
    exposed = {value.strip().lower() for value in response["Access-Control-Expose-Headers"].split(",")}
    assert {"x-request-id", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "retry-after"} <= exposed


def test_an_error_response_carries_cors_headers_too(client):
    response = client.get("/api/v1/auth/me", HTTP_ORIGIN=SPA)

    assert response.status_code == 401
    assert response["Access-Control-Allow-Origin"] == SPA


def test_cross_origin_cookies_are_not_allowed(client):
    response = client.get("/api/v1/health", HTTP_ORIGIN=SPA)

    assert "Access-Control-Allow-Credentials" not in response


def test_the_edge_api_at_the_root_is_covered(client):
    response = client.get("/healthz", HTTP_ORIGIN=SPA)

    assert response["Access-Control-Allow-Origin"] == SPA


def test_the_face_service_api_is_covered(client):
    response = preflight(client, "/face-service/api/v1/health")

    assert response["Access-Control-Allow-Origin"] == SPA


@pytest.mark.django_db
def test_dashboard_pages_are_not_cross_origin(client):
    response = client.get("/accounts/login/", HTTP_ORIGIN=SPA)

    assert "Access-Control-Allow-Origin" not in response


def test_no_origin_is_allowed_by_default(client, settings):
    settings.CORS_ALLOWED_ORIGINS = []

    response = client.get("/api/v1/health", HTTP_ORIGIN=SPA)

    assert "Access-Control-Allow-Origin" not in response
