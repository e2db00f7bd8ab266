"""A person's history handed out as an export is audited as a read of that person (issue 20)."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from accounts.models import AuditLog
from attendance.choices import ExportStatus, ExportType
from tests.factories import ExportJobFactory

pytestmark = pytest.mark.django_db


def history_job(user, status=ExportStatus.COMPLETED):
    key = default_storage.save("exports/history/job.csv", ContentFile(b"employeeId\nEMP-SEEN\n"))
    return ExportJobFactory(
        user=user,
        type=ExportType.HISTORY,
        filters={"employeeId": "EMP-SEEN"},
        status=status,
        s3_key=key if status == ExportStatus.COMPLETED else "",
        completed_at=timezone.now(),
    )


def test_handing_out_a_history_download_is_audited(admin_client, admin_user):
    job = history_job(admin_user)

    data = admin_client.get(f"/api/v1/attendance/export/{job.pk}").json()["data"]

    assert data["downloadUrl"]
    [entry] = AuditLog.objects.filter(action="person_history.download")
    assert entry.context["employee_id"] == "EMP-SEEN" and entry.resource_id == str(job.pk)


def test_a_history_job_without_a_file_yet_is_no_read(admin_client, admin_user):
    job = history_job(admin_user, status=ExportStatus.PROCESSING)

    admin_client.get(f"/api/v1/attendance/export/{job.pk}")

    assert not AuditLog.objects.filter(action="person_history.download").exists()


def test_the_person_filter_finds_the_history_export_request(admin_client):
    admin_client.post("/api/v1/history/person/EMP-SEEN/export", {"format": "csv"}, format="json")
    admin_client.post("/api/v1/history/person/EMP-ELSE/export", {"format": "csv"}, format="json")

    items = admin_client.get("/api/v1/audit", {"employeeId": "EMP-SEEN"}).json()["data"]

    assert items and all("EMP-SEEN" in item["message"] or item["resourceId"] == "EMP-SEEN" for item in items)
    assert not any(item.get("resourceId") == "EMP-ELSE" for item in items)
