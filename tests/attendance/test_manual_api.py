"""POST /api/v1/attendance/manual: an operator's entry, marked manual and audited."""

from __future__ import annotations

from datetime import time

import pytest

from accounts.models import AuditLog
from attendance.models import AttendanceLog
from tests.attendance.conftest import DAY, local, seen
from tests.factories import FaceProfileFactory, ShiftScheduleFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_time_zone")]

URL = "/api/v1/attendance/manual"
SPEC_BODY = {
    "employeeId": "EMP-00123",
    "cameraId": "CAM-01",
    "timestamp": "2025-11-05T03:00:00Z",  # 10:00 at the site
    "status": "present",
    "note": "Manual entry",
}


@pytest.fixture
def person(db):
    return FaceProfileFactory(employee_id="EMP-00123", name="Grace Hopper", department="R&D")


def test_it_creates_the_days_log(writer_client, person, lobby):
    response = writer_client.post(URL, SPEC_BODY, format="json")

    assert response.status_code == 201
    item = response.json()["data"]
    assert item["id"] == "ATT-20251105-001"
    assert (item["employeeId"], item["name"], item["department"]) == ("EMP-00123", "Grace Hopper", "R&D")
    assert (item["date"], item["timeIn"], item["status"]) == ("2025-11-05", "10:00:00", "present")
    assert (item["cameraId"], item["note"], item["manualOverride"]) == ("CAM-01", "Manual entry", True)


def test_it_is_audited_with_what_was_entered(writer_client, person, lobby):
    writer_client.post(URL, SPEC_BODY, format="json")

    entry = AuditLog.objects.get(action="attendance_log.manual_entry")
    assert entry.resource_id == "ATT-20251105-001"
    assert entry.actor.endswith("@example.com")
    assert entry.context["created"] is True
    assert entry.context["after"]["status"] == "present"


def test_a_refused_entry_is_audited_too(viewer_client, person):
    viewer_client.post(URL, SPEC_BODY, format="json")

    assert AuditLog.objects.filter(resource_type="attendance_log", severity="warning").exists()


def test_it_corrects_an_existing_log(writer_client, person, lobby):
    seen(employee_id="EMP-00123", at=local(DAY, 9, 30), name="Grace Hopper", department="R&D")
    AttendanceLog.objects.update(status="late", odoo_status="synced")

    response = writer_client.post(URL, {**SPEC_BODY, "timestamp": "2025-11-05T01:55:00Z"}, format="json")

    assert response.status_code == 200
    log = AttendanceLog.objects.get()
    assert (log.status, log.manual_override, log.note) == ("present", True, "Manual entry")
    assert (log.check_in, log.check_out) == (local(DAY, 8, 55), local(DAY, 9, 30))
    assert log.odoo_status == "pending"  # Odoo gets the correction


def test_sending_the_same_entry_twice_leaves_one_log(writer_client, person, lobby):
    writer_client.post(URL, SPEC_BODY, format="json")
    response = writer_client.post(URL, SPEC_BODY, format="json")

    assert response.status_code == 200
    assert AttendanceLog.objects.count() == 1


def test_without_a_status_the_shift_rules_decide(writer_client, person):
    ShiftScheduleFactory(start_time=time(9, 0), grace_minutes=10)

    item = writer_client.post(URL, {"employeeId": "EMP-00123", "timestamp": "2025-11-05T03:00:00Z"}, format="json")

    assert item.json()["data"]["status"] == "late"


def test_a_missed_entry_has_no_times(writer_client, person):
    body = {"employeeId": "EMP-00123", "timestamp": "2025-11-05T03:00:00Z", "status": "missed"}

    item = writer_client.post(URL, body, format="json").json()["data"]

    assert (item["status"], item["timeIn"], item["timeOut"]) == ("missed", None, None)


def test_someone_not_enrolled_needs_a_name(writer_client):
    response = writer_client.post(URL, {**SPEC_BODY, "cameraId": None}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert not AttendanceLog.objects.exists()


def test_someone_not_enrolled_may_be_logged_by_name(writer_client):
    body = {**SPEC_BODY, "cameraId": None, "name": "Visiting Auditor", "department": "External"}

    assert writer_client.post(URL, body, format="json").status_code == 201


def test_an_unknown_camera_is_refused(writer_client, person):
    response = writer_client.post(URL, {**SPEC_BODY, "cameraId": "CAM-404"}, format="json")

    assert response.status_code == 400
    assert not AttendanceLog.objects.exists()


def test_an_unknown_status_is_refused(writer_client, person, lobby):
    assert writer_client.post(URL, {**SPEC_BODY, "status": "asleep"}, format="json").status_code == 400


def test_a_timestamp_is_required(writer_client, person):
    response = writer_client.post(URL, {"employeeId": "EMP-00123"}, format="json")

    assert response.status_code == 400
    assert "timestamp" in response.json()["error"]["details"]["fields"]


def test_it_needs_attendance_write(viewer_client, person, lobby):
    response = viewer_client.post(URL, SPEC_BODY, format="json")

    assert response.status_code == 403
    assert not AttendanceLog.objects.exists()


def test_a_correction_answers_what_the_document_says_for_200(writer_client, person, lobby):
    from tests.documented import assert_documented

    writer_client.post(URL, SPEC_BODY, format="json")
    response = writer_client.post(URL, SPEC_BODY, format="json")

    assert response.status_code == 200
    assert_documented(response, "/api/v1/attendance/manual")
