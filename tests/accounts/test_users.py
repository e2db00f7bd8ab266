"""/api/v1/users: list with filters and pages, create, read, update with versions, delete."""

from __future__ import annotations

import uuid

import pytest

from accounts.models import User, UserSession
from accounts.tokens import issue_tokens
from tests.accounts.conftest import error_code
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/users"


def detail(user) -> str:
    return f"{URL}/{user.pk}"


@pytest.fixture
def people():
    """Three more users besides the signed-in admin."""
    return [
        UserFactory(email="alice@example.com", name="Alice Archer", role_id="ROLE-OPERATOR"),
        UserFactory(email="bob@example.com", name="Bob Baker", role_id="ROLE-VIEWER"),
        UserFactory(email="carol@example.com", name="Carol Cooper", role_id="ROLE-VIEWER", status="suspended"),
    ]


def emails(response) -> list[str]:
    return [user["email"] for user in response.json()["data"]]


# --- list ------------------------------------------------------------------------------------------


def test_list_returns_users_by_email_with_meta(admin_client, people):
    response = admin_client.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert emails(response) == ["admin@example.com", "alice@example.com", "bob@example.com", "carol@example.com"]
    assert body["meta"] == {"page": 1, "pageSize": 20, "total": 4, "totalPages": 1}


def test_list_shows_the_001_user_fields(admin_client, people):
    alice = admin_client.get(URL, {"search": "alice"}).json()["data"][0]

    assert alice["id"] == str(people[0].pk)
    assert alice["name"] == "Alice Archer"
    assert alice["roleId"] == "ROLE-OPERATOR"
    assert alice["status"] == "active"
    assert "lastActive" in alice
    assert "password" not in alice


def test_list_filters_by_role(admin_client, people):
    response = admin_client.get(URL, {"role": "ROLE-VIEWER"})

    assert emails(response) == ["bob@example.com", "carol@example.com"]
    assert response.json()["meta"]["total"] == 2


def test_list_filters_by_status(admin_client, people):
    assert emails(admin_client.get(URL, {"status": "suspended"})) == ["carol@example.com"]


def test_list_refuses_an_unknown_status(admin_client, people):
    response = admin_client.get(URL, {"status": "sleeping"})

    assert response.status_code == 400
    assert error_code(response) == "VALIDATION_ERROR"


def test_list_searches_names(admin_client, people):
    assert emails(admin_client.get(URL, {"search": "baker"})) == ["bob@example.com"]


def test_list_searches_emails(admin_client, people):
    assert emails(admin_client.get(URL, {"search": "CAROL@"})) == ["carol@example.com"]


def test_list_combines_filters(admin_client, people):
    assert emails(admin_client.get(URL, {"role": "ROLE-VIEWER", "status": "active"})) == ["bob@example.com"]


def test_list_pages(admin_client, people):
    response = admin_client.get(URL, {"page": 2, "pageSize": 3})

    assert emails(response) == ["carol@example.com"]
    assert response.json()["meta"] == {"page": 2, "pageSize": 3, "total": 4, "totalPages": 2}


def test_list_page_past_the_end_is_empty(admin_client, people):
    response = admin_client.get(URL, {"page": 9, "pageSize": 3})

    assert response.status_code == 200
    assert response.json()["data"] == []
    assert response.json()["meta"]["total"] == 4


def test_list_refuses_a_page_size_over_200(admin_client):
    response = admin_client.get(URL, {"pageSize": 201})

    assert response.status_code == 400
    details = response.json()["error"]["details"]
    assert details["field"] == "pageSize"
    assert details["issue"] == "must be an integer from 1 to 200"


def test_list_refuses_page_zero(admin_client):
    response = admin_client.get(URL, {"page": 0})

    assert response.status_code == 400
    assert error_code(response) == "VALIDATION_ERROR"


def test_list_costs_a_fixed_number_of_queries(admin_client, django_assert_max_num_queries):
    for n in range(30):
        UserFactory(role_id=["ROLE-ADMIN", "ROLE-OPERATOR", "ROLE-VIEWER"][n % 3])
    admin_client.get(URL)  # the first request records activity; measure the steady state

    # the caller, the count and the page (roles joined, not fetched per user)
    with django_assert_max_num_queries(3):
        response = admin_client.get(URL, {"pageSize": 50})

    assert len(response.json()["data"]) == 31


# --- create ----------------------------------------------------------------------------------------


