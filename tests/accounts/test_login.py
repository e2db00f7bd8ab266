"""POST /api/v1/auth/login: sign-in, its refusals, the audit trail, slowing and lockout."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache

from accounts import services
from accounts.models import AuditLog, UserSession
from config.redis import get_redis
from tests.accounts.conftest import LOGIN_URL, error_code, login
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

WRONG = "not-the-password"


@pytest.fixture(autouse=True)
def _fast_delays(settings):
    settings.LOGIN_DELAY_BASE = 0.01
    settings.LOGIN_DELAY_MAX = 4.0
    settings.LOGIN_SLOW_AFTER = 3
    settings.LOGIN_LOCK_AFTER = 5
    settings.LOGIN_LOCK_SECONDS = 900


@pytest.fixture
def user():
    return UserFactory(email="sam@example.com", name="Sam Sample", role_id="ROLE-OPERATOR")


def test_it_returns_tokens_and_the_user(api_client, user):
    response = login(api_client, "sam@example.com")

    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    data = body["data"]
    assert set(data) == {"accessToken", "refreshToken", "user"}
    assert data["accessToken"].count(".") == 2
    assert data["refreshToken"].count(".") == 2
    assert data["accessToken"] != data["refreshToken"]
    assert {"id", "name", "email", "roleId", "status", "lastActive"} <= set(data["user"])
    assert data["user"]["id"] == str(user.pk)
    assert data["user"]["name"] == "Sam Sample"
    assert data["user"]["email"] == "sam@example.com"
    assert data["user"]["roleId"] == "ROLE-OPERATOR"
    assert data["user"]["status"] == "active"


def test_it_accepts_the_email_in_any_case(api_client, user):
    response = login(api_client, "  SAM@Example.com ")

    assert response.status_code == 200
    assert response.json()["data"]["user"]["id"] == str(user.pk)


def test_it_opens_a_session(api_client, user):
    login(api_client, "sam@example.com", HTTP_USER_AGENT="pytest-agent/1.0")

    session = UserSession.objects.get(user=user)
    assert session.revoked_at is None
    assert session.ip_address == "127.0.0.1"
    assert session.user_agent == "pytest-agent/1.0"


def test_it_updates_last_active(api_client, user):
    assert user.last_active is None

    response = login(api_client, "sam@example.com")

    user.refresh_from_db()
    assert user.last_active is not None
    assert response.json()["data"]["user"]["lastActive"] is not None


def test_wrong_password_returns_401(api_client, user):
    response = login(api_client, "sam@example.com", WRONG)

    assert response.status_code == 401
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == "AUTH_001"
    assert body["error"]["message"] == "Invalid credentials"
    assert body["requestId"] == response["X-Request-ID"]


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(api_client, user):
    wrong_password = login(api_client, "sam@example.com", WRONG)
    unknown = login(api_client, "nobody@example.com", WRONG)

    assert unknown.status_code == wrong_password.status_code == 401
    assert unknown.json()["error"] == wrong_password.json()["error"]


def test_suspended_user_is_refused(api_client):
    UserFactory(email="gone@example.com", status="suspended")

    response = login(api_client, "gone@example.com")

    assert response.status_code == 401
    assert error_code(response) == "AUTH_001"
    assert not UserSession.objects.exists()


def test_missing_password_returns_400_with_details(api_client, user):
    response = api_client.post(LOGIN_URL, {"username": "sam@example.com"}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == "password"
    assert error["details"]["issue"]
    assert set(error["details"]["fields"]) == {"password"}


def test_missing_both_fields_lists_both(api_client):
    response = api_client.post(LOGIN_URL, {}, format="json")

    assert response.status_code == 400
    assert set(response.json()["error"]["details"]["fields"]) == {"username", "password"}


def test_malformed_json_returns_400_val_001(api_client):
    response = api_client.post(LOGIN_URL, data='{"username": "sam@', content_type="application/json")

    assert response.status_code == 400
    assert error_code(response) == "VAL_001"


def test_success_is_audited(api_client, user):
    login(api_client, "sam@example.com", HTTP_USER_AGENT="pytest-agent/1.0")

    entry = AuditLog.objects.get(action="auth.login")
    assert entry.actor == "sam@example.com"
    assert entry.actor_role == "ROLE-OPERATOR"
    assert entry.resource_id == str(user.pk)
    assert entry.severity == "info"
    assert entry.ip_address == "127.0.0.1"
    assert entry.user_agent == "pytest-agent/1.0"


def test_failure_is_audited_as_a_warning(api_client, user):
    response = login(api_client, "sam@example.com", WRONG)

    entry = AuditLog.objects.get(action="auth.login_failed")
    assert entry.actor == "sam@example.com"
    assert entry.severity == "warning"
    assert entry.request_id == response["X-Request-ID"]
    assert not AuditLog.objects.filter(action="auth.login").exists()


def test_login_delay_is_zero_before_the_slow_threshold(settings):
    assert [services.login_delay(n) for n in range(3)] == [0.0, 0.0, 0.0]


def test_login_delay_doubles_after_the_slow_threshold(settings):
    assert [services.login_delay(n) for n in (3, 4, 5)] == [0.01, 0.02, 0.04]


def test_login_delay_is_capped(settings):
    settings.LOGIN_DELAY_MAX = 0.05

    assert services.login_delay(20) == 0.05


def test_it_does_not_slow_the_first_attempts(api_client, user, sleeps):
    for _ in range(3):
        login(api_client, "sam@example.com", WRONG)

    assert sleeps == []


def test_it_slows_attempts_after_three_failures(api_client, user, sleeps):
    for _ in range(3):
        login(api_client, "sam@example.com", WRONG)

    login(api_client, "sam@example.com", WRONG)
    login(api_client, "sam@example.com", WRONG)

    assert sleeps == [0.01, 0.02]


def test_it_slows_attempts_for_unknown_emails_too(api_client, sleeps):
    for _ in range(4):
        login(api_client, "nobody@example.com", WRONG)

    assert sleeps == [0.01]


def test_success_resets_the_failure_count(api_client, user, sleeps):
    for _ in range(3):
        login(api_client, "sam@example.com", WRONG)
    assert login(api_client, "sam@example.com").status_code == 200  # slowed once, then the slate is clean
    sleeps.clear()

    login(api_client, "sam@example.com", WRONG)
    login(api_client, "sam@example.com", WRONG)

    assert sleeps == []


def test_fifth_failure_locks_the_account(api_client, user, sleeps):
    for _ in range(5):
        login(api_client, "sam@example.com", WRONG)

    response = login(api_client, "sam@example.com", WRONG)

    assert response.status_code == 429
    assert error_code(response) == "ACCOUNT_LOCKED"
    assert 890 <= int(response["Retry-After"]) <= 900


def test_locked_account_refuses_the_right_password(api_client, user, sleeps):
    for _ in range(5):
        login(api_client, "sam@example.com", WRONG)

    response = login(api_client, "sam@example.com")

    assert response.status_code == 429
    assert error_code(response) == "ACCOUNT_LOCKED"
    assert int(response["Retry-After"]) > 0
    assert not UserSession.objects.exists()


def test_lock_is_audited_as_critical(api_client, user, sleeps):
    for _ in range(5):
        login(api_client, "sam@example.com", WRONG)

    entry = AuditLog.objects.get(action="auth.locked")
    assert entry.actor == "sam@example.com"
    assert entry.severity == "critical"
    assert AuditLog.objects.filter(action="auth.login_failed").count() == 5


def test_lock_lasts_login_lock_seconds(api_client, user, sleeps, settings):
    settings.LOGIN_LOCK_SECONDS = 120
    for _ in range(5):
        login(api_client, "sam@example.com", WRONG)

    response = login(api_client, "sam@example.com")

    assert response.status_code == 429
    assert 110 <= int(response["Retry-After"]) <= 120


def test_lock_of_one_account_does_not_touch_another(api_client, user, sleeps):
    UserFactory(email="other@example.com")
    for _ in range(5):
        login(api_client, "sam@example.com", WRONG)

    assert login(api_client, "other@example.com").status_code == 200


def test_it_lets_the_account_in_when_the_lock_expires(api_client, user, sleeps):
    for _ in range(5):
        login(api_client, "sam@example.com", WRONG)
    assert services.lock_remaining("sam@example.com") > 0

    # The lock's end moves into the past, as it would after LOGIN_LOCK_SECONDS.
    cache.set(services._lock_key("sam@example.com"), time.time() - 1, timeout=60)

    assert services.lock_remaining("sam@example.com") == 0
    assert login(api_client, "sam@example.com").status_code == 200


def test_lock_is_kept_in_the_cache_for_login_lock_seconds(api_client, user, sleeps, settings):
    settings.LOGIN_LOCK_SECONDS = 120
    for _ in range(5):
        login(api_client, "sam@example.com", WRONG)

    ttl = get_redis().ttl(cache.make_key(services._lock_key("sam@example.com")))
    assert 110 <= ttl <= 120


def test_it_rate_limits_sign_in_attempts_per_client(api_client, settings, sleeps):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": 3}
    for n in range(3):
        assert login(api_client, f"nobody{n}@example.com", WRONG).status_code == 401

    response = login(api_client, "nobody9@example.com", WRONG)

    assert response.status_code == 429
    assert error_code(response) == "RATE_001"
    assert int(response["Retry-After"]) >= 1
