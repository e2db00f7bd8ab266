"""Each page's main action, done as a person does it in the browser, and the live updates they wait for."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts import preferences
from anpr.models import WatchlistEntry
from cameras import alerting
from tests.dashboard_browser.conftest import elsewhere
from tests.factories import AttendanceLogFactory, CameraFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin(seeded_roles):
    return UserFactory(role_id="ROLE-ADMIN", email="admin@example.com", name="Ada Admin", is_staff=True)


@pytest.fixture
def camera():
    return CameraFactory(id="CAM-01", name="Lobby")


def test_the_phone_menu_opens_and_reaches_sign_out(open_page, admin):
    tab = open_page(admin, "390")
    tab.goto("/")
    sign_out = tab.page.get_by_role("button", name="Sign out")
    expect(sign_out).to_be_hidden()

    tab.page.get_by_role("button", name="Menu").click()

    expect(sign_out).to_be_in_viewport()
    expect(tab.page.get_by_role("link", name="Attendance", exact=True)).to_be_visible()


def test_attendance_filter_narrows_the_logs(open_page, admin, camera):
    AttendanceLogFactory(name="Sophia Martinez", camera=camera, check_in=timezone.now())
    AttendanceLogFactory(name="James Bond", camera=camera, check_in=timezone.now())
    tab = open_page(admin)
    tab.goto("/attendance/")

    tab.page.get_by_label("Search").fill("Sophia")
    tab.page.get_by_role("button", name="Filter").click()

    rows = tab.page.locator("#attendance-logs tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Sophia Martinez")
    assert tab.problems.all() == []


def test_attendance_date_boxes_are_labelled(open_page, admin):
    tab = open_page(admin)
    tab.goto("/attendance/")

    expect(tab.page.get_by_label("From")).to_have_attribute("type", "date")
    expect(tab.page.get_by_label("To", exact=True)).to_have_attribute("type", "date")


def test_sync_now_stays_off_while_odoo_is_not_configured(open_page, admin):
    tab = open_page(admin)
    tab.goto("/attendance/")

    expect(tab.page.get_by_text("Odoo is not configured yet")).to_be_visible()
    expect(tab.page.get_by_role("button", name="Sync now")).to_be_disabled()


def test_attendance_export_shows_progress_and_a_named_download(open_page, admin, camera, celery_worker_process):
    AttendanceLogFactory(name="Sophia Martinez", camera=camera, check_in=timezone.now())
    tab = open_page(admin)
    tab.goto("/attendance/")

    tab.page.get_by_role("button", name="Export CSV").click()

    download = tab.page.locator('#attendance-export [data-role="download"]')
    expect(download).to_be_visible(timeout=30000)
    expect(download).to_have_attribute("download", re.compile(r"^attendance_\d{4}-\d{2}-\d{2}.*\.csv$"))
    with tab.page.expect_download() as saved:
        download.click()
    assert saved.value.suggested_filename.startswith("attendance_")
    assert "Sophia Martinez" in Path(saved.value.path()).read_text(encoding="utf-8")


def test_a_new_alert_arrives_live_with_one_level_in_row_and_notification(open_page, admin, camera):
    tab = open_page(admin)
    tab.goto("/cameras/alerts/")
    expect(tab.page.locator("#live")).to_have_attribute("data-state", "up", timeout=10000)

    alert, _ = elsewhere(
        alerting.raise_once,
        source="test:lobby",
        title="Lobby camera offline",
        description="no frames",
        level="high",
        camera=camera,
    )

    row = tab.page.locator(f'tr[data-alert-id="{alert.id}"]')
    expect(row.locator('[data-role="level"]')).to_have_text("high", timeout=10000)
    notification = tab.page.locator("#notifications li", has_text="Lobby camera offline")
    expect(notification.locator(".badge")).to_have_text("high")


def test_a_plate_is_added_to_the_watchlist(open_page, admin):
    tab = open_page(admin)
    tab.goto("/anpr/")

    form = tab.page.locator("form.watchlist-form")
    form.get_by_label("Plate").fill("XYZ-789")
    form.get_by_label("Reason").fill("Delivery van")
    form.get_by_role("button").click()

    expect(tab.page.locator(".watchlist")).to_contain_text("XYZ-789")
    assert WatchlistEntry.objects.filter(plate_text="XYZ-789", reason="Delivery van").exists()


def test_removing_a_watchlist_plate_asks_first(open_page, admin):
    WatchlistEntry.objects.create(plate_text="BAD666", list_type="deny", reason="stolen")
    tab = open_page(admin)
    tab.goto("/anpr/")
    questions = []
    tab.page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))

    tab.page.locator(".watchlist").get_by_role("button", name="Remove").click()

    tab.page.wait_for_timeout(300)
    assert questions and "BAD666" in questions[0]
    assert WatchlistEntry.objects.filter(plate_text="BAD666").exists()


def test_the_live_view_grid_follows_the_preference(open_page, admin):
    for number in range(1, 5):
        CameraFactory(id=f"CAM-0{number}", name=f"Camera {number}")
    preferences.update_preferences(admin, {"grid_mode": "2x2"})
    tab = open_page(admin)
    tab.goto("/recognition/live/")

    columns = tab.page.locator("#live-tiles").evaluate("e => getComputedStyle(e).gridTemplateColumns.split(' ').length")

    assert columns == 2


def test_the_time_zone_preference_moves_attendance_and_live_view_alike(open_page, admin, camera):
    from tests.factories import DetectionFactory, FaceProfileFactory

    moment = timezone.now().replace(microsecond=0)
    profile = FaceProfileFactory(name="Eileen Collins")
    DetectionFactory(camera=camera, profile=profile, timestamp=moment)
    AttendanceLogFactory(employee_id=profile.employee_id, name=profile.name, camera=camera, check_in=moment)
    preferences.update_preferences(admin, {"timezone": "Asia/Ho_Chi_Minh"})
    shown = timezone.localtime(moment, timezone=__import__("zoneinfo").ZoneInfo("Asia/Ho_Chi_Minh"))
    tab = open_page(admin)

    tab.goto("/attendance/")
    expect(tab.page.locator("#attendance-logs tbody tr").first).to_contain_text(shown.strftime("%H:%M:%S"))
    tab.goto("/recognition/live/")
    expect(tab.page.locator(".feed").first).to_contain_text(shown.strftime("%H:%M:%S"))


def test_api_docs_render_without_the_internet(open_page, admin):
    tab = open_page(admin)
    tab.goto("/docs")

    expect(tab.page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=15000)
    assert tab.problems.all() == []
    assert all(url.startswith(tab.base) for url in tab.requested())


def test_the_developer_consoles_request_panel_is_beside_the_row_whose_try_was_pressed(open_page, admin):
    tab = open_page(admin)
    tab.goto("/accounts/developer/")

    tab.page.locator("#endpoints [data-select]").last.click()

    expect(tab.page.locator("#invoke-form")).to_be_in_viewport()
    expect(tab.page.get_by_role("button", name="Send")).to_be_enabled()


def test_a_detection_arrives_live_on_the_live_view(open_page, admin, camera):
    import numpy as np

    from recognition.detections import record_detections
    from recognition.models import Detection
    from recognition.providers import ProvidedFace, ProviderAnswer
    from tests.factories import FaceProfileFactory

    profile = FaceProfileFactory(name="Eileen Collins")
    tab = open_page(admin)
    tab.goto("/recognition/live/")
    expect(tab.page.locator("#live")).to_have_attribute("data-state", "up", timeout=10000)

    face = ProvidedFace(
        box={"top": 10, "left": 10, "width": 40, "height": 40},
        confidence=97.0,
        profile=profile,
        person_id=profile.employee_id,
        name=profile.name,
    )
    elsewhere(record_detections, camera, np.zeros((120, 160, 3), np.uint8), ProviderAnswer([face], latency_ms=5))

    expect(tab.page.locator(".feed li").first).to_contain_text("Eileen Collins", timeout=10000)
    # The row links to the detection's page (its decision and "wrong person").
    stored = Detection.objects.get(person_id=profile.employee_id)
    details = tab.page.locator(".feed li").first.locator('[data-role="details"] a')
    expect(details).to_have_attribute("href", f"/recognition/detections/{stored.pk}/")
    assert tab.problems.all() == []


def test_admin_list_columns_are_not_hidden_behind_the_filters(open_page, admin):
    from tests.factories import PlateEventFactory

    PlateEventFactory(camera_id="CAM-01", plate_text="ABC123")
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])
    tab = open_page(admin)
    tab.goto("/admin/anpr/plateevent/")

    hidden = tab.page.evaluate(
        """() => {
          const filters = document.getElementById("changelist-filter").getBoundingClientRect();
          const results = document.querySelector("#changelist .results").getBoundingClientRect();
          return [...document.querySelectorAll("#result_list thead th")].filter((th) => {
            const box = th.getBoundingClientRect();
            const underFilters = box.right > filters.left && box.left < filters.right
              && box.bottom > filters.top && box.top < filters.bottom;
            return underFilters || box.right > results.right + 1;
          }).map((th) => th.textContent.trim());
        }"""
    )

    tab.screenshot("admin-plate-events-1366")
    assert hidden == []
    expect(tab.page.locator("#site-name")).to_have_text("Argus administration")
