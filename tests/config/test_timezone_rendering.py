"""The dashboard shows times in the signed-in user's time zone and pages in their language."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import timezone, translation

from accounts import preferences
from accounts.models import AuditLog
from tests.factories import AuditLogFactory

pytestmark = pytest.mark.django_db

AUDIT_PAGE = "/accounts/audit/"
MOMENT = datetime(2026, 1, 15, 23, 30, 5, tzinfo=UTC)


@pytest.fixture
def entry(db) -> AuditLog:
    return AuditLogFactory(actor="someone", action="test.moment", message="m", timestamp=MOMENT)


def test_times_are_shown_in_the_users_time_zone(client, admin_user, entry):
    preferences.update_preferences(admin_user, {"timezone": "Asia/Ho_Chi_Minh"})
    client.force_login(admin_user)

    content = client.get(AUDIT_PAGE).content.decode()

    assert "2026-01-16 06:30:05" in content  # 23:30:05 UTC is 06:30:05 the next day at +07:00
    assert "2026-01-15 23:30:05" not in content


def test_times_follow_a_zone_behind_utc(client, admin_user, entry):
    preferences.update_preferences(admin_user, {"timezone": "America/New_York"})
    client.force_login(admin_user)

    assert "2026-01-15 18:30:05" in client.get(AUDIT_PAGE).content.decode()


def test_times_are_in_the_sites_zone_without_preferences(client, admin_user, entry, settings):
    settings.TIME_ZONE = "UTC"
    client.force_login(admin_user)

    assert "2026-01-15 23:30:05" in client.get(AUDIT_PAGE).content.decode()


def test_each_user_sees_their_own_zone(client, admin_user, entry):
    from tests.factories import UserFactory

    other = UserFactory(role_id="ROLE-ADMIN", email="other@example.com")
    preferences.update_preferences(admin_user, {"timezone": "Asia/Ho_Chi_Minh"})
    preferences.update_preferences(other, {"timezone": "Europe/London"})
    client.force_login(other)

    assert "2026-01-15 23:30:05" in client.get(AUDIT_PAGE).content.decode()


def test_the_page_is_in_the_users_language(client, admin_user):
    preferences.update_preferences(admin_user, {"language": "vi"})
    client.force_login(admin_user)

    response = client.get(AUDIT_PAGE)

    assert '<html lang="vi" ' in response.content.decode()
    assert response["Content-Language"] == "vi"


def test_the_live_pages_are_told_the_users_zone(client, admin_user):
    preferences.update_preferences(admin_user, {"timezone": "Asia/Tokyo"})
    client.force_login(admin_user)

    assert 'data-time-zone="Asia/Tokyo"' in client.get("/system/").content.decode()


def test_api_times_stay_in_utc_iso_format(admin_client, admin_user, entry):
    preferences.update_preferences(admin_user, {"timezone": "Asia/Ho_Chi_Minh"})

    stamps = [item["timestamp"] for item in admin_client.get("/api/v1/audit").json()["data"]]

    assert any(stamp.startswith("2026-01-15T23:30:05") for stamp in stamps)


def test_the_choice_does_not_outlive_the_request(client, admin_user, entry):
    preferences.update_preferences(admin_user, {"timezone": "Asia/Ho_Chi_Minh", "language": "vi"})
    client.force_login(admin_user)

    client.get(AUDIT_PAGE)

    assert timezone.get_current_timezone_name() == timezone.get_default_timezone_name()
    assert translation.get_language() != "vi"


def test_pages_use_the_users_theme(client, admin_user):
    preferences.update_preferences(admin_user, {"theme": "light"})
    client.force_login(admin_user)

    assert '<html lang="en" data-theme="light">' in client.get(AUDIT_PAGE).content.decode()


def test_pages_use_the_dark_theme_without_a_preference(client, admin_user):
    client.force_login(admin_user)

    assert 'data-theme="dark"' in client.get(AUDIT_PAGE).content.decode()
