"""PATCH /api/v1/users/{id}/password: own change proves the current one; admins may set anyone's."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from accounts.models import UserSession
from accounts.tokens import issue_tokens
from tests.accounts.conftest import error_code, login
from tests.conftest import client_for
from tests.factories import DEFAULT_PASSWORD, ApiKeyFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW = "copper-kettle-meadow-77"


def url(user) -> str:
    return f"/api/v1/users/{user.pk}/password"


def test_own_change_with_the_current_password_returns_204(viewer_client, viewer_user):
    response = viewer_client.patch(
        url(viewer_user), {"currentPassword": DEFAULT_PASSWORD, "newPassword": NEW}, format="json"
    )

    assert response.status_code == 204
    viewer_user.refresh_from_db()
    assert viewer_user.check_password(NEW)
    assert not viewer_user.check_password(DEFAULT_PASSWORD)


def test_new_password_signs_in(viewer_client, viewer_user, api_client):
    viewer_client.patch(url(viewer_user), {"currentPassword": DEFAULT_PASSWORD, "newPassword": NEW}, format="json")

    assert login(api_client, "viewer@example.com", NEW).status_code == 200
    assert login(api_client, "viewer@example.com", DEFAULT_PASSWORD).status_code == 401


def test_password_is_accepted_as_an_alias_of_new_password(viewer_client, viewer_user):
    response = viewer_client.patch(
        url(viewer_user), {"currentPassword": DEFAULT_PASSWORD, "password": NEW}, format="json"
    )

    assert response.status_code == 204
    viewer_user.refresh_from_db()
    assert viewer_user.check_password(NEW)


def test_own_change_without_the_current_password_is_refused(viewer_client, viewer_user):
    response = viewer_client.patch(url(viewer_user), {"newPassword": NEW}, format="json")

    assert response.status_code == 400
    assert error_code(response) == "VALIDATION_ERROR"
    assert response.json()["error"]["details"]["field"] == "currentPassword"
    viewer_user.refresh_from_db()
    assert viewer_user.check_password(DEFAULT_PASSWORD)


def test_own_change_with_a_wrong_current_password_is_refused(viewer_client, viewer_user):
    response = viewer_client.patch(
        url(viewer_user), {"currentPassword": "not-it-at-all", "newPassword": NEW}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "currentPassword"
    viewer_user.refresh_from_db()
    assert viewer_user.check_password(DEFAULT_PASSWORD)


def test_admin_changing_their_own_needs_the_current_password_too(admin_client, admin_user):
    response = admin_client.patch(url(admin_user), {"newPassword": NEW}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "currentPassword"


def test_admin_sets_another_users_password_without_theirs(admin_client, viewer_user):
    response = admin_client.patch(url(viewer_user), {"newPassword": NEW}, format="json")

    assert response.status_code == 204
    viewer_user.refresh_from_db()
    assert viewer_user.check_password(NEW)


def test_weak_password_returns_400(viewer_client, viewer_user):
    response = viewer_client.patch(
        url(viewer_user), {"currentPassword": DEFAULT_PASSWORD, "newPassword": "12345678"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "newPassword"
    viewer_user.refresh_from_db()
    assert viewer_user.check_password(DEFAULT_PASSWORD)


def test_password_like_the_email_returns_400(admin_client, viewer_user):
    response = admin_client.patch(url(viewer_user), {"newPassword": "password"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "newPassword"


def test_missing_new_password_returns_400(viewer_client, viewer_user):
    response = viewer_client.patch(url(viewer_user), {"currentPassword": DEFAULT_PASSWORD}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "newPassword"


def test_change_ends_every_session_of_the_user(viewer_client, viewer_user, api_client):
    other_device = issue_tokens(viewer_user)

    viewer_client.patch(url(viewer_user), {"currentPassword": DEFAULT_PASSWORD, "newPassword": NEW}, format="json")

    assert not UserSession.objects.filter(user=viewer_user, revoked_at__isnull=True).exists()
    assert viewer_client.get("/api/v1/auth/me").status_code == 401
    assert client_for_token(other_device.access).get("/api/v1/auth/me").status_code == 401
    refresh = api_client.post("/api/v1/auth/refresh", {"refreshToken": other_device.refresh}, format="json")
    assert refresh.status_code == 401


def test_admin_setting_a_password_ends_that_users_sessions(admin_client, viewer_user):
    viewer = client_for(viewer_user)

    admin_client.patch(url(viewer_user), {"newPassword": NEW}, format="json")

    assert viewer.get("/api/v1/auth/me").status_code == 401
    assert admin_client.get("/api/v1/auth/me").status_code == 200


def test_viewer_cannot_change_another_users_password(viewer_client, operator_user):
    response = viewer_client.patch(
        url(operator_user), {"currentPassword": DEFAULT_PASSWORD, "newPassword": NEW}, format="json"
    )

    assert response.status_code == 403
    assert error_code(response) == "AUTH_003"
    operator_user.refresh_from_db()
    assert operator_user.check_password(DEFAULT_PASSWORD)


def test_operator_cannot_change_another_users_password(operator_client, viewer_user):
    response = operator_client.patch(url(viewer_user), {"newPassword": NEW}, format="json")

    assert response.status_code == 403
    assert error_code(response) == "AUTH_003"


def test_unknown_user_returns_404(admin_client):
    response = admin_client.patch(f"/api/v1/users/{uuid.uuid4()}/password", {"newPassword": NEW}, format="json")

    assert response.status_code == 404
    assert error_code(response) == "NOT_FOUND"


def test_it_needs_a_token(api_client):
    user = UserFactory()

    response = api_client.patch(url(user), {"newPassword": NEW}, format="json")

    assert response.status_code == 401
    assert error_code(response) == "AUTH_001"


def test_api_key_cannot_change_passwords(api_client, viewer_user):
    key = ApiKeyFactory(scopes=["*"])

    response = api_client.patch(url(viewer_user), {"newPassword": NEW}, format="json", HTTP_X_API_KEY=key.raw)

    assert response.status_code == 403
    assert error_code(response) == "AUTH_003"


def client_for_token(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client
