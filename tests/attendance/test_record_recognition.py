"""record_recognition: presence and the day's log from each recognition of an enrolled person."""

from __future__ import annotations

from datetime import timedelta

import pytest

from attendance.choices import OdooStatus, PresenceStatus
from attendance.models import AttendanceLog, AttendanceRecord
from tests.attendance.conftest import DAY, local, seen
from tests.factories import AttendanceLogFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("site_time_zone")]


def test_first_sighting_creates_the_days_log_with_time_in(lobby):
    log = seen(at=local(DAY, 8, 55), camera=lobby, accuracy=98.5)

    assert log.id == "ATT-20251105-001"
    assert (log.employee_id, log.name, log.department) == ("EMP-00412", "Sophia Martinez", "Manufacturing")
    assert log.date == DAY
    assert log.check_in == local(DAY, 8, 55)
    assert log.check_out is None  # one sighting: arrived, not yet seen again
    assert (log.camera_id, log.camera_name, log.accuracy) == ("CAM-01", "Lobby", 98.5)


def test_later_sightings_move_time_out_only(lobby, corridor):
    seen(at=local(DAY, 8, 55), camera=lobby, accuracy=98.5)
    seen(at=local(DAY, 12, 0), camera=corridor, accuracy=91.0)
    seen(at=local(DAY, 17, 30), camera=corridor, accuracy=95.0)

    log = AttendanceLog.objects.get()
    assert log.check_in == local(DAY, 8, 55)
    assert log.check_out == local(DAY, 17, 30)
    assert (log.camera_id, log.accuracy) == ("CAM-01", 98.5)  # the arrival's camera and accuracy


def test_a_sighting_delivered_late_still_sets_the_earlier_time_in(lobby, corridor):
    seen(at=local(DAY, 10, 0), camera=corridor)
    seen(at=local(DAY, 8, 0), camera=lobby)

    log = AttendanceLog.objects.get()
    assert (log.check_in, log.check_out) == (local(DAY, 8, 0), local(DAY, 10, 0))
    assert log.camera_id == "CAM-01"


def test_each_day_has_its_own_log():
    seen(at=local(DAY, 9, 0))
    seen(at=local(DAY + timedelta(days=1), 9, 0))

    assert list(AttendanceLog.objects.order_by("date").values_list("id", flat=True)) == [
        "ATT-20251105-001",
        "ATT-20251106-001",
    ]


def test_log_ids_number_the_days_logs_in_order():
    ids = [seen(employee_id=f"EMP-{n}", at=local(DAY, 9, n)).id for n in range(1, 4)]

    assert ids == ["ATT-20251105-001", "ATT-20251105-002", "ATT-20251105-003"]


def test_log_ids_keep_counting_past_999():
    AttendanceLogFactory(id="ATT-20251105-999", employee_id="EMP-X", day=DAY)
    AttendanceLogFactory(id="ATT-20251105-1000", employee_id="EMP-Y", day=DAY)

    assert seen(at=local(DAY, 9, 0)).id == "ATT-20251105-1001"


def test_presence_follows_the_latest_sighting(lobby, corridor):
    seen(at=local(DAY, 8, 55), camera=lobby, thumbnail="faces/a.jpg")
    seen(at=local(DAY, 10, 21, 4), camera=corridor, accuracy=97.0, thumbnail="faces/b.jpg")

    record = AttendanceRecord.objects.get(person_id="EMP-00412")
    assert record.status == PresenceStatus.ON_SITE
    assert (record.camera_id, record.camera_name, record.accuracy) == ("CAM-03", "R&D Corridor", 97.0)
    assert record.timestamp == local(DAY, 10, 21, 4)
    assert record.thumbnail == "faces/b.jpg"


def test_presence_is_not_moved_back_by_an_older_sighting(lobby, corridor):
    seen(at=local(DAY, 10, 0), camera=corridor)
    seen(at=local(DAY, 9, 0), camera=lobby)

    record = AttendanceRecord.objects.get()
    assert (record.timestamp, record.camera_id) == (local(DAY, 10, 0), "CAM-03")


def test_a_later_time_out_sends_a_synced_log_back_to_pending():
    log = seen(at=local(DAY, 9, 0))
    AttendanceLog.objects.filter(pk=log.pk).update(odoo_status=OdooStatus.SYNCED, odoo_attendance_id=77)

    seen(at=local(DAY, 17, 0))

    log.refresh_from_db()
    assert log.odoo_status == OdooStatus.PENDING
    assert log.odoo_attendance_id == 77  # kept: the next sync updates that Odoo record


def test_a_sighting_inside_the_known_times_leaves_a_synced_log_synced():
    seen(at=local(DAY, 9, 0))
    log = seen(at=local(DAY, 17, 0))
    AttendanceLog.objects.filter(pk=log.pk).update(odoo_status=OdooStatus.SYNCED)

    seen(at=local(DAY, 12, 0))

    log.refresh_from_db()
    assert log.odoo_status == OdooStatus.SYNCED


def test_a_failed_log_stays_failed_until_the_sync_retries_it():
    log = seen(at=local(DAY, 9, 0))
    AttendanceLog.objects.filter(pk=log.pk).update(odoo_status=OdooStatus.FAILED)

    seen(at=local(DAY, 17, 0))

    log.refresh_from_db()
    assert log.odoo_status == OdooStatus.FAILED


def test_the_camera_may_be_given_by_id(lobby):
    log = seen(at=local(DAY, 9, 0), camera="CAM-01")

    assert (log.camera_id, log.camera_name) == ("CAM-01", "Lobby")
