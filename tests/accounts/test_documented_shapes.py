"""Each accounts answer built as a dict (sessions, tokens, me, languages, time zones, the developer console)
is what the OpenAPI document says."""

from __future__ import annotations

import pytest

from accounts import developer
from tests.accounts.conftest import login
from tests.documented import assert_documented
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return UserFactory(email="ada@example.com")


def test_a_login_is_documented(api_client, user):
    assert_documented(login(api_client, user.email), "/api/v1/auth/login")


def test_a_refresh_is_documented(api_client, user):
    refresh = login(api_client, user.email).json()["data"]["refreshToken"]

    response = api_client.post("/api/v1/auth/refresh", {"refreshToken": refresh}, format="json")

    assert_documented(response, "/api/v1/auth/refresh")


def test_a_registration_is_documented(api_client, settings):
    settings.ARGUS_ALLOW_REGISTRATION = True
    body = {"email": "new@example.com", "password": "A-long-enough-passphrase-1", "name": "New Person"}

    assert_documented(api_client.post("/api/v1/auth/register", body, format="json"), "/api/v1/auth/register")


def test_me_is_documented(admin_client):
    assert_documented(admin_client.get("/api/v1/auth/me"), "/api/v1/auth/me")


def test_the_003_token_is_documented(api_client, user):
    body = {"username": user.email, "password": DEFAULT_PASSWORD}

    assert_documented(api_client.post("/auth/token", body, format="json"), "/auth/token")


def test_the_languages_are_documented(viewer_client):
    assert_documented(viewer_client.get("/api/v1/i18n/languages"), "/api/v1/i18n/languages")


def test_the_time_zones_are_documented(viewer_client):
    assert_documented(viewer_client.get("/api/v1/settings/timezones"), "/api/v1/settings/timezones")


def test_the_developer_catalogue_is_documented(admin_client):
    assert_documented(admin_client.get("/api/v1/developer/endpoints"), "/api/v1/developer/endpoints")


def test_an_invocation_is_documented(admin_client):
    endpoint_id = developer.endpoint_id("GET", "/api/v1/auth/me")

    response = admin_client.post(f"/api/v1/developer/endpoints/{endpoint_id}/invoke", {}, format="json")

    assert_documented(response, "/api/v1/developer/endpoints/{id}/invoke")
