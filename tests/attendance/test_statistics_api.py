"""GET /api/v1/attendance/statistics: by day, arrival hour, camera and department."""

from __future__ import annotations

from datetime import timedelta

import pytest

from attendance.models import AttendanceLog
from tests.attendance.conftest import DAY, local, seen
from tests.factories import AttendanceLogFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_time_zone")]

URL = "/api/v1/attendance/statistics"
WINDOW = {"dateFrom": "2025-11-04", "dateTo": "2025-11-05"}


@pytest.fixture
def logs(lobby, corridor):
    seen("EMP-1", local(DAY, 8, 50), lobby, department="Manufacturing")
    seen("EMP-2", local(DAY, 9, 20), corridor, department="Manufacturing")
    seen("EMP-3", local(DAY, 9, 40), lobby, department="Security")
    seen("EMP-1", local(DAY - timedelta(days=1), 8, 10), lobby, department="Manufacturing")
    AttendanceLog.objects.filter(employee_id="EMP-2").update(status="late")
    AttendanceLogFactory(
        id="ATT-20251104-009",
        employee_id="EMP-3",
        name="C",
        department="Security",
        day=DAY - timedelta(days=1),
        check_in=None,
    )


def test_it_counts_by_day(viewer_client, logs):
    body = viewer_client.get(URL, WINDOW).json()

    assert body["success"] is True
    assert body["data"]["byDay"] == [
        {"date": "2025-11-04", "present": 1, "late": 0, "missed": 1, "total": 2},
        {"date": "2025-11-05", "present": 2, "late": 1, "missed": 0, "total": 3},
    ]


def test_it_counts_arrivals_by_site_local_hour(viewer_client, logs):
    hours = viewer_client.get(URL, WINDOW).json()["data"]["byHour"]

    assert len(hours) == 24
    assert {row["hour"]: row["count"] for row in hours if row["count"]} == {8: 2, 9: 2}


def test_it_counts_by_camera(viewer_client, logs):
    cameras = viewer_client.get(URL, WINDOW).json()["data"]["byCamera"]

    assert cameras == [
        {"cameraId": "CAM-01", "cameraName": "Lobby", "count": 3},
        {"cameraId": "CAM-03", "cameraName": "R&D Corridor", "count": 1},
    ]


def test_it_counts_by_department(viewer_client, logs):
    departments = viewer_client.get(URL, WINDOW).json()["data"]["byDepartment"]

    assert departments[0] == {
        "department": "Manufacturing",
        "present": 2,
        "late": 1,
        "missed": 0,
        "total": 3,
        "attendanceRate": 100.0,
    }
    assert departments[1]["department"] == "Security"
    assert departments[1]["attendanceRate"] == 50.0


def test_it_totals_the_window(viewer_client, logs):
    data = viewer_client.get(URL, WINDOW).json()["data"]

    assert data["totals"] == {"present": 3, "late": 1, "missed": 1, "total": 5, "attendanceRate": 80.0}
    assert (data["dateFrom"], data["dateTo"]) == ("2025-11-04", "2025-11-05")


def test_the_log_filters_apply(viewer_client, logs):
    data = viewer_client.get(URL, {**WINDOW, "cameraId": "CAM-03"}).json()["data"]

    assert data["totals"]["total"] == 1


def test_group_by_asks_for_one_breakdown(viewer_client, logs):
    data = viewer_client.get(URL, {**WINDOW, "groupBy": "camera"}).json()["data"]

    assert "byCamera" in data
    assert not {"byDay", "byHour", "byDepartment"} & set(data)


def test_an_unknown_group_is_a_validation_error(viewer_client):
    response = viewer_client.get(URL, {"groupBy": "weather"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_without_dates_it_covers_the_last_thirty_days(viewer_client, logs):
    data = viewer_client.get(URL).json()["data"]

    assert len(data["byDay"]) == 30
    assert data["byDay"][-1]["date"] == data["dateTo"]


def test_it_needs_attendance_read(api_client):
    assert api_client.get(URL).status_code == 401


@pytest.mark.parametrize("people", [5, 10])
def test_it_costs_the_same_queries_however_many_logs(
    viewer_client, lobby, corridor, people, django_assert_max_num_queries
):
    for number in range(people):
        seen(f"EMP-{number}", local(DAY, 8, number), lobby if number % 2 else corridor, department=f"Dept {number}")

    with django_assert_max_num_queries(7):
        body = viewer_client.get(URL, WINDOW).json()

    assert len(body["data"]["byDepartment"]) == people
