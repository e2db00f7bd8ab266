"""Access and refresh tokens: rotation, reuse detection, logout, lifetimes, and 003's POST /auth/token."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import UserSession
from accounts.tokens import issue_tokens
from tests.accounts.conftest import error_code, login
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

REFRESH_URL = "/api/v1/auth/refresh"
LOGOUT_URL = "/api/v1/auth/logout"
ME_URL = "/api/v1/auth/me"
EDGE_TOKEN_URL = "/auth/token"


@pytest.fixture
def user():
    return UserFactory(email="tess@example.com", role_id="ROLE-VIEWER")


@pytest.fixture
def pair(api_client, user) -> dict:
    return login(api_client, "tess@example.com").json()["data"]


def refresh(client, token: str):
    return client.post(REFRESH_URL, {"refreshToken": token}, format="json")


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_access_token_opens_the_api(pair):
    response = bearer(pair["accessToken"]).get(ME_URL)

    assert response.status_code == 200
    assert response.json()["data"]["user"]["email"] == "tess@example.com"


def test_refresh_returns_a_new_pair(api_client, pair):
    response = refresh(api_client, pair["refreshToken"])

    assert response.status_code == 200
    data = response.json()["data"]
    assert set(data) == {"accessToken", "refreshToken"}
    assert data["refreshToken"] != pair["refreshToken"]
    assert data["accessToken"] != pair["accessToken"]
    assert bearer(data["accessToken"]).get(ME_URL).status_code == 200


def test_refresh_links_the_old_session_to_its_successor(api_client, user, pair):
    new = refresh(api_client, pair["refreshToken"]).json()["data"]

    old = UserSession.objects.get(token_hash=UserSession.hash_token_id(RefreshToken(pair["refreshToken"])["jti"]))
    successor = UserSession.objects.get(token_hash=UserSession.hash_token_id(RefreshToken(new["refreshToken"])["jti"]))
    assert old.revoked_reason == "rotated"
    assert old.rotated_to_id == successor.pk
    assert successor.revoked_at is None


def test_old_refresh_token_is_refused_after_rotation(api_client, pair, settings):
    settings.REFRESH_REUSE_GRACE_SECONDS = 0  # past the grace a retry has
    refresh(api_client, pair["refreshToken"])

    response = refresh(api_client, pair["refreshToken"])

    assert response.status_code == 401
    assert error_code(response) == "AUTH_001"


def test_reuse_of_a_rotated_token_ends_its_session_family_not_other_devices(api_client, user, pair, settings):
    settings.REFRESH_REUSE_GRACE_SECONDS = 0
    newest = refresh(api_client, pair["refreshToken"]).json()["data"]
    other_device = issue_tokens(user)

    refresh(api_client, pair["refreshToken"])  # the spent token comes back: it leaked

    assert refresh(api_client, newest["refreshToken"]).status_code == 401
    assert refresh(api_client, other_device.refresh).status_code == 200


def test_reuse_from_another_address_within_the_grace_ends_the_family(api_client, user, pair):
    newest = refresh(api_client, pair["refreshToken"]).json()["data"]

    thief = api_client.post(REFRESH_URL, {"refreshToken": pair["refreshToken"]}, format="json", REMOTE_ADDR="10.9.9.9")

    assert thief.status_code == 401
    assert refresh(api_client, newest["refreshToken"]).status_code == 401


def test_the_same_client_retrying_at_once_gets_a_pair_and_stays_signed_in(api_client, user, pair):
    refresh(api_client, pair["refreshToken"])  # its answer is lost on the way

    retried = refresh(api_client, pair["refreshToken"])

    assert retried.status_code == 200
    fresh = retried.json()["data"]
    assert bearer(fresh["accessToken"]).get(ME_URL).status_code == 200
    assert refresh(api_client, fresh["refreshToken"]).status_code == 200


def test_reuse_of_a_rotated_token_ends_access_tokens_too(api_client, user, pair, settings):
    settings.REFRESH_REUSE_GRACE_SECONDS = 0
    newest = refresh(api_client, pair["refreshToken"]).json()["data"]

    refresh(api_client, pair["refreshToken"])

    response = bearer(newest["accessToken"]).get(ME_URL)
    assert response.status_code == 401
    assert error_code(response) == "AUTH_001"


def test_access_token_of_a_rotated_session_keeps_working(api_client, pair):
    refresh(api_client, pair["refreshToken"])

    assert bearer(pair["accessToken"]).get(ME_URL).status_code == 200


def test_refresh_without_a_token_returns_400(api_client):
    response = api_client.post(REFRESH_URL, {}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "refreshToken"


def test_garbage_refresh_token_is_refused(api_client):
    response = refresh(api_client, "not.a.token")

    assert response.status_code == 401
    assert error_code(response) == "AUTH_001"


def test_access_token_is_refused_as_a_refresh_token(api_client, pair):
    response = refresh(api_client, pair["accessToken"])

    assert response.status_code == 401
    assert error_code(response) == "AUTH_001"


def test_refresh_of_a_suspended_user_is_refused(api_client, user, pair):
    user.status = "suspended"
    user.save()

    response = refresh(api_client, pair["refreshToken"])

    assert response.status_code == 401
    assert error_code(response) == "AUTH_001"


def test_logout_returns_204(api_client, pair):
    response = api_client.post(LOGOUT_URL, {"refreshToken": pair["refreshToken"]}, format="json")

    assert response.status_code == 204
    assert response.content == b""


def test_logout_ends_the_access_token_of_the_session(api_client, pair):
    api_client.post(LOGOUT_URL, {"refreshToken": pair["refreshToken"]}, format="json")

    response = bearer(pair["accessToken"]).get(ME_URL)

    assert response.status_code == 401
    assert error_code(response) == "AUTH_001"


def test_logout_ends_access_tokens_minted_before_a_rotation(api_client, pair):
    newest = refresh(api_client, pair["refreshToken"]).json()["data"]

    api_client.post(LOGOUT_URL, {"refreshToken": newest["refreshToken"]}, format="json")

    assert bearer(pair["accessToken"]).get(ME_URL).status_code == 401
    assert bearer(newest["accessToken"]).get(ME_URL).status_code == 401


def test_refresh_is_refused_after_logout(api_client, pair):
    api_client.post(LOGOUT_URL, {"refreshToken": pair["refreshToken"]}, format="json")

    response = refresh(api_client, pair["refreshToken"])

    assert response.status_code == 401
    assert error_code(response) == "AUTH_001"


def test_logout_leaves_other_sessions_open(api_client, user, pair):
    other_device = issue_tokens(user)

    api_client.post(LOGOUT_URL, {"refreshToken": pair["refreshToken"]}, format="json")

    assert bearer(other_device.access).get(ME_URL).status_code == 200
    assert refresh(api_client, other_device.refresh).status_code == 200


def test_logout_with_a_garbage_token_is_refused(api_client):
    response = api_client.post(LOGOUT_URL, {"refreshToken": "garbage"}, format="json")

    assert response.status_code == 401
    assert error_code(response) == "AUTH_001"


def test_access_token_lives_15_minutes(pair):
    token = AccessToken(pair["accessToken"])

    assert token["exp"] - token["iat"] == 15 * 60


def test_refresh_token_lives_14_days(user, pair):
    token = RefreshToken(pair["refreshToken"])

    assert token["exp"] - token["iat"] == 14 * 24 * 3600
    session = UserSession.objects.get(user=user)
    assert timedelta(days=13, hours=23) < session.expires_at - timezone.now() <= timedelta(days=14)


def test_access_token_carries_the_claims_of_001(user, pair):
    token = AccessToken(pair["accessToken"])

    assert token["sub"] == str(user.pk)
    assert token["email"] == "tess@example.com"
    assert token["role"] == "ROLE-VIEWER"
    assert token["permissions"] == ["cameras:read", "attendance:read", "system:read"]


def test_refresh_token_stores_only_a_hash(user, pair):
    jti = RefreshToken(pair["refreshToken"])["jti"]

    session = UserSession.objects.get(user=user)
    assert session.token_hash == UserSession.hash_token_id(jti)
    assert session.token_hash != jti


def test_expired_access_token_returns_auth_002(user):
    token = AccessToken(issue_tokens(user).access)
    token.set_exp(from_time=timezone.now() - timedelta(hours=1))

    response = bearer(str(token)).get(ME_URL)

    assert response.status_code == 401
    assert error_code(response) == "AUTH_002"


def test_refresh_token_is_refused_as_an_access_token(pair):
    response = bearer(pair["refreshToken"]).get(ME_URL)

    assert response.status_code == 401
    assert error_code(response) == "AUTH_001"


def test_tampered_access_token_is_refused(pair):
    header, payload, signature = pair["accessToken"].split(".")
    tampered = f"{header}.{payload}.{signature[::-1]}"

    response = bearer(tampered).get(ME_URL)

    assert response.status_code == 401
    assert error_code(response) == "AUTH_001"


def test_access_token_of_a_suspended_user_is_refused(user, pair):
    user.status = "suspended"
    user.save()

    response = bearer(pair["accessToken"]).get(ME_URL)

    assert response.status_code == 401
    assert error_code(response) == "AUTH_001"


def test_access_token_of_a_deleted_user_is_refused(user, pair):
    user.delete()

    response = bearer(pair["accessToken"]).get(ME_URL)

    assert response.status_code == 401
    assert error_code(response) == "AUTH_001"


def test_edge_token_returns_the_003_shape(api_client, user):
    response = api_client.post(
        EDGE_TOKEN_URL, {"username": "tess@example.com", "password": DEFAULT_PASSWORD}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert AccessToken(body["access_token"])["sub"] == str(user.pk)


def test_edge_token_opens_the_api(api_client, user):
    body = api_client.post(
        EDGE_TOKEN_URL, {"username": "tess@example.com", "password": DEFAULT_PASSWORD}, format="json"
    ).json()

    assert bearer(body["access_token"]).get(ME_URL).status_code == 200


def test_edge_token_with_a_wrong_password_returns_the_003_error(api_client, user):
    response = api_client.post(EDGE_TOKEN_URL, {"username": "tess@example.com", "password": "nope"}, format="json")

    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"detail", "error_code", "timestamp", "request_id"}
    assert body["detail"] == "Invalid credentials"
    assert body["error_code"] == "AUTHENTICATION_FAILED"
    assert body["request_id"] == response["X-Request-ID"]
    assert body["timestamp"].endswith("Z")


def test_edge_token_without_a_password_returns_the_003_validation_error(api_client, user):
    response = api_client.post(EDGE_TOKEN_URL, {"username": "tess@example.com"}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "VALIDATION_ERROR"
    assert body["errors"] == [{"field": "password", "message": "This field is required."}]
