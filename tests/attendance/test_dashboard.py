"""The Attendance and Reports dashboard pages."""

from __future__ import annotations

import json

import pytest

from tests.attendance.conftest import DAY, local, seen
from tests.factories import role_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_time_zone")]

LOGS, REPORTS = "/attendance/", "/attendance/reports/"


def chart_data(page: str, chart_id: str) -> dict:
    """The data a chart of the page is drawn from (the json_script in its box)."""
    box = page.split(f'id="{chart_id}"')[1]
    return json.loads(box.split('<script type="application/json">')[1].split("</script>")[0])


@pytest.fixture
def viewer(client, viewer_user):
    client.force_login(viewer_user)
    return client


@pytest.fixture
def admin(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def logs(lobby, corridor):
    seen("EMP-00412", local(DAY, 9, 0), lobby, name="Sophia Martinez")
    seen("EMP-00412", local(DAY, 17, 30), lobby, name="Sophia Martinez")
    seen("EMP-00007", local(DAY, 9, 30), corridor, name="James Bond", department="Security")


def test_the_logs_page_lists_logs_in_site_local_time(viewer, logs):
    content = viewer.get(LOGS).content.decode()

    assert "Sophia Martinez" in content and "James Bond" in content
    assert "09:00:00" in content and "17:30:00" in content


def test_the_logs_page_filters(viewer, logs):
    content = viewer.get(LOGS, {"cameraId": "CAM-03"}).content.decode()

    assert "James Bond" in content
    assert "Sophia Martinez" not in content


def test_the_logs_page_shows_filter_errors(viewer):
    response = viewer.get(LOGS, {"dateFrom": "someday"})

    assert response.status_code == 200
    assert "dateFrom" in response.content.decode()


def test_the_logs_page_paginates(viewer):
    for number in range(55):
        seen(employee_id=f"EMP-{number:03d}", at=local(DAY, 9, 0), name=f"Person {number:03d}")

    first = viewer.get(LOGS).content.decode()
    second = viewer.get(LOGS, {"page": 2}).content.decode()

    assert "Page 1 of 2" in first
    assert second.count('data-log-id="') == 5


def test_writers_get_the_export_and_odoo_boxes(admin):
    content = admin.get(LOGS).content.decode()

    assert 'id="attendance-export"' in content
    assert 'data-role="odoo-sync"' in content
    assert "argus/attendance.js" in content


def test_readers_do_not_get_the_export_button(viewer):
    assert 'id="attendance-export"' not in viewer.get(LOGS).content.decode()


def test_the_export_carries_the_pages_filters(admin):
    content = admin.get(LOGS, {"cameraId": "CAM-01", "status": "late"}).content.decode()

    assert '{"cameraId": "CAM-01", "status": "late"}' in content


def test_the_reports_page_draws_the_charts(viewer, logs):
    response = viewer.get(REPORTS, {"dateFrom": "2025-11-01", "dateTo": "2025-11-07"})

    content = response.content.decode()
    assert response.status_code == 200
    days, hours, cameras, departments = (
        chart_data(content, chart) for chart in ("chart-days", "chart-hours", "chart-cameras", "chart-departments")
    )
    assert days["labels"] == [f"2025-11-0{day}" for day in range(1, 8)]
    present = days["series"][0]
    assert (present["label"], present["colour"]) == ("Present", "green")
    assert present["values"][days["labels"].index("2025-11-05")] == 2
    assert [series["label"] for series in days["series"]] == ["Present", "Late", "Missed"]
    assert len(hours["labels"]) == 24 and sum(hours["series"][0]["values"]) == 2
    assert cameras["horizontal"] and departments["horizontal"]
    assert "Security" in departments["labels"]
    assert "vendor/chart.js/chart.umd.min.js" in content and "argus/charts.js" in content


def test_pages_need_sign_in(client):
    assert client.get(LOGS).status_code == 302
    assert client.get(REPORTS).status_code == 302


def test_pages_need_attendance_read(client, db):
    client.force_login(role_user("ROLE-NONE", ["cameras:read"]))

    assert client.get(LOGS).status_code == 403
    assert client.get(REPORTS).status_code == 403


def test_both_pages_are_in_the_navigation(viewer):
    content = viewer.get("/").content.decode()

    assert 'href="/attendance/"' in content
    assert 'href="/attendance/reports/"' in content


@pytest.mark.parametrize("people", [5, 10])
def test_the_logs_page_costs_the_same_queries_however_many_logs(
    admin, lobby, corridor, people, django_assert_max_num_queries
):
    for number in range(people):
        seen(f"EMP-{number}", local(DAY, 9, number), lobby if number % 2 else corridor)

    with django_assert_max_num_queries(13):
        content = admin.get(LOGS).content.decode()

    assert content.count("data-log-id=") == people


@pytest.mark.parametrize("people", [5, 10])
def test_the_reports_page_costs_the_same_queries_however_many_logs(
    viewer, lobby, corridor, people, django_assert_max_num_queries
):
    for number in range(people):
        seen(f"EMP-{number}", local(DAY, 9, number), lobby if number % 2 else corridor, department=f"Dept {number}")

    with django_assert_max_num_queries(9):
        content = viewer.get(REPORTS, {"dateFrom": "2025-11-01", "dateTo": "2025-11-30"}).content.decode()

    assert all(f"Dept {number}" in content for number in range(people))
