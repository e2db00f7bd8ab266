"""002's auth rules as its client meets them: JWTs carry and must carry ``iss``/``aud``; an API key's lookup
is cached (300 s) but a revoked key stops at once; at most 5 sessions per person (a sixth sign-in ends the
oldest); an idle timeout (a setting) ends a session nobody refreshed."""

from __future__ import annotations

import time
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import ApiKey, UserSession
from tests.accounts.conftest import error_code, login
from tests.factories import ApiKeyFactory, UserFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me"
REFRESH = "/api/v1/auth/refresh"
KEYED = "/api/v2/cameras"  # any endpoint a key with cameras:read may call


@pytest.fixture
def user():
    return UserFactory(email="tess@example.com", role_id="ROLE-VIEWER")


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def sign_in(user) -> dict:
    return login(APIClient(), user.email).json()["data"]


def forged(claims: dict) -> str:
    """A token signed with the real key whose claims are ``claims``, over a real token's."""
    payload = {**AccessToken(sign_in(UserFactory())["accessToken"]).payload, **claims}
    payload = {key: value for key, value in payload.items() if value is not None}
    return jwt.encode(payload, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")


# --- iss / aud ------------------------------------------------------------------------------------


def test_tokens_name_002s_issuer_and_audience(user):
    claims = AccessToken(sign_in(user)["accessToken"]).payload

    assert (claims["iss"], claims["aud"]) == ("beauth", "becamera")


def test_a_token_for_another_audience_is_refused():
    response = bearer(forged({"aud": "someone-else"})).get(ME)

    assert response.status_code == 401
    assert error_code(response) == "AUTH_001"


def test_a_token_from_another_issuer_is_refused():
    assert bearer(forged({"iss": "evil"})).get(ME).status_code == 401


def test_a_token_without_an_audience_is_refused():
    assert bearer(forged({"aud": None})).get(ME).status_code == 401


# --- API-key lookups: cached, and dropped at once --------------------------------------------------


@pytest.fixture
def key():
    return ApiKeyFactory(scopes=["cameras:read"])


def test_a_keys_lookup_is_cached(key, django_assert_max_num_queries):
    client = APIClient(HTTP_X_API_KEY=key.raw)
    client.get(KEYED)

    with django_assert_max_num_queries(4):  # the cameras (count and page); no api key lookup
        response = client.get(KEYED)

    assert response.status_code == 200


def test_a_deactivated_key_is_refused_at_once(key):
    client = APIClient(HTTP_X_API_KEY=key.raw)
    assert client.get(KEYED).status_code == 200

    key.is_active = False
    key.save(update_fields=["is_active"])

    assert client.get(KEYED).status_code == 401


def test_a_deleted_key_is_refused_at_once(key):
    client = APIClient(HTTP_X_API_KEY=key.raw)
    assert client.get(KEYED).status_code == 200

    ApiKey.objects.get(pk=key.pk).delete()

    assert client.get(KEYED).status_code == 401


def test_a_rekeyed_keys_old_secret_is_refused_at_once(key):
    old = APIClient(HTTP_X_API_KEY=key.raw)
    assert old.get(KEYED).status_code == 200

    stored = ApiKey.objects.get(pk=key.pk)
    stored.set_key(ApiKey.generate())
    stored.save()

    assert old.get(KEYED).status_code == 401


def test_a_key_expiring_while_cached_is_refused():
    key = ApiKeyFactory(scopes=["cameras:read"], expires_at=timezone.now() + timedelta(seconds=1))
    client = APIClient(HTTP_X_API_KEY=key.raw)
    assert client.get(KEYED).status_code == 200  # cached now, with its expiry

    time.sleep(1.2)

    assert client.get(KEYED).status_code == 401


# --- Sessions: at most five, and an idle timeout ---------------------------------------------------


def test_a_sixth_sign_in_ends_the_oldest_session(user):
    pairs = [sign_in(user) for _ in range(6)]

    assert UserSession.objects.filter(user=user, revoked_at__isnull=True).count() == 5
    assert bearer(pairs[0]["accessToken"]).get(ME).status_code == 401
    assert all(bearer(pair["accessToken"]).get(ME).status_code == 200 for pair in pairs[1:])
    assert APIClient().post(REFRESH, {"refreshToken": pairs[0]["refreshToken"]}, format="json").status_code == 401


def test_refreshing_does_not_count_as_a_new_session(user):
    pairs = [sign_in(user) for _ in range(5)]
    fresh = APIClient().post(REFRESH, {"refreshToken": pairs[0]["refreshToken"]}, format="json")

    assert fresh.status_code == 200
    assert all(bearer(pair["accessToken"]).get(ME).status_code == 200 for pair in pairs[1:])


def test_the_session_limit_is_a_setting(user, settings):
    settings.SESSION_MAX_PER_USER = 2
    pairs = [sign_in(user) for _ in range(3)]

    assert bearer(pairs[0]["accessToken"]).get(ME).status_code == 401
    assert UserSession.objects.filter(user=user, revoked_at__isnull=True).count() == 2


def test_a_session_idle_past_the_timeout_cannot_refresh(user, settings):
    settings.SESSION_IDLE_MINUTES = 30
    pair = sign_in(user)
    UserSession.objects.filter(user=user).update(created_at=timezone.now() - timedelta(minutes=31))

    response = APIClient().post(REFRESH, {"refreshToken": pair["refreshToken"]}, format="json")

    assert response.status_code == 401
    assert error_code(response) == "AUTH_002"
    assert bearer(pair["accessToken"]).get(ME).status_code == 401  # the session's access tokens end too


def test_a_session_refreshed_within_the_timeout_lives_on(user, settings):
    settings.SESSION_IDLE_MINUTES = 30
    pair = sign_in(user)
    UserSession.objects.filter(user=user).update(created_at=timezone.now() - timedelta(minutes=29))

    response = APIClient().post(REFRESH, {"refreshToken": pair["refreshToken"]}, format="json")

    assert response.status_code == 200
