"""GET /api/v1/roles: the seeded roles and their permissions."""

from __future__ import annotations

import pytest

from tests.accounts.conftest import error_code

pytestmark = pytest.mark.django_db

URL = "/api/v1/roles"


def test_it_returns_001s_three_seeded_roles_and_002s_manager(admin_client):
    response = admin_client.get(URL)

    assert response.status_code == 200
    assert response.json()["data"] == [
        {"id": "ROLE-ADMIN", "name": "Admin", "permissions": ["*"], "description": "Full system access"},
        {
            "id": "ROLE-MANAGER",
            "name": "Manager",
            "permissions": ["cameras:read", "cameras:write", "analytics:read", "users:read"],
            "description": "Manager access (002)",
        },
        {
            "id": "ROLE-OPERATOR",
            "name": "Operator",
            "permissions": ["cameras:read", "cameras:write", "attendance:read", "faces:write"],
            "description": "Operational access",
        },
        {
            "id": "ROLE-VIEWER",
            "name": "Viewer",
            "permissions": ["cameras:read", "attendance:read", "system:read"],
            "description": "Read-only access",
        },
    ]


def test_it_is_not_paginated(admin_client):
    body = admin_client.get(URL).json()

    assert body["success"] is True
    assert "meta" not in body


def test_any_signed_in_user_may_read_it(viewer_client):
    assert viewer_client.get(URL).status_code == 200


def test_it_needs_a_token(api_client):
    response = api_client.get(URL)

    assert response.status_code == 401
    assert error_code(response) == "AUTH_001"


def test_it_is_read_only(admin_client):
    response = admin_client.post(URL, {"id": "ROLE-X", "name": "X", "permissions": []}, format="json")

    assert response.status_code == 405


def test_it_costs_a_fixed_number_of_queries(admin_client, django_assert_max_num_queries):
    admin_client.get(URL)  # the first request records activity; measure the steady state

    with django_assert_max_num_queries(2):
        assert admin_client.get(URL).status_code == 200
