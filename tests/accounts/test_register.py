"""POST /api/v1/auth/register: self-registration, when the site allows it."""

from __future__ import annotations

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User, UserSession
from tests.accounts.conftest import error_code
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/register"
STRONG = "violet-harbour-lantern-42"


@pytest.fixture(autouse=True)
def _registration_open(settings):
    settings.ARGUS_ALLOW_REGISTRATION = True
    settings.ARGUS_REGISTRATION_ROLE = "ROLE-VIEWER"


def register(client, **fields):
    body = {"email": "newbie@example.com", "password": STRONG, "name": "New Bie", **fields}
    return client.post(URL, body, format="json")


def test_it_creates_a_viewer_and_returns_tokens(api_client):
    response = register(api_client)

    assert response.status_code == 201
    data = response.json()["data"]
    user = User.objects.get(email="newbie@example.com")
    assert user.role_id == "ROLE-VIEWER"
    assert user.name == "New Bie"
    assert user.check_password(STRONG)
    assert data["user"]["id"] == str(user.pk)
    assert data["user"]["roleId"] == "ROLE-VIEWER"
    assert AccessToken(data["accessToken"])["sub"] == str(user.pk)
    assert UserSession.objects.filter(user=user, revoked_at__isnull=True).count() == 1


def test_new_account_can_sign_in(api_client):
    register(api_client)

    response = api_client.post(
        "/api/v1/auth/login", {"username": "newbie@example.com", "password": STRONG}, format="json"
    )

    assert response.status_code == 200


def test_it_names_the_account_after_the_email_without_a_name(api_client):
    register(api_client, name="")

    assert User.objects.get(email="newbie@example.com").name == "newbie"


def test_it_gives_the_configured_role(api_client, settings):
    settings.ARGUS_REGISTRATION_ROLE = "ROLE-OPERATOR"

    register(api_client)

    assert User.objects.get(email="newbie@example.com").role_id == "ROLE-OPERATOR"


def test_it_is_refused_when_registration_is_disabled(api_client, settings):
    settings.ARGUS_ALLOW_REGISTRATION = False

    response = register(api_client)

    assert response.status_code == 403
    assert error_code(response) == "REGISTRATION_DISABLED"
    assert not User.objects.filter(email="newbie@example.com").exists()


def test_duplicate_email_returns_409(api_client):
    UserFactory(email="newbie@example.com")

    response = register(api_client)

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "CONFLICT"
    assert error["details"]["field"] == "email"


def test_duplicate_email_in_another_case_returns_409(api_client):
    UserFactory(email="newbie@example.com")

    response = register(api_client, email="NewBie@Example.com")

    assert response.status_code == 409
    assert User.objects.filter(email__iexact="newbie@example.com").count() == 1


def test_weak_password_returns_400(api_client):
    response = register(api_client, password="12345678")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == "password"
    assert not User.objects.filter(email="newbie@example.com").exists()


def test_short_password_returns_400(api_client):
    response = register(api_client, password="Ab3$x")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "password"


def test_invalid_email_returns_400(api_client):
    response = register(api_client, email="not-an-email")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "email"
