"""Every dashboard page, signed in as an administrator, at 1366 px and at 390 px: it loads without script
errors or failed requests, and nothing on it is wider than the screen."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.dashboard_browser.conftest import SIZES
from tests.factories import (
    AlertFactory,
    AttendanceLogFactory,
    CameraFactory,
    DetectionFactory,
    FaceProfileFactory,
    PlateEventFactory,
    UserFactory,
)

# The server reads what the tests write, so their data is committed (and flushed after each test).
pytestmark = pytest.mark.django_db(transaction=True)

PAGES = [
    "/",
    "/recognition/live/",
    "/cameras/",
    "/recognition/faces/",
    "/recognition/thresholds/",
    "/attendance/",
    "/attendance/reports/",
    "/cameras/alerts/",
    "/anpr/",
    "/counting/",
    "/system/",
    "/accounts/audit/",
    "/accounts/developer/",
    "/accounts/preferences/",
]


@pytest.fixture
def admin(seeded_roles):
    return UserFactory(
        role_id="ROLE-ADMIN",
        email="admin@example.com",
        name="Administrator With A Rather Long Name",
        is_staff=True,
        is_superuser=True,
    )


@pytest.fixture
def site():
    """A little of everything, so no page is shown empty."""
    camera = CameraFactory(id="CAM-01", name="Front entrance camera with a long name", location="Lobby")
    profile = FaceProfileFactory(name="Eileen Collins", department="Operations")
    DetectionFactory(camera=camera, profile=profile)
    AttendanceLogFactory(
        employee_id=profile.employee_id, name=profile.name, camera=camera, check_in=timezone.now(), check_out=None
    )
    AlertFactory(camera=camera, title="Camera went offline")
    PlateEventFactory(camera_id=camera.pk, plate_text="ABC123")
    return camera


@pytest.mark.parametrize("path", PAGES)
def test_page_loads_without_errors_and_fits_the_screen_at_1366_and_390_px(open_page, admin, site, path):
    tab = open_page(admin, "1366")
    name = path.strip("/").replace("/", "_") or "home"
    for size in SIZES:
        tab.page.set_viewport_size(SIZES[size])
        response = tab.goto(path)
        tab.page.wait_for_timeout(500)  # the first API calls, the WebSocket and the live pictures
        tab.screenshot(f"{name}-{size}")
        assert response.status == 200, size
        assert tab.problems.all() == [], size
        assert tab.wider_than_viewport() == [], size
