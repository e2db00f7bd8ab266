"""DELETE (and GET) /api/v1/attendance/{id}."""

from __future__ import annotations

import pytest

from accounts.models import AuditLog
from attendance.models import AttendanceLog
from tests.attendance.conftest import seen

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_time_zone")]


def test_it_deletes_a_log(writer_client):
    log = seen()

    response = writer_client.delete(f"/api/v1/attendance/{log.pk}")

    assert response.status_code == 204
    assert not AttendanceLog.objects.exists()


def test_a_deletion_is_audited(writer_client):
    log = seen()

    writer_client.delete(f"/api/v1/attendance/{log.pk}")

    entries = AuditLog.objects.filter(resource_type="attendance_log", resource_id=log.pk)
    assert entries.filter(action__endswith="delete").exists()


def test_deleting_an_unknown_log_is_not_found(writer_client):
    response = writer_client.delete("/api/v1/attendance/ATT-20990101-001")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


def test_deleting_needs_attendance_write(viewer_client):
    log = seen()

    assert viewer_client.delete(f"/api/v1/attendance/{log.pk}").status_code == 403
    assert AttendanceLog.objects.exists()


def test_it_reads_one_log(viewer_client):
    log = seen()

    body = viewer_client.get(f"/api/v1/attendance/{log.pk}").json()

    assert body["data"]["id"] == log.pk
    assert body["data"]["employeeId"] == "EMP-00412"