def test_create_returns_201_with_the_user(admin_client):
    response = admin_client.post(
        URL,
        {"name": "John Doe", "email": "john@example.com", "roleId": "ROLE-OPERATOR", "password": "amber-wolf-river-9"},
        format="json",
    )

    assert response.status_code == 201
    data = response.json()["data"]
    user = User.objects.get(email="john@example.com")
    assert data["id"] == str(user.pk)
    assert data["name"] == "John Doe"
    assert data["roleId"] == "ROLE-OPERATOR"
    assert data["status"] == "active"
    assert data["version"] == 1
    assert user.role_id == "ROLE-OPERATOR"
    assert user.check_password("amber-wolf-river-9")


def test_create_without_a_password_makes_an_account_that_cannot_sign_in(admin_client, api_client):
    response = admin_client.post(
        URL, {"name": "No Pass", "email": "nopass@example.com", "roleId": "ROLE-VIEWER"}, format="json"
    )

    assert response.status_code == 201
    user = User.objects.get(email="nopass@example.com")
    assert not user.has_usable_password()
    login = api_client.post(
        "/api/v1/auth/login", {"username": "nopass@example.com", "password": "any-guess-at-all"}, format="json"
    )
    assert login.status_code == 401


def test_create_lowercases_the_email(admin_client):
    admin_client.post(URL, {"name": "Case", "email": "MiXeD@Example.COM", "roleId": "ROLE-VIEWER"}, format="json")

    assert User.objects.filter(email="mixed@example.com").exists()


def test_create_with_a_status(admin_client):
    response = admin_client.post(
        URL, {"name": "Sus", "email": "sus@example.com", "roleId": "ROLE-VIEWER", "status": "suspended"}, format="json"
    )

    assert response.json()["data"]["status"] == "suspended"


def test_create_duplicate_email_returns_409(admin_client, people):
    response = admin_client.post(
        URL, {"name": "Alice Again", "email": "Alice@example.com", "roleId": "ROLE-VIEWER"}, format="json"
    )

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "CONFLICT"
    assert error["details"]["field"] == "email"
    assert User.objects.filter(email="alice@example.com").count() == 1


