"""Each platform answer built as a dict (002 health, rate-limit status and usage; 003 health) is what the
OpenAPI document says."""

from __future__ import annotations

import pytest

from tests.documented import assert_documented, documentation_problems

pytestmark = pytest.mark.django_db


def test_the_platform_health_is_documented(api_client):
    assert_documented(api_client.get("/api/v1/health"), "/api/v1/health")


def test_the_edge_health_is_documented(api_client):
    assert_documented(api_client.get("/healthz"), "/healthz")


def test_the_detailed_edge_health_is_documented(admin_client):
    assert_documented(admin_client.get("/healthz/detailed"), "/healthz/detailed")


def test_the_rate_limit_status_is_documented(admin_client):
    assert_documented(admin_client.get("/api/v1/rate-limit/status"), "/api/v1/rate-limit/status")


def test_the_usage_stats_are_documented(admin_client):
    admin_client.get("/api/v1/health")

    assert_documented(admin_client.get("/api/v1/stats/usage", {"timeRange": "1h"}), "/api/v1/stats/usage")


# --- The check itself ---------------------------------------------------------------------------------------


@pytest.fixture
def health(api_client) -> dict:
    response = api_client.get("/healthz")
    assert documentation_problems("/healthz", "get", response.status_code, response.json()) == []
    return response.json()


def test_the_check_refuses_a_field_the_document_does_not_name(health):
    problems = documentation_problems("/healthz", "get", 200, {**health, "uptime": 1})

    assert problems == ["(body): Additional properties are not allowed ('uptime' was unexpected)"]


def test_the_check_refuses_a_missing_field_the_document_requires(health):
    body = dict(health)
    missing = sorted(body)[0]
    del body[missing]

    assert documentation_problems("/healthz", "get", 200, body) == [f"(body): '{missing}' is a required property"]


def test_the_check_refuses_a_value_of_another_type(admin_client):
    body = admin_client.get("/api/v1/auth/me").json()
    body["data"]["user"]["createdAt"] = "yesterday"

    assert documentation_problems("/api/v1/auth/me", "get", 200, body) == [
        "data/user/createdAt: 'yesterday' is not a 'date-time'"
    ]
