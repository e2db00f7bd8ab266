"""GET /api/v1/auth/me: the signed-in user and what they may do."""

from __future__ import annotations

import pytest

from tests.accounts.conftest import error_code

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/me"


def test_it_returns_the_user_and_permissions(operator_client, operator_user):
    response = operator_client.get(URL)

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["user"]["id"] == str(operator_user.pk)
    assert data["user"]["email"] == "operator@example.com"
    assert data["user"]["name"] == "Otto Operator"
    assert data["user"]["roleId"] == "ROLE-OPERATOR"
    assert data["user"]["status"] == "active"
    assert data["permissions"] == ["cameras:read", "cameras:write", "attendance:read", "faces:write"]


def test_it_uses_camel_case_keys(viewer_client):
    user = viewer_client.get(URL).json()["data"]["user"]

    assert {"roleId", "lastActive", "createdAt", "updatedAt"} <= set(user)
    assert not any("_" in key for key in user)


def test_admin_holds_every_permission(admin_client):
    assert admin_client.get(URL).json()["data"]["permissions"] == ["*"]


def test_it_records_activity(viewer_client, viewer_user):
    assert viewer_user.last_active is None

    viewer_client.get(URL)

    viewer_user.refresh_from_db()
    assert viewer_user.last_active is not None


def test_it_needs_a_token(api_client):
    response = api_client.get(URL)

    assert response.status_code == 401
    assert error_code(response) == "AUTH_001"


def test_api_key_has_no_profile(api_client, api_key):
    response = api_client.get(URL, HTTP_X_API_KEY=api_key.raw)

    assert response.status_code == 403
    assert error_code(response) == "AUTH_003"


def test_it_only_allows_get(viewer_client):
    response = viewer_client.post(URL, {}, format="json")

    assert response.status_code == 405
    assert error_code(response) == "METHOD_NOT_ALLOWED"
