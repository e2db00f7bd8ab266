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
