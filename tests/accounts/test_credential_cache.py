"""Users and API keys are served from the process's own copy while nothing changed them: no row read per
call, and every change (suspension, a role's permissions, a key switched off or expired, one announced by
another process) reaches the very next call."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import authentication
from accounts.choices import UserStatus
from accounts.models import ApiKey, Role, User
from tests.conftest import client_for, key_client, role_client

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me"
HEALTH_DETAILED = "/healthz/detailed"  # any call an API key may make: it needs only a valid key


def _queries_on(table: str, run) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        run()
    return [query["sql"] for query in captured.captured_queries if f'FROM "{table}"' in query["sql"]]


def test_a_known_user_is_authenticated_without_reading_the_row(viewer_user):
    client = client_for(viewer_user)
    for _ in range(2):  # the first call of the minute records activity, which the next one reads back
        assert client.get(ME).status_code == 200

    queries = _queries_on("accounts_user", lambda: client.get(ME))

    assert queries == []


def test_suspending_a_known_user_refuses_the_next_call(viewer_user):
    client = client_for(viewer_user)
    assert client.get(ME).status_code == 200

    viewer_user.status = UserStatus.SUSPENDED
    viewer_user.save()

    assert client.get(ME).status_code == 401


def test_a_change_announced_by_another_process_is_seen(viewer_user):
    client = client_for(viewer_user)
    for _ in range(2):
        assert client.get(ME).status_code == 200
    # Another process suspended the user: this one did not see the save, only its announcement in Redis.
    User.objects.filter(pk=viewer_user.pk).update(status=UserStatus.SUSPENDED)

    authentication.bump_stamp("user", viewer_user.pk)

    assert client.get(ME).status_code == 401


def test_a_role_losing_a_permission_reaches_its_known_users():
    client = role_client("ROLE-CACHE-TEST", ["users:read"])
    assert client.get("/api/v1/users").status_code == 200

    role = Role.objects.get(pk="ROLE-CACHE-TEST")
    role.permissions = []
    role.save()

    assert client.get("/api/v1/users").status_code == 403


def test_a_user_changed_in_the_same_process_shows_the_change(viewer_user):
    client = client_for(viewer_user)
    assert client.get(ME).json()["data"]["user"]["name"] == viewer_user.name

    viewer_user.name = "Vera Renamed"
    viewer_user.save()

    assert client.get(ME).json()["data"]["user"]["name"] == "Vera Renamed"


def test_switching_off_a_known_api_key_refuses_the_next_call():
    client = key_client("system:read")
    assert client.get(HEALTH_DETAILED).status_code == 200

    key = ApiKey.objects.get(pk=client.key.pk)
    key.is_active = False
    key.save()

    assert client.get(HEALTH_DETAILED).status_code == 401


def test_a_known_api_key_is_refused_once_it_expires():
    client = key_client("system:read")
    ApiKey.objects.filter(pk=client.key.pk).update(expires_at=timezone.now() + timedelta(seconds=2))
    authentication.bump_stamp("key")
    assert client.get(HEALTH_DETAILED).status_code == 200

    time.sleep(2.1)  # no change announced: the copy itself knows when the key ends

    assert client.get(HEALTH_DETAILED).status_code == 401


def test_a_known_api_key_is_authenticated_without_reading_the_row():
    client = key_client("system:read")
    for _ in range(2):
        assert client.get(HEALTH_DETAILED).status_code == 200

    queries = _queries_on("accounts_apikey", lambda: client.get(HEALTH_DETAILED))

    assert queries == []


# --- Access tokens: checked once per process, revocation and the user still read on every call ----------------


def test_an_access_token_is_checked_once_per_process(viewer_user, monkeypatch):
    from rest_framework_simplejwt.authentication import JWTAuthentication

    checked = []
    real = JWTAuthentication.get_validated_token

    def check(self, raw_token):
        checked.append(raw_token)
        return real(self, raw_token)

    monkeypatch.setattr(JWTAuthentication, "get_validated_token", check)
    client = client_for(viewer_user)
    for _ in range(3):
        assert client.get(ME).status_code == 200

    assert len(checked) == 1


def test_a_kept_token_is_refused_once_its_session_is_logged_out(viewer_user):
    client = client_for(viewer_user)
    assert client.get(ME).status_code == 200  # the token is now kept

    assert client.post("/api/v1/auth/logout", {"refreshToken": client.tokens.refresh}, format="json").status_code == 204

    response = client.get(ME)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AUTH_001"


def test_a_kept_token_is_refused_once_its_user_is_suspended(viewer_user):
    client = client_for(viewer_user)
    assert client.get(ME).status_code == 200

    viewer_user.status = UserStatus.SUSPENDED
    viewer_user.save()

    assert client.get(ME).status_code == 401


def test_a_kept_token_past_its_expiry_is_checked_afresh_and_refused(viewer_user):
    from rest_framework_simplejwt import settings as jwt_settings
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.tokens import issue_tokens

    token = AccessToken(issue_tokens(viewer_user).access)
    token.set_exp(from_time=timezone.now() - timedelta(hours=1))
    raw = str(token)
    # As if kept while it was valid: its expiry has passed since.
    authentication._validated_tokens[raw.encode()] = (jwt_settings.api_settings, token["exp"], token)
    client = client_for(viewer_user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = client.get(ME)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AUTH_002"


def test_the_kept_tokens_are_bounded(viewer_user, monkeypatch):
    monkeypatch.setattr(authentication, "VALIDATED_TOKENS_MAX", 3)
    for _ in range(6):
        assert client_for(viewer_user).get(ME).status_code == 200

    assert len(authentication._validated_tokens) <= 3
