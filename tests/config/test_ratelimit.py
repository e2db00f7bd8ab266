"""Token-bucket rate limits in Redis (002, 003): headers on every limited call, 429 in the family's
format once a client's bucket is empty, per client, never on health checks, refilling with time."""

from __future__ import annotations

import socket
import time

import pytest
from django.conf import settings as django_settings

from accounts.models import UserSession
from config.api.ratelimit import bucket_status, take_token
from config.redis import get_redis
from tests.factories import DEFAULT_PASSWORD, ApiKeyFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN_LIMIT = 3


@pytest.fixture
def login_limit(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": LOGIN_LIMIT}


@pytest.fixture
def member(db):
    return UserFactory(email="member@example.com")


def _login(client, user, **extra):
    return client.post(
        "/api/v1/auth/login", data={"username": user.email, "password": DEFAULT_PASSWORD}, format="json", **extra
    )


def _edge_token(client, user, **extra):
    return client.post(
        "/auth/token", data={"username": user.email, "password": DEFAULT_PASSWORD}, format="json", **extra
    )


# --- Headers and the 429 ---------------------------------------------------------------------------


def test_login_answers_rate_limit_headers(api_client, login_limit, member):
    response = _login(api_client, member)
    assert response.status_code == 200
    assert response["X-RateLimit-Limit"] == str(LOGIN_LIMIT)
    assert response["X-RateLimit-Remaining"] == str(LOGIN_LIMIT - 1)
    reset = int(response["X-RateLimit-Reset"])
    assert time.time() - 5 <= reset <= time.time() + 65


def test_login_remaining_counts_down_to_zero(api_client, login_limit, member):
    remaining = [_login(api_client, member)["X-RateLimit-Remaining"] for _ in range(LOGIN_LIMIT)]
    assert remaining == ["2", "1", "0"]


def test_login_beyond_the_limit_is_429_rate_001(api_client, login_limit, member):
    for _ in range(LOGIN_LIMIT):
        assert _login(api_client, member).status_code == 200
    response = _login(api_client, member)
    assert response.status_code == 429
    body = response.json()
    assert body["success"] is False
    assert body["requestId"] == response["X-Request-ID"]
    assert body["error"]["code"] == "RATE_001"
    assert body["error"]["message"] == "Rate limit exceeded"
    details = body["error"]["details"]
    assert details["limit"] == LOGIN_LIMIT
    assert details["remaining"] == 0
    assert details["retryAfter"] == int(response["Retry-After"])


def test_login_429_says_when_to_retry(api_client, login_limit, member):
    for _ in range(LOGIN_LIMIT):
        _login(api_client, member)
    response = _login(api_client, member)
    # 3 tokens a minute: the next one is back within 20 s.
    assert 1 <= int(response["Retry-After"]) <= 20
    assert response["X-RateLimit-Limit"] == str(LOGIN_LIMIT)
    assert response["X-RateLimit-Remaining"] == "0"


def test_login_beyond_the_limit_does_not_sign_in(api_client, login_limit, member):
    for _ in range(LOGIN_LIMIT):
        _login(api_client, member)
    sessions = UserSession.objects.filter(user=member).count()
    _login(api_client, member)
    assert UserSession.objects.filter(user=member).count() == sessions


def test_edge_token_beyond_the_limit_is_429_in_the_003_format(api_client, login_limit, member):
    for _ in range(LOGIN_LIMIT):
        assert _edge_token(api_client, member).status_code == 200
    response = _edge_token(api_client, member)
    assert response.status_code == 429
    body = response.json()
    assert body["detail"] == "Rate limit exceeded"
    assert body["error_code"] == "RATE_LIMIT_EXCEEDED"
    assert body["limit"] == LOGIN_LIMIT
    assert body["window_seconds"] == 60
    assert body["retry_after_seconds"] == int(response["Retry-After"]) >= 1
    assert body["request_id"] == response["X-Request-ID"]
    assert "success" not in body and "details" not in body


def test_buckets_are_per_client_ip(api_client, login_limit, member):
    for _ in range(LOGIN_LIMIT + 1):
        _login(api_client, member)
    assert _login(api_client, member).status_code == 429
    other = _login(api_client, member, REMOTE_ADDR="203.0.113.7")
    assert other.status_code == 200
    assert other["X-RateLimit-Remaining"] == str(LOGIN_LIMIT - 1)


def test_rate_limit_disabled_lets_every_request_through(api_client, settings, login_limit, member):
    settings.RATE_LIMIT_ENABLED = False
    statuses = {_login(api_client, member).status_code for _ in range(LOGIN_LIMIT + 2)}
    assert statuses == {200}


def test_redis_outage_does_not_block_the_api(api_client, settings, login_limit, member):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port}/0"
    response = _login(api_client, member)
    assert response.status_code == 200
    assert "X-RateLimit-Limit" not in response


# --- Who gets which limit -------------------------------------------------------------------------


