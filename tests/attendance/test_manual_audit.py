"""A manual attendance entry is audited by the service that makes it, whoever calls it."""

from __future__ import annotations

import pytest

from accounts.models import AuditLog
from attendance import services
from tests.attendance.conftest import DAY, local
from tests.factories import FaceProfileFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_time_zone")]


def entry(**changes):
    fields = {"employee_id": "EMP-1", "name": "Grace Hopper", "department": "R&D", "timestamp": local(DAY, 10)}
    return services.record_manual_entry(**{**fields, **changes})


def test_a_new_log_is_audited_as_an_entry_by_its_actor():
    made = entry(status="present", actor="lead@example.com", actor_role="ROLE-SUPERVISOR")

    audit = AuditLog.objects.get(action="attendance_log.manual_entry")
    assert (audit.actor, audit.actor_role, audit.resource_id) == ("lead@example.com", "ROLE-SUPERVISOR", made.log.pk)
    assert audit.message == f"Manual attendance entry for EMP-1 on {DAY}: present"
    assert audit.context["before"] == {} and audit.context["after"]["status"] == "present"


def test_a_correction_is_audited_with_the_log_before_and_after():
    entry(status="present")

    entry(status="late", timestamp=local(DAY, 11), note="Badge forgotten")

    correction = AuditLog.objects.filter(action="attendance_log.manual_entry").order_by("timestamp", "id").last()
    assert correction.message.startswith("Manual attendance correction for EMP-1")
    assert correction.context["before"]["status"] == "present" and correction.context["after"]["status"] == "late"
    assert correction.context["after"]["note"] == "Badge forgotten"


def test_without_an_actor_it_is_the_systems():
    entry()

    assert AuditLog.objects.get(action="attendance_log.manual_entry").actor == "system"


def test_the_api_keeps_where_the_entry_came_from(writer_client):
    FaceProfileFactory(employee_id="EMP-1", name="Grace Hopper", department="Manufacturing")
    writer_client.post(
        "/api/v1/attendance/manual",
        {"employeeId": "EMP-1", "timestamp": "2025-11-05T03:00:00Z"},
        format="json",
        REMOTE_ADDR="10.1.2.3",
        HTTP_USER_AGENT="SPA/1.0",
    )

    audit = AuditLog.objects.get(action="attendance_log.manual_entry")
    assert (audit.ip_address, audit.user_agent) == ("10.1.2.3", "SPA/1.0")
