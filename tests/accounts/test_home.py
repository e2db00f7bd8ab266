"""Home shows what the site is about: its cameras (following their live pictures), open alerts and today's
attendance, each panel contributed by the app that owns it, and recent activity in words."""

from __future__ import annotations

import pytest

from accounts.views import describe_entry
from tests.factories import AlertFactory, AuditLogFactory, CameraFactory, role_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def home(client, admin_user):
    client.force_login(admin_user)
    return lambda: client.get("/").content.decode()


def test_home_shows_the_cameras_following_their_live_pictures(home):
    CameraFactory(id="CAM-07", name="Loading bay")

    content = home()

    assert "Loading bay" in content
    assert 'data-live-src="/cameras/CAM-07/live.jpg"' in content


def test_home_shows_open_alerts_with_their_level(home):
    AlertFactory(title="Gate camera offline", level="high")
    AlertFactory(title="Old trouble", level="low", muted=True)

    content = home()

    assert "Gate camera offline" in content and ">high<" in content
    assert "Old trouble" not in content


def test_home_shows_attendance_today(home):
    assert 'id="home-attendance"' in home()


def test_home_leaves_out_panels_the_role_does_not_cover(client):
    client.force_login(role_user("ROLE-AUDITOR", ["audit:read"]))
    CameraFactory(name="Loading bay")

    content = client.get("/").content.decode()

    assert "Loading bay" not in content and 'id="home-attendance"' not in content


def test_an_api_calls_entry_reads_as_words():
    entry = AuditLogFactory(
        resource_type="cameras",
        resource_id="CAM-01",
        message="PUT /api/v1/cameras/CAM-01 -> 400",
        context={"method": "PUT", "path": "/api/v1/cameras/CAM-01", "status": 400},
    )

    assert describe_entry(entry) == "Updated cameras CAM-01: refused (400)"


def test_other_entries_keep_their_message():
    assert describe_entry(AuditLogFactory(message="Signed in (dashboard)")) == "Signed in (dashboard)"
