"""002 API key tiers: per-minute limits (429) and daily/monthly quotas (403 RATE_002), and the status endpoint."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from config.api import quotas
from tests.conftest import key_client
from tests.factories import CameraFactory

STATUS = "/api/v1/rate-limit/status"
pytestmark = pytest.mark.django_db


@pytest.fixture
def tiny_quota(settings):
    """Free keys: 3 requests a day, 5 a month."""
    settings.API_KEY_TIER_QUOTAS = {**settings.API_KEY_TIER_QUOTAS, "free": {"daily": 3, "monthly": 5}}


# --- Quotas ---------------------------------------------------------------------------------------------------


def test_daily_quota_exceeded_is_a_403_rate_002(tiny_quota):
    client = key_client("gateway:read", tier="free")

    responses = [client.get("/api/v1/stats/usage") for _ in range(4)]

    assert [r.status_code for r in responses] == [200, 200, 200, 403]
    refused = responses[3]
    assert refused.json()["error"]["code"] == "RATE_002"
    assert refused["X-Error-Code"] == "RATE_002"
    assert refused.json()["error"]["details"]["quota"] == "daily"
    assert refused.json()["error"]["details"]["limit"] == 3
    assert int(refused["Retry-After"]) > 0


def test_quota_refusal_in_the_spa_family_is_rate_002_in_its_envelope(tiny_quota):
    client = key_client("cameras:read", tier="free")
    for _ in range(3):
        client.get("/api/v1/cameras")

    response = client.get("/api/v1/cameras")

    assert response.status_code == 403
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == "RATE_002"


def test_quota_refusal_in_the_counting_family_is_its_own_format(tiny_quota):
    client = key_client("counts:read", tier="free")
    for _ in range(3):
        client.get("/api/v1/counts/realtime")

    response = client.get("/api/v1/counts/realtime")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "QUOTA_EXCEEDED"
    assert response.json()["error"]["status_code"] == 403


def test_monthly_quota_is_enforced_across_days(tiny_quota, settings):
    settings.API_KEY_TIER_QUOTAS = {**settings.API_KEY_TIER_QUOTAS, "free": {"daily": 3, "monthly": 4}}
    client = key_client("gateway:read", tier="free")
    owner = f"key:{client.key.pk}"
    for day in (1, 2):
        for _ in range(2):
            assert quotas.consume(owner, "free", now=datetime(2031, 5, day, 9, tzinfo=UTC)).allowed

    state = quotas.consume(owner, "free", now=datetime(2031, 5, 3, 9, tzinfo=UTC))

    assert not state.allowed
    assert state.exceeded == "monthly"
    assert state.used == {"daily": 0, "monthly": 4}


def test_quota_starts_again_on_a_new_day(tiny_quota):
    owner = "key:999"
    for _ in range(3):
        quotas.consume(owner, "free", now=datetime(2031, 5, 1, 23, 59, tzinfo=UTC))

    assert not quotas.consume(owner, "free", now=datetime(2031, 5, 1, 23, 59, 30, tzinfo=UTC)).allowed
    assert quotas.consume(owner, "free", now=datetime(2031, 5, 2, 0, 0, 1, tzinfo=UTC)).allowed


def test_refused_requests_use_no_quota(tiny_quota):
    client = key_client("gateway:read", tier="free")
    for _ in range(6):
        client.get("/api/v1/stats/usage")

    status = client.get(STATUS).json()

    assert status["quotas"]["daily"]["used"] == 3
    assert status["quotas"]["monthly"]["used"] == 3


def test_quotas_are_per_key(tiny_quota):
    spent, fresh = key_client("gateway:read", tier="free"), key_client("gateway:read", tier="free")
    for _ in range(4):
        spent.get("/api/v1/stats/usage")

    assert fresh.get("/api/v1/stats/usage").status_code == 200


def test_each_tier_has_its_own_quota(settings):
    settings.API_KEY_TIER_QUOTAS = {
        "free": {"daily": 1, "monthly": 0},
        "premium": {"daily": 2, "monthly": 0},
        "enterprise": {"daily": 0, "monthly": 0},
    }
    results = {}
    for tier in ("free", "premium", "enterprise"):
        client = key_client("gateway:read", tier=tier)
        results[tier] = [client.get("/api/v1/stats/usage").status_code for _ in range(3)]

    assert results == {"free": [200, 403, 403], "premium": [200, 200, 403], "enterprise": [200, 200, 200]}


def test_people_have_no_quota_without_a_user_quota_tier(admin_client, settings):
    settings.API_KEY_TIER_QUOTAS = {tier: {"daily": 1, "monthly": 1} for tier in ("free", "premium", "enterprise")}
    settings.API_USER_QUOTA_TIER = ""

    responses = [admin_client.get("/api/v1/stats/usage") for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 200]


def test_quotas_are_configured_per_tier_with_defaults():
    assert quotas.limits_for("free") == {"daily": 1000, "monthly": 20000}
    assert set(quotas.limits_for("enterprise")) == {"daily", "monthly"}


# --- Per-minute tier limits -----------------------------------------------------------------------------------


def test_tier_per_minute_limit_is_a_429(settings):
    settings.API_KEY_TIER_LIMITS = {**settings.API_KEY_TIER_LIMITS, "free": 2}
    client = key_client("gateway:read", tier="free")

    responses = [client.get("/api/v1/stats/usage") for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 429]
    assert responses[2].json()["error"]["code"] == "RATE_001"
    assert responses[0]["X-RateLimit-Limit"] == "2"


def test_tier_per_minute_limit_on_counting_is_a_429_in_000_format(settings):
    settings.API_KEY_TIER_LIMITS = {**settings.API_KEY_TIER_LIMITS, "free": 1}
    client = key_client("counts:read", tier="free")
    client.get("/api/v1/counts/realtime")

    response = client.get("/api/v1/counts/realtime")

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert "Retry-After" in response


def test_rate_limited_requests_use_no_quota(settings, tiny_quota):
    settings.API_KEY_TIER_LIMITS = {**settings.API_KEY_TIER_LIMITS, "free": 1}
    client = key_client("gateway:read", tier="free")
    for _ in range(3):
        client.get("/api/v1/stats/usage")

    assert client.get(STATUS).json()["quotas"]["daily"]["used"] == 1


def test_count_ingest_is_limited_by_the_ingest_category(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "ingest": 1}
    CameraFactory(id="cam-q", name="Q")
    client = key_client("counts:ingest", tier="enterprise")
    item = {"count": 1, "timestamp": "2024-03-01T12:00:00Z", "confidence": 0.5}

    codes = [client.post("/api/v1/cameras/cam-q/counts", item, format="json").status_code for _ in range(2)]

    assert codes == [201, 429]


# --- GET /api/v1/rate-limit/status ----------------------------------------------------------------------------


def test_status_of_an_api_key_has_the_spec_shape(tiny_quota):
    client = key_client("gateway:read", tier="free")
    client.get("/api/v1/stats/usage")

    response = client.get(STATUS)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"clientId", "limits", "quotas"}
    assert body["clientId"] == f"key:{client.key.pk}"
    assert body["limits"]["requests"] == 100
    assert body["limits"]["remaining"] == 99
    assert body["limits"]["window"] == 60000
    assert body["limits"]["reset"].endswith("Z")
    assert body["quotas"]["daily"]["used"] == 1
    assert body["quotas"]["daily"]["limit"] == 3
    assert body["quotas"]["monthly"]["limit"] == 5
    assert body["quotas"]["daily"]["reset"].endswith("T00:00:00Z")
    assert body["quotas"]["monthly"]["reset"][8:] == "01T00:00:00Z"


def test_reading_the_status_takes_no_token(settings):
    client = key_client("gateway:read", tier="free")
    client.get("/api/v1/stats/usage")

    remaining = [client.get(STATUS).json()["limits"]["remaining"] for _ in range(5)]

    assert remaining == [99] * 5


def test_reading_the_status_uses_no_quota(tiny_quota):
    client = key_client("gateway:read", tier="free")
    for _ in range(5):
        client.get(STATUS)

    assert client.get(STATUS).json()["quotas"]["daily"]["used"] == 0


def test_status_of_a_person_has_no_quotas_when_people_have_no_tier(admin_client, admin_user, settings):
    settings.API_USER_QUOTA_TIER = ""

    body = admin_client.get(STATUS).json()

    assert body["clientId"] == f"user:{admin_user.pk}"
    assert body["limits"]["requests"] == 1000
    assert body["quotas"] is None


def test_status_answers_while_the_bucket_is_empty(settings):
    settings.API_KEY_TIER_LIMITS = {**settings.API_KEY_TIER_LIMITS, "free": 1}
    client = key_client("gateway:read", tier="free")
    client.get("/api/v1/stats/usage")
    assert client.get("/api/v1/stats/usage").status_code == 429

    response = client.get(STATUS)

    assert response.status_code == 200
    assert response.json()["limits"]["remaining"] == 0


def test_status_needs_credentials(api_client):
    response = api_client.get(STATUS)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AUTH_001"
    assert response["X-Error-Code"] == "AUTH_001"
