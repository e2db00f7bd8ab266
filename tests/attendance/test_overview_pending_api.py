"""GET /api/v1/attendance/overview (a day at a glance) and /attendance/pending (the Odoo backlog)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from attendance.models import AttendanceLog
from tests.attendance.conftest import DAY, local, seen
from tests.factories import AttendanceLogFactory, FaceProfileFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_time_zone")]


@pytest.fixture
def day(db):
    for number in range(1, 5):
        FaceProfileFactory(employee_id=f"EMP-{number}", name=f"Person {number}", department="Manufacturing")
    FaceProfileFactory(employee_id="EMP-9", name="Gone", status="archived", department="Manufacturing")
    seen("EMP-1", local(DAY, 8, 50))
    seen("EMP-2", local(DAY, 9, 30))
    AttendanceLog.objects.filter(employee_id="EMP-2").update(status="late", manual_override=True)
    AttendanceLogFactory(id="ATT-20251105-050", employee_id="EMP-3", name="P3", date=DAY, check_in=None)
    seen("EMP-1", local(DAY - timedelta(days=1), 9, 0))
    AttendanceLog.objects.filter(date=DAY - timedelta(days=1)).update(odoo_status="synced")


def test_overview_sums_up_the_day(viewer_client, day):
    data = viewer_client.get("/api/v1/attendance/overview", {"date": "2025-11-05"}).json()["data"]

    assert data["date"] == "2025-11-05"
    assert (data["totalEmployees"], data["present"], data["late"], data["missed"]) == (4, 1, 1, 1)
    assert data["notSeen"] == 1  # EMP-4
    assert data["attendanceRate"] == 50.0
    assert data["manualOverrides"] == 1
    assert data["onSite"] == 2
    assert data["odoo"] == {"pending": 3, "failed": 0, "synced": 1}
    assert data["lastSighting"] == "2025-11-05T02:30:00Z"


def test_overview_refuses_a_malformed_date(viewer_client):
    response = viewer_client.get("/api/v1/attendance/overview", {"date": "soon"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_pending_lists_logs_waiting_for_odoo_oldest_first(viewer_client, day):
    body = viewer_client.get("/api/v1/attendance/pending").json()

    assert body["meta"]["total"] == 3
    assert {item["odooStatus"] for item in body["data"]} == {"pending"}
    assert [item["employeeId"] for item in body["data"]] == ["EMP-1", "EMP-2", "EMP-3"]


def test_pending_takes_the_log_filters(viewer_client, day):
    body = viewer_client.get("/api/v1/attendance/pending", {"status": "missed"}).json()

    assert [item["employeeId"] for item in body["data"]] == ["EMP-3"]


def test_both_need_attendance_read(api_client):
    assert api_client.get("/api/v1/attendance/overview").status_code == 401
    assert api_client.get("/api/v1/attendance/pending").status_code == 401


@pytest.mark.parametrize("people", [5, 10])
def test_pending_costs_the_same_queries_however_many_logs(viewer_client, lobby, people, django_assert_max_num_queries):
    for number in range(people):
        seen(f"EMP-{number}", local(DAY, 9, number), lobby)

    with django_assert_max_num_queries(4):
        body = viewer_client.get("/api/v1/attendance/pending").json()

    assert len(body["data"]) == people


@pytest.mark.parametrize("people", [5, 10])
def test_overview_costs_the_same_queries_however_many_people(viewer_client, people, django_assert_max_num_queries):
    for number in range(people):
        FaceProfileFactory(employee_id=f"EMP-{number}")
        seen(f"EMP-{number}", local(DAY, 9, number))

    with django_assert_max_num_queries(9):
        data = viewer_client.get("/api/v1/attendance/overview", {"date": "2025-11-05"}).json()["data"]

    assert data["present"] + data["late"] == people
