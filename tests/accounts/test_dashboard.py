"""The dashboard's sign-in page (sharing the API's lockout), home page and audit page, and what the accounts
pages cost in queries."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone

from accounts.models import AuditLog
from tests.factories import DEFAULT_PASSWORD, ApiKeyFactory, AuditLogFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
WRONG = "not-the-password"


@pytest.fixture(autouse=True)
def _fast_delays(settings):
    settings.LOGIN_DELAY_BASE = 0.01
    settings.LOGIN_SLOW_AFTER = 3
    settings.LOGIN_LOCK_AFTER = 5
    settings.LOGIN_LOCK_SECONDS = 900


@pytest.fixture
def staff():
    return UserFactory(email="staff@example.com", name="Stella Staff", role_id="ROLE-OPERATOR")


def sign_in(client, email: str, password: str = DEFAULT_PASSWORD, **extra):
    return client.post(LOGIN, {"username": email, "password": password}, **extra)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_login_page_renders(client):
    response = client.get(LOGIN)

    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'name="password"' in response.content
    assert b"csrfmiddlewaretoken" in response.content


def test_anonymous_home_redirects_to_login(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_sign_in_redirects_home(client, staff):
    response = sign_in(client, "staff@example.com")

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert signed_in(client)


def test_sign_in_follows_next(client, staff):
    response = client.post(LOGIN, {"username": "staff@example.com", "password": DEFAULT_PASSWORD, "next": "/admin/"})

    assert response["Location"] == "/admin/"


def test_sign_in_does_not_follow_an_offsite_next(client, staff):
    response = client.post(
        LOGIN, {"username": "staff@example.com", "password": DEFAULT_PASSWORD, "next": "https://evil.example/"}
    )

    assert response["Location"] == "/"


def test_sign_in_is_audited(client, staff):
    sign_in(client, "staff@example.com")

    logged = AuditLog.objects.get(action="auth.login")
    assert logged.actor == "staff@example.com"
    assert logged.message == "Signed in (dashboard)"
    staff.refresh_from_db()
    assert staff.last_active is not None


def test_home_shows_health_cards_and_user_count(client, staff):
    UserFactory(status="suspended")
    sign_in(client, "staff@example.com")

    response = client.get("/")

    assert response.status_code == 200
    assert response.context["users_total"] == 2
    assert response.context["users_active"] == 1
    content = response.content.decode()
    for component in ("database", "cache", "storage"):
        assert f'data-component="{component}"' in content
    assert '<div class="label">Users</div><div class="value">2</div>' in content
    assert "1 active" in content
    assert "Stella Staff" in content


def test_home_shows_recent_activity(client, staff):
    sign_in(client, "staff@example.com")

    response = client.get("/")

    assert [e.action for e in response.context["recent_audit"]] == ["auth.login"]


def test_wrong_password_shows_the_form_again(client, staff):
    response = sign_in(client, "staff@example.com", WRONG)

    assert response.status_code == 200
    assert b"Email or password is wrong." in response.content
    assert not signed_in(client)


def test_wrong_password_is_audited(client, staff):
    sign_in(client, "staff@example.com", WRONG)

    assert AuditLog.objects.get(action="auth.login_failed").actor == "staff@example.com"


def test_suspended_user_cannot_sign_in(client):
    UserFactory(email="gone@example.com", status="suspended")

    sign_in(client, "gone@example.com")

    assert not signed_in(client)


def test_form_failures_slow_further_attempts(client, staff, sleeps):
    for _ in range(5):
        sign_in(client, "staff@example.com", WRONG)

    assert sleeps == [0.01, 0.02]


def test_form_failures_lock_the_form(client, staff, sleeps):
    for _ in range(5):
        sign_in(client, "staff@example.com", WRONG)

    response = sign_in(client, "staff@example.com")

    assert response.status_code == 200
    assert not signed_in(client)
    assert b"Too many failed sign-in attempts" in response.content


def test_form_failures_lock_the_api_too(client, api_client, staff, sleeps):
    for _ in range(5):
        sign_in(client, "staff@example.com", WRONG)

    response = api_client.post(
        "/api/v1/auth/login", {"username": "staff@example.com", "password": DEFAULT_PASSWORD}, format="json"
    )

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "ACCOUNT_LOCKED"


def test_api_failures_lock_the_form_too(client, api_client, staff, sleeps):
    for _ in range(5):
        api_client.post("/api/v1/auth/login", {"username": "staff@example.com", "password": WRONG}, format="json")

    sign_in(client, "STAFF@example.com")

    assert not signed_in(client)


def test_form_success_clears_the_failures(client, staff, sleeps):
    for _ in range(3):
        sign_in(client, "staff@example.com", WRONG)
    sign_in(client, "staff@example.com")
    client.logout()
    sleeps.clear()

    sign_in(client, "staff@example.com", WRONG)

    assert sleeps == []


def test_sign_out_ends_the_dashboard_session(client, staff):
    sign_in(client, "staff@example.com")

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert not signed_in(client)
    assert client.get("/")["Location"].startswith(LOGIN)


def test_audit_page_shows_the_trail_to_an_admin(client, admin_user):
    AuditLogFactory(actor="someone@example.com", action="camera.update", message="renamed the gate camera")
    client.force_login(admin_user)

    response = client.get("/accounts/audit/")

    assert response.status_code == 200
    assert b"renamed the gate camera" in response.content


def test_audit_page_filters(client, admin_user):
    AuditLogFactory(actor="a@example.com", action="camera.update", message="first", severity="info")
    AuditLogFactory(actor="b@example.com", action="camera.delete", message="second", severity="critical")
    client.force_login(admin_user)

    response = client.get("/accounts/audit/", {"severity": "critical"})

    assert [e.message for e in response.context["page"]] == ["second"]


def test_audit_page_is_refused_without_audit_read(client, viewer_user):
    AuditLogFactory(actor="someone@example.com", action="camera.update", message="renamed the gate camera")
    client.force_login(viewer_user)

    response = client.get("/accounts/audit/")

    assert response.status_code == 403
    assert b"renamed the gate camera" not in response.content


def test_audit_page_redirects_anonymous_to_login(client):
    response = client.get("/accounts/audit/")

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


# --- Query counts: each page costs the same with N and 2N rows ---------------------------------------


@pytest.mark.parametrize("entries", [10, 20])
def test_audit_page_costs_the_same_queries_however_long_the_trail(
    client, admin_user, entries, django_assert_max_num_queries
):
    AuditLogFactory.create_batch(entries)
    client.force_login(admin_user)

    with django_assert_max_num_queries(5):
        response = client.get("/accounts/audit/")

    assert len(response.context["page"]) == entries


@pytest.mark.parametrize("rows", [6, 12])
def test_home_page_costs_the_same_queries_however_many_users_and_entries(
    client, admin_user, rows, django_assert_max_num_queries
):
    UserFactory.create_batch(rows)
    AuditLogFactory.create_batch(rows)
    client.force_login(admin_user)
    client.get("/")  # the platform health is checked once and then cached

    # 11 of the shell's own, and a fixed number for each app's panel (cameras, alerts, attendance today).
    with django_assert_max_num_queries(23):
        response = client.get("/")

    assert response.context["users_total"] == rows + 1 and len(response.context["recent_audit"]) == min(rows, 10)


def test_preferences_page_costs_a_fixed_number_of_queries(client, admin_user, django_assert_max_num_queries):
    client.force_login(admin_user)

    with django_assert_max_num_queries(4):
        assert client.get("/accounts/preferences/").status_code == 200


@pytest.mark.parametrize("keys", [3, 6])
def test_developer_page_costs_the_same_queries_however_many_api_keys(
    client, admin_user, keys, django_assert_max_num_queries
):
    ApiKeyFactory.create_batch(keys)
    client.force_login(admin_user)

    with django_assert_max_num_queries(3):
        response = client.get("/accounts/developer/")

    assert response.status_code == 200 and response.context["endpoints"]


def test_audit_page_filters_by_time(client, admin_user):
    AuditLogFactory(message="early entry", timestamp=timezone.make_aware(datetime(2026, 3, 1, 8, 0)))
    AuditLogFactory(message="late entry", timestamp=timezone.make_aware(datetime(2026, 3, 2, 8, 0)))
    client.force_login(admin_user)

    content = client.get("/accounts/audit/", {"date_from": "2026-03-02T00:00"}).content.decode()

    assert "late entry" in content and "early entry" not in content


def test_audit_page_says_when_a_filter_is_not_understood(client, admin_user):
    client.force_login(admin_user)

    content = client.get("/accounts/audit/", {"date_from": "someday"}).content.decode()

    assert "date_from" in content
