"""Who may hand out what: nobody grants a role broader than their own; a person's history export needs
the right to read their detections."""

from __future__ import annotations

import pytest

from accounts.models import User
from tests.conftest import client_for, role_client
from tests.factories import RoleFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def user_manager():
    RoleFactory(id="ROLE-ADMIN-X", permissions=["*"])
    RoleFactory(id="ROLE-HELPDESK", permissions=["users:read", "users:write"])
    RoleFactory(id="ROLE-READER", permissions=["users:read"])
    return role_client("ROLE-HELPDESK", ["users:read", "users:write"])


def test_a_users_writer_cannot_grant_itself_the_admin_role(user_manager):
    me = User.objects.get(role_id="ROLE-HELPDESK")

    response = user_manager.patch(f"/api/v1/users/{me.pk}", {"roleId": "ROLE-ADMIN-X"}, format="json")

    assert response.status_code == 403
    me.refresh_from_db()
    assert me.role_id == "ROLE-HELPDESK"


def test_a_users_writer_cannot_create_an_administrator(user_manager):
    body = {"name": "Mallory", "email": "mallory@example.com", "roleId": "ROLE-ADMIN-X", "password": "Zq8#long-pass"}

    response = user_manager.post("/api/v1/users", body, format="json")

    assert response.status_code == 403
    assert not User.objects.filter(email="mallory@example.com").exists()


def test_a_role_within_ones_own_permissions_can_be_granted(user_manager):
    target = UserFactory(role_id="ROLE-HELPDESK")

    response = user_manager.patch(f"/api/v1/users/{target.pk}", {"roleId": "ROLE-READER"}, format="json")

    assert response.status_code == 200, response.content
    target.refresh_from_db()
    assert target.role_id == "ROLE-READER"


def test_an_administrator_grants_any_role(admin_client, user_manager):
    target = UserFactory(role_id="ROLE-READER")

    response = admin_client.patch(f"/api/v1/users/{target.pk}", {"roleId": "ROLE-ADMIN-X"}, format="json")

    assert response.status_code == 200


def test_person_history_export_needs_detections_read():
    writer = role_client("ROLE-CLERK", ["attendance:write"])

    response = writer.post("/api/v1/history/person/EMP-1/export", {"format": "csv"}, format="json")

    assert response.status_code == 403


def test_person_history_export_with_detections_read_is_accepted():
    clerk = client_for(
        UserFactory(role_id=RoleFactory(id="ROLE-AUDITOR", permissions=["attendance:write", "detections:read"]).id)
    )

    response = clerk.post("/api/v1/history/person/EMP-1/export", {"format": "csv"}, format="json")

    assert response.status_code == 202, response.content


# --- The Django Admin's sign-in: the dashboard's and the API's lockout and rate limit ---------------------


@pytest.fixture
def staff(settings):
    settings.LOGIN_DELAY_BASE = 0
    settings.LOGIN_DELAY_MAX = 0
    user = UserFactory(role_id="ROLE-ADMIN", email="staff@example.com", is_staff=True, is_superuser=True)
    user.set_password("Right-pass-93!")
    user.save()
    return user


def admin_sign_in(client, password: str):
    return client.post("/admin/login/", {"username": "staff@example.com", "password": password, "next": "/admin/"})


def test_admin_guessing_locks_the_account_like_the_api(client, staff, settings):
    for _ in range(settings.LOGIN_LOCK_AFTER):
        assert admin_sign_in(client, "guess").status_code == 200

    response = admin_sign_in(client, "Right-pass-93!")

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session


def test_admin_sign_in_counts_against_the_sign_in_rate_limit(client, staff, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": 3}
    settings.LOGIN_LOCK_AFTER = 100
    for _ in range(3):
        admin_sign_in(client, "guess")

    response = admin_sign_in(client, "Right-pass-93!")

    assert response.status_code == 429


def test_admin_sign_in_with_the_right_password_still_works(client, staff):
    response = admin_sign_in(client, "Right-pass-93!")

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
