"""API keys: format, hashed storage, X-API-Key header or api_key parameter, expiry, scopes."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import services
from accounts.models import ApiKey, AuditLog, User
from tests.accounts.conftest import error_code
from tests.factories import ApiKeyFactory

pytestmark = pytest.mark.django_db

HEALTH = "/healthz/detailed"  # any authenticated caller, person or machine


def test_generated_key_has_the_002_format():
    for _ in range(20):
        assert re.fullmatch(r"^bec_[0-9a-f]{32}$", ApiKey.generate())


def test_generated_keys_differ():
    assert len({ApiKey.generate() for _ in range(50)}) == 50


def test_only_the_hash_is_stored():
    key, raw = services.create_api_key(name="edge-1", scopes=["anpr:ingest"])

    stored = ApiKey.objects.filter(pk=key.pk).values().get()
    assert stored["key_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    assert stored["key_prefix"] == raw[:12]
    assert not any(raw in str(value) for value in stored.values())


def test_service_returns_a_key_in_the_002_format():
    _, raw = services.create_api_key(name="edge-1", scopes=["anpr:ingest"])

    assert re.fullmatch(r"^bec_[0-9a-f]{32}$", raw)


def test_header_is_accepted(api_client, api_key):
    response = api_client.get(HEALTH, HTTP_X_API_KEY=api_key.raw)

    assert response.status_code == 200
    assert "details" in response.json()["components"]["database"]


def test_query_parameter_is_accepted(api_client, api_key):
    response = api_client.get(HEALTH, {"api_key": api_key.raw})

    assert response.status_code == 200


def test_no_key_is_refused(api_client, db):
    response = api_client.get(HEALTH)

    assert response.status_code == 401
    assert response.json()["error_code"] == "AUTHENTICATION_FAILED"


def test_wrong_key_is_refused(api_client, api_key):
    response = api_client.get(HEALTH, HTTP_X_API_KEY="bec_" + "0" * 32)

    assert response.status_code == 401
    assert response.json()["error_code"] == "AUTHENTICATION_FAILED"


def test_wrong_key_in_the_query_is_refused(api_client, api_key):
    response = api_client.get(HEALTH, {"api_key": api_key.raw[:-1] + "x"})

    assert response.status_code == 401


def test_wrong_key_on_the_001_api_returns_auth_001(api_client, api_key):
    response = api_client.get("/api/v1/users", HTTP_X_API_KEY="bec_" + "1" * 32)

    assert response.status_code == 401
    assert error_code(response) == "AUTH_001"


def test_the_stored_hash_does_not_work_as_a_key(api_client, api_key):
    response = api_client.get(HEALTH, HTTP_X_API_KEY=api_key.key_hash)

    assert response.status_code == 401


def test_inactive_key_is_refused(api_client):
    key = ApiKeyFactory(is_active=False)

    response = api_client.get(HEALTH, HTTP_X_API_KEY=key.raw)

    assert response.status_code == 401


def test_expired_key_is_refused(api_client):
    key = ApiKeyFactory(expires_at=timezone.now() - timedelta(seconds=1))

    response = api_client.get(HEALTH, HTTP_X_API_KEY=key.raw)

    assert response.status_code == 401


def test_key_expiring_later_is_accepted(api_client):
    key = ApiKeyFactory(expires_at=timezone.now() + timedelta(days=1))

    assert api_client.get(HEALTH, HTTP_X_API_KEY=key.raw).status_code == 200


def test_key_without_the_scope_is_forbidden(api_client):
    key = ApiKeyFactory(scopes=["anpr:ingest"])

    response = api_client.get("/api/v1/users", HTTP_X_API_KEY=key.raw)

    assert response.status_code == 403
    assert error_code(response) == "AUTH_003"


def test_key_with_the_scope_is_allowed(api_client, admin_user):
    key = ApiKeyFactory(scopes=["users:read"])

    response = api_client.get("/api/v1/users", HTTP_X_API_KEY=key.raw)

    assert response.status_code == 200
    assert [u["email"] for u in response.json()["data"]] == ["admin@example.com"]


def test_read_scope_does_not_allow_writes(api_client):
    key = ApiKeyFactory(scopes=["users:read"])

    response = api_client.post(
        "/api/v1/users",
        {"name": "Bot", "email": "bot@example.com", "roleId": "ROLE-VIEWER"},
        format="json",
        HTTP_X_API_KEY=key.raw,
    )

    assert response.status_code == 403
    assert error_code(response) == "AUTH_003"


def test_resource_wildcard_scope_is_allowed(api_client, db):
    key = ApiKeyFactory(scopes=["users:*"])

    assert api_client.get("/api/v1/users", HTTP_X_API_KEY=key.raw).status_code == 200


def test_last_use_is_recorded(api_client, api_key):
    assert api_key.last_used_at is None

    api_client.get(HEALTH, HTTP_X_API_KEY=api_key.raw)

    api_key.refresh_from_db()
    assert api_key.last_used_at is not None
    assert timezone.now() - api_key.last_used_at < timedelta(minutes=1)


def test_refused_key_records_no_use(api_client):
    key = ApiKeyFactory(is_active=False)

    api_client.get(HEALTH, HTTP_X_API_KEY=key.raw)

    key.refresh_from_db()
    assert key.last_used_at is None


def test_mutating_call_with_a_key_is_audited_under_the_keys_name(api_client):
    key = ApiKeyFactory(name="sync-bot", scopes=["users:write"])

    api_client.post(
        "/api/v1/users",
        {"name": "Bot Made", "email": "botmade@example.com", "roleId": "ROLE-VIEWER"},
        format="json",
        HTTP_X_API_KEY=key.raw,
    )

    entry = AuditLog.objects.get(action="user.create")
    assert entry.actor == "apikey:sync-bot"
    assert entry.actor_role == "API-KEY"


def test_a_key_cannot_grant_a_role_broader_than_its_scopes(api_client):
    key = ApiKeyFactory(name="sync-bot", scopes=["users:write"])

    response = api_client.post(
        "/api/v1/users",
        {"name": "Made Admin", "email": "madeadmin@example.com", "roleId": "ROLE-ADMIN"},
        format="json",
        HTTP_X_API_KEY=key.raw,
    )

    assert response.status_code == 403
    assert error_code(response) == "AUTH_003"
    assert not User.objects.filter(email="madeadmin@example.com").exists()


def test_a_key_grants_a_role_its_scopes_cover(api_client):
    key = ApiKeyFactory(name="sync-bot", scopes=["*"])

    response = api_client.post(
        "/api/v1/users",
        {"name": "Bot Made", "email": "botmade@example.com", "roleId": "ROLE-VIEWER"},
        format="json",
        HTTP_X_API_KEY=key.raw,
    )

    assert response.status_code == 201