def test_health_endpoints_are_never_limited(api_client, admin_client, settings):
    settings.RATE_LIMITS = dict.fromkeys(settings.RATE_LIMITS, 1)
    calls = ((api_client, "/api/v1/health"), (api_client, "/healthz"), (admin_client, "/healthz/detailed"))
    for _ in range(4):
        for client, path in calls:
            response = client.get(path)
            assert response.status_code == 200, path
            assert "X-RateLimit-Limit" not in response


def test_anonymous_clients_get_the_anonymous_limit(api_client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "anonymous": 7, "standard": 50}
    response = api_client.get("/api/v1/docs")
    assert response.status_code == 200
    assert response["X-RateLimit-Limit"] == "7"


def test_signed_in_users_get_the_standard_limit(admin_client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "anonymous": 7, "standard": 50}
    response = admin_client.get("/api/v1/roles")
    assert response.status_code == 200
    assert response["X-RateLimit-Limit"] == "50"


def test_api_key_tier_limit_applies(api_client, settings):
    settings.API_KEY_TIER_LIMITS = {**settings.API_KEY_TIER_LIMITS, "free": 2}
    key = ApiKeyFactory(tier="free")
    responses = [api_client.get("/api/v1/roles", HTTP_X_API_KEY=key.raw) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert responses[0]["X-RateLimit-Limit"] == "2"
    assert responses[2].json()["error"]["code"] == "RATE_001"


def test_api_key_of_a_higher_tier_gets_its_own_limit(api_client, settings):
    settings.API_KEY_TIER_LIMITS = {**settings.API_KEY_TIER_LIMITS, "free": 2, "premium": 5}
    key = ApiKeyFactory(tier="premium")
    response = api_client.get("/api/v1/roles", HTTP_X_API_KEY=key.raw)
    assert response["X-RateLimit-Limit"] == "5"


def test_api_key_buckets_are_per_key(api_client, settings):
    settings.API_KEY_TIER_LIMITS = {**settings.API_KEY_TIER_LIMITS, "free": 2}
    spent, fresh = ApiKeyFactory(tier="free"), ApiKeyFactory(tier="free")
    for _ in range(3):
        api_client.get("/api/v1/roles", HTTP_X_API_KEY=spent.raw)
    response = api_client.get("/api/v1/roles", HTTP_X_API_KEY=fresh.raw)
    assert response.status_code == 200
    assert response["X-RateLimit-Remaining"] == "1"


# --- The bucket itself -----------------------------------------------------------------------------


def _bucket_key(name: str) -> str:
    return f"{django_settings.REDIS_PREFIX}:rl:{name}"


def _age_bucket(name: str, milliseconds: int) -> None:
    """Pretend the bucket was last touched ``milliseconds`` earlier than it was."""
    client = get_redis()
    ts = int(client.hget(_bucket_key(name), "ts"))
    client.hset(_bucket_key(name), "ts", ts - milliseconds)


def test_a_fresh_bucket_is_full():
    state = take_token("unit:fresh", 5)
    assert state.allowed
    assert state.limit == 5
    assert state.remaining == 4
    assert state.retry_after == 0


def test_an_empty_bucket_refuses_with_a_retry_after():
    for _ in range(3):
        assert take_token("unit:empty", 3).allowed
    state = take_token("unit:empty", 3)
    assert not state.allowed
    assert state.remaining == 0
    assert 1 <= state.retry_after <= 20


def test_a_bucket_refills_over_a_minute():
    for _ in range(3):
        take_token("unit:refill", 3)
    assert not take_token("unit:refill", 3).allowed
    _age_bucket("unit:refill", 60_000)
    state = take_token("unit:refill", 3)
    assert state.allowed
    assert state.remaining == 2


def test_a_bucket_refills_in_proportion_to_elapsed_time():
    for _ in range(3):
        take_token("unit:partial", 3)
    _age_bucket("unit:partial", 21_000)  # a third of a minute (and a little): one token back
    assert take_token("unit:partial", 3).allowed
    assert not take_token("unit:partial", 3).allowed


def test_a_bucket_never_holds_more_than_its_limit():
    take_token("unit:cap", 3)
    _age_bucket("unit:cap", 600_000)
    assert take_token("unit:cap", 3).remaining == 2


def test_buckets_are_independent():
    for _ in range(3):
        take_token("unit:a", 3)
    assert not take_token("unit:a", 3).allowed
    assert take_token("unit:b", 3).allowed


def test_bucket_status_does_not_take_a_token():
    take_token("unit:status", 5)
    assert bucket_status("unit:status", 5).remaining == 4
    assert bucket_status("unit:status", 5).remaining == 4


def test_a_bucket_expires_once_it_would_be_full_again():
    take_token("unit:ttl", 3)
    ttl_ms = get_redis().pttl(_bucket_key("unit:ttl"))
    assert 0 < ttl_ms <= 61_000