def test_create_unknown_role_returns_400(admin_client):
    response = admin_client.post(URL, {"name": "Who", "email": "who@example.com", "roleId": "ROLE-KING"}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == "roleId"
    assert "ROLE-KING" in error["details"]["issue"]
    assert not User.objects.filter(email="who@example.com").exists()


def test_create_weak_password_returns_400(admin_client):
    response = admin_client.post(
        URL,
        {"name": "Weak", "email": "weak@example.com", "roleId": "ROLE-VIEWER", "password": "password"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "password"
    assert not User.objects.filter(email="weak@example.com").exists()


def test_create_missing_fields_returns_400_listing_them(admin_client):
    response = admin_client.post(URL, {"name": "Only Name"}, format="json")

    assert response.status_code == 400
    assert set(response.json()["error"]["details"]["fields"]) == {"email", "roleId"}


# --- read ------------------------------------------------------------------------------------------


def test_get_returns_the_user(admin_client, people):
    response = admin_client.get(detail(people[1]))

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["email"] == "bob@example.com"
    assert data["roleId"] == "ROLE-VIEWER"


def test_get_unknown_id_returns_404(admin_client):
    response = admin_client.get(f"{URL}/{uuid.uuid4()}")

    assert response.status_code == 404
    assert error_code(response) == "NOT_FOUND"


def test_get_malformed_id_returns_404(admin_client):
    response = admin_client.get(f"{URL}/not-a-uuid")

    assert response.status_code == 404
    assert error_code(response) == "NOT_FOUND"


# --- update ----------------------------------------------------------------------------------------


def test_put_changes_name_email_role_and_status(admin_client, people):
    alice = people[0]

    response = admin_client.put(
        detail(alice),
        {"name": "Alice A.", "email": "ALICE.A@example.com", "roleId": "ROLE-VIEWER", "status": "active"},
        format="json",
    )

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["name"] == "Alice A."
    assert data["email"] == "alice.a@example.com"
    assert data["roleId"] == "ROLE-VIEWER"
    alice.refresh_from_db()
    assert (alice.name, alice.email, alice.role_id) == ("Alice A.", "alice.a@example.com", "ROLE-VIEWER")


def test_put_increments_the_version(admin_client, people):
    response = admin_client.put(detail(people[0]), {"name": "Alice A."}, format="json")

    assert response.json()["data"]["version"] == 2


def test_patch_changes_only_what_is_sent(admin_client, people):
    response = admin_client.patch(detail(people[0]), {"name": "Ally"}, format="json")

    assert response.status_code == 200
    people[0].refresh_from_db()
    assert people[0].name == "Ally"
    assert people[0].email == "alice@example.com"
    assert people[0].role_id == "ROLE-OPERATOR"


def test_put_with_the_current_version_succeeds(admin_client, people):
    response = admin_client.put(detail(people[0]), {"name": "Ally", "version": 1}, format="json")

    assert response.status_code == 200
    assert response.json()["data"]["version"] == 2


def test_put_with_a_stale_version_returns_409_and_changes_nothing(admin_client, people):
    alice = people[0]
    admin_client.put(detail(alice), {"name": "First Edit", "version": 1}, format="json")

    response = admin_client.put(detail(alice), {"name": "Second Edit", "version": 1}, format="json")

    assert response.status_code == 409
    assert error_code(response) == "VERSION_CONFLICT"
    alice.refresh_from_db()
    assert alice.name == "First Edit"
    assert alice.version == 2


def test_put_with_a_taken_email_returns_409(admin_client, people):
    response = admin_client.put(detail(people[0]), {"email": "bob@example.com"}, format="json")

    assert response.status_code == 409
    assert error_code(response) == "CONFLICT"
    people[0].refresh_from_db()
    assert people[0].email == "alice@example.com"


def test_put_with_an_unknown_role_returns_400(admin_client, people):
    response = admin_client.put(detail(people[0]), {"roleId": "ROLE-KING"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "roleId"
    people[0].refresh_from_db()
    assert people[0].role_id == "ROLE-OPERATOR"


def test_put_with_an_unknown_status_returns_400(admin_client, people):
    response = admin_client.put(detail(people[0]), {"status": "sleeping"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "status"


def test_put_unknown_id_returns_404(admin_client):
    response = admin_client.put(f"{URL}/{uuid.uuid4()}", {"name": "Ghost"}, format="json")

    assert response.status_code == 404
    assert error_code(response) == "NOT_FOUND"


def test_suspending_a_user_ends_their_sessions(admin_client, people):
    alice = people[0]
    alice_client = client_for(alice)
    assert alice_client.get("/api/v1/auth/me").status_code == 200

    response = admin_client.put(detail(alice), {"status": "suspended"}, format="json")

    assert response.status_code == 200
    assert not UserSession.objects.filter(user=alice, revoked_at__isnull=True).exists()
    assert alice_client.get("/api/v1/auth/me").status_code == 401
    refresh = alice_client.post("/api/v1/auth/refresh", {"refreshToken": alice_client.tokens.refresh}, format="json")
    assert refresh.status_code == 401


def test_role_change_reaches_new_tokens(admin_client, people):
    alice = people[0]
    admin_client.put(detail(alice), {"roleId": "ROLE-ADMIN"}, format="json")

    alice.refresh_from_db()
    alice_client = client_for(alice)

    assert alice_client.get(URL).status_code == 200


# --- delete ----------------------------------------------------------------------------------------


def test_delete_returns_204_and_removes_the_user(admin_client, people):
    response = admin_client.delete(detail(people[1]))

    assert response.status_code == 204
    assert not User.objects.filter(pk=people[1].pk).exists()


def test_delete_ends_the_users_sessions(admin_client, people):
    bob_client = client_for(people[1])

    admin_client.delete(detail(people[1]))

    assert bob_client.get("/api/v1/auth/me").status_code == 401


def test_delete_self_is_refused(admin_client, admin_user):
    response = admin_client.delete(detail(admin_user))

    assert response.status_code == 409
    assert error_code(response) == "CANNOT_DELETE_SELF"
    assert User.objects.filter(pk=admin_user.pk).exists()


def test_delete_unknown_id_returns_404(admin_client):
    response = admin_client.delete(f"{URL}/{uuid.uuid4()}")

    assert response.status_code == 404
    assert error_code(response) == "NOT_FOUND"


def test_delete_leaves_other_users_sessions(admin_client, people):
    alice_session = issue_tokens(people[0])

    admin_client.delete(detail(people[1]))

    assert client_for(people[0]).get("/api/v1/auth/me").status_code == 200
    refresh = admin_client.post("/api/v1/auth/refresh", {"refreshToken": alice_session.refresh}, format="json")
    assert refresh.status_code == 200
