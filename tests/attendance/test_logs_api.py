"""GET /api/v1/attendance/logs: 001's filters, pagination, envelope and camelCase."""

from __future__ import annotations

from datetime import timedelta

import pytest

from attendance.models import AttendanceLog
from tests.attendance.conftest import DAY, local, seen
from tests.conftest import role_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_time_zone")]

URL = "/api/v1/attendance/logs"


@pytest.fixture
def logs(lobby, corridor):
    """Four logs over two days, two cameras, two departments; one synced to Odoo."""
    seen("EMP-00412", local(DAY, 9, 0), lobby, name="Sophia Martinez", department="Manufacturing")
    seen("EMP-00412", local(DAY, 17, 30), corridor, name="Sophia Martinez", department="Manufacturing")
    seen("EMP-00007", local(DAY, 9, 30), corridor, name="James Bond", department="Security")
    seen("EMP-00412", local(DAY - timedelta(days=1), 8, 0), lobby, name="Sophia Martinez")
    synced = seen("EMP-00099", local(DAY - timedelta(days=1), 8, 30), lobby, name="Ada Lovelace", department="R&D")
    AttendanceLog.objects.filter(pk=synced.pk).update(odoo_status="synced")


def ids(response) -> list[str]:
    return [item["employeeId"] + "@" + item["date"] for item in response.json()["data"]]


def test_it_lists_logs_in_the_001_shape(viewer_client, logs):
    response = viewer_client.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    item = next(row for row in body["data"] if row["employeeId"] == "EMP-00412" and row["date"] == "2025-11-05")
    assert item["id"] == "ATT-20251105-001"
    assert item["name"] == "Sophia Martinez"
    assert item["department"] == "Manufacturing"
    assert (item["timeIn"], item["timeOut"]) == ("09:00:00", "17:30:00")  # site-local wall clock
    assert (item["checkIn"], item["checkOut"]) == ("2025-11-05T02:00:00Z", "2025-11-05T10:30:00Z")
    assert (item["cameraId"], item["cameraName"], item["accuracy"]) == ("CAM-01", "Lobby", 99.2)
    assert (item["status"], item["odooStatus"], item["odooSyncTime"]) == ("present", "pending", None)
    assert item["manualOverride"] is False


def test_newest_day_first(viewer_client, logs):
    assert ids(viewer_client.get(URL)) == [
        "EMP-00007@2025-11-05",
        "EMP-00412@2025-11-05",
        "EMP-00099@2025-11-04",
        "EMP-00412@2025-11-04",
    ]


def test_it_paginates_with_meta(viewer_client, logs):
    body = viewer_client.get(URL, {"page": 2, "pageSize": 3}).json()

    assert body["meta"] == {"page": 2, "pageSize": 3, "total": 4, "totalPages": 2}
    assert len(body["data"]) == 1


def test_it_refuses_a_bad_page_size(viewer_client):
    response = viewer_client.get(URL, {"pageSize": 0})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_search_matches_name_employee_id_and_department(viewer_client, logs):
    assert ids(viewer_client.get(URL, {"search": "bond"})) == ["EMP-00007@2025-11-05"]
    assert ids(viewer_client.get(URL, {"search": "00099"})) == ["EMP-00099@2025-11-04"]
    assert ids(viewer_client.get(URL, {"search": "securi"})) == ["EMP-00007@2025-11-05"]


def test_camera_id_filters(viewer_client, logs):
    assert ids(viewer_client.get(URL, {"cameraId": "CAM-03"})) == ["EMP-00007@2025-11-05"]


def test_date_range_filters_site_local_days(viewer_client, logs):
    assert len(ids(viewer_client.get(URL, {"dateFrom": "2025-11-05"}))) == 2
    assert len(ids(viewer_client.get(URL, {"dateTo": "2025-11-04"}))) == 2
    assert len(ids(viewer_client.get(URL, {"dateFrom": "2025-11-04", "dateTo": "2025-11-04"}))) == 2


def test_a_date_time_bound_counts_as_its_site_local_day(viewer_client, logs):
    # 20:00 UTC on the 4th is 03:00 on the 5th at the site.
    assert len(ids(viewer_client.get(URL, {"dateFrom": "2025-11-04T20:00:00Z"}))) == 2


def test_odoo_status_filters(viewer_client, logs):
    assert ids(viewer_client.get(URL, {"odooStatus": "synced"})) == ["EMP-00099@2025-11-04"]


def test_status_department_and_employee_filter(viewer_client, logs, settings):
    AttendanceLog.objects.filter(employee_id="EMP-00007").update(status="late")

    assert ids(viewer_client.get(URL, {"status": "late"})) == ["EMP-00007@2025-11-05"]
    assert ids(viewer_client.get(URL, {"department": "r&d"})) == ["EMP-00099@2025-11-04"]
    assert len(ids(viewer_client.get(URL, {"employeeId": "EMP-00412"}))) == 2


def test_filters_combine(viewer_client, logs):
    assert ids(viewer_client.get(URL, {"cameraId": "CAM-01", "dateFrom": "2025-11-05"})) == ["EMP-00412@2025-11-05"]


def test_an_unknown_status_is_a_validation_error(viewer_client):
    response = viewer_client.get(URL, {"odooStatus": "lost"})

    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == "VALIDATION_ERROR"


def test_a_malformed_date_is_a_validation_error(viewer_client):
    assert viewer_client.get(URL, {"dateFrom": "yesterday"}).status_code == 400


def test_a_reversed_date_range_is_a_validation_error(viewer_client):
    assert viewer_client.get(URL, {"dateFrom": "2025-11-05", "dateTo": "2025-11-01"}).status_code == 400


def test_it_needs_authentication(api_client):
    response = api_client.get(URL)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AUTH_001"


def test_it_needs_attendance_read(db):
    response = role_client("ROLE-CAMERAS-ONLY", ["cameras:read"]).get(URL)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "AUTH_003"


def test_query_count_does_not_grow_with_rows(viewer_client, logs, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        assert viewer_client.get(URL, {"pageSize": 200}).status_code == 200
