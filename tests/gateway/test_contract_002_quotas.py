"""002's client with a Bearer token on ``GET /api/v1/rate-limit/status``: ``quotas.daily`` and
``quotas.monthly`` are there (people count against ``API_USER_QUOTA_TIER``'s quotas), and spent, they refuse
with 403 RATE_002 as for keys."""

from __future__ import annotations

import pytest

from tests.conftest import client_for

pytestmark = pytest.mark.django_db

STATUS = "/api/v1/rate-limit/status"


@pytest.fixture
def bearer(admin_user):
    return client_for(admin_user)


def test_bearer_status_has_daily_and_monthly_quotas(bearer):
    bearer.get("/api/v1/auth/me")
    bearer.get("/api/v1/auth/me")

    quotas = bearer.get(STATUS).json()["quotas"]

    assert quotas["daily"]["used"] == 2
    assert quotas["monthly"]["used"] == 2
    assert quotas["daily"]["limit"] == 1000000
    assert quotas["daily"]["reset"].endswith("T00:00:00Z")


def test_bearer_quota_spent_is_403_rate_002(bearer, settings):
    settings.API_KEY_TIER_QUOTAS = {**settings.API_KEY_TIER_QUOTAS, "premium": {"daily": 2, "monthly": 10}}

    codes = [bearer.get("/api/v1/auth/me").status_code for _ in range(3)]

    assert codes == [200, 200, 403]
    refused = bearer.get("/api/v1/auth/me")
    assert refused.json()["error"]["code"] == "RATE_002"
    assert bearer.get(STATUS).json()["quotas"]["daily"] == {
        "used": 2,
        "limit": 2,
        "reset": bearer.get(STATUS).json()["quotas"]["daily"]["reset"],
    }
